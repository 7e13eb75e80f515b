#!/usr/bin/env bash
# hippo's static checks, with Debian 12's LLVM 16 tools (clang-format-16, clang-tidy-16):
#   format      every tracked C/C++ file matches .clang-format and has at most 600 lines (a unit
#               test: hack/run-tests.sh); a longer file holds more than one thing: split it
#   fix-format  rewrites the files that do not (`make format`)
#   tidy        clang-tidy with .clang-tidy's checks over every translation unit of BUILD_DIR
#               (its compile_commands.json); one finding fails (`make lint`, run by .ci/run)
# clang 16 knows C++23 as c++2b, and libstdc++ 12 declares std::expected only when
# __cpp_concepts >= 202002L, which clang 16 implements but does not announce (as hack/fuzz.sh).
# Usage: hack/lint.sh format|fix-format|tidy|all [BUILD_DIR]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-all}
build=${2:-$root/build}

need() {
  command -v "$1" >/dev/null || { echo "lint: $1 is missing (hack/install-deps.sh installs it)" >&2; exit 1; }
}

sources() {  # tracked C/C++ sources, minus generated or foreign code (none is tracked today)
  git -C "$root" ls-files -- '*.c' '*.cpp' '*.hpp' '*.h' | sed "s#^#$root/#"
}

check_format() {
  need clang-format-16
  local bad
  bad=$(sources | xargs clang-format-16 --style=file --dry-run 2>&1 | grep -oE '^[^:]+:[0-9]+:[0-9]+: (warning|error)' |
        cut -d: -f1 | sort -u || true)
  if [[ -n $bad ]]; then
    echo "lint: these files differ from .clang-format (make format fixes them):" >&2
    sed "s#^$root/#  #" <<<"$bad" >&2
    return 1
  fi
  local long
  long=$(sources | xargs wc -l | awk '$2 != "total" && $1 > 600 {print "  " $2 ": " $1 " lines"}')
  if [[ -n $long ]]; then
    echo "lint: files over 600 lines:" >&2
    sed "s#$root/##" <<<"$long" >&2
    return 1
  fi
  echo "lint: format: $(sources | wc -l) files match .clang-format, none over 600 lines"
}

fix_format() {
  need clang-format-16
  sources | xargs clang-format-16 --style=file -i
}

check_tidy() {
  need clang-tidy-16
  need run-clang-tidy-16
  [[ -f $build/compile_commands.json ]] || { echo "lint: no $build/compile_commands.json (run make first)" >&2; exit 1; }
  local log=$build/test-logs/clang-tidy.log
  mkdir -p "$(dirname "$log")"
  # The project's own translation units; protobuf-c and gRPC output is generated, not ours.
  local files
  files=$(python3 - "$build/compile_commands.json" "$root" <<'PY'
import json, sys
root = sys.argv[2] + "/"
for f in sorted({e["file"] for e in json.load(open(sys.argv[1]))}):
    if f.startswith(root) and not f[len(root):].startswith("build") and f.endswith(".cpp"):
        print(f)
PY
)
  if ! run-clang-tidy-16 -quiet -p "$build" -j "$(nproc)" \
      -extra-arg=-std=c++2b -extra-arg=-U__cpp_concepts -extra-arg=-D__cpp_concepts=202002L \
      $files >"$log" 2>&1; then
    grep -E '(warning|error):' "$log" | sort -u >&2 || true
    echo "lint: tidy: findings above (full log: $log)" >&2
    return 1
  fi
  echo "lint: tidy: $(wc -w <<<"$files") translation units clean"
}

case $what in
  format) check_format ;;
  fix-format) fix_format ;;
  tidy) check_tidy ;;
  all) check_format && check_tidy ;;
  *) echo "usage: hack/lint.sh format|fix-format|tidy|all [BUILD_DIR]" >&2; exit 2 ;;
esac
