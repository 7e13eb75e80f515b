#!/usr/bin/env bash
# Runs hippo's test layers and prints one summary line per layer:
#   unit: N passed, N failed
#   integration: N passed, N failed, N skipped
# Usage: hack/run-tests.sh unit|integration|all [BUILD_DIR]
set -uo pipefail

layer=${1:-all}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${2:-$root/build}" && pwd)
logdir=$build/test-logs
mkdir -p "$logdir"
status=0
summaries=()

run_unit() {
  local log=$logdir/unit.log
  ctest --test-dir "$build" --output-on-failure -j"$(nproc)" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  # "100% tests passed, 0 tests failed out of 57"
  local line total failed
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
  failed=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  if [[ -z $line || -z $total ]]; then
    total=0 failed=1
    echo "unit: ctest printed no result line (see $log)" >&2
  fi
  [[ $rc -ne 0 && $failed -eq 0 ]] && failed=1
  # The tree matches .clang-format: one more unit test.
  total=$((total + 1))
  if ! "$root/hack/lint.sh" format; then
    failed=$((failed + 1))
  fi
  # The fuzz targets (fuzz/*.cpp) under libFuzzer for a bounded time each: one more unit test.
  total=$((total + 1))
  if ! FUZZ_SECONDS=${FUZZ_SECONDS:-10} "$root/hack/fuzz.sh" "$build"; then
    failed=$((failed + 1))
    echo "unit: a fuzz target failed (see the FAILED line above and $build/fuzz/<target>.log)" >&2
  fi
  summaries+=("unit: $((total - failed)) passed, $failed failed")
  [[ $rc -eq 0 && $failed -eq 0 ]] || status=1
}

run_integration() {
  local log=$logdir/integration.log
  local suites=("$root"/integration/*.bats "$root"/integration/*/*.bats)
  local present=()
  for s in "${suites[@]}"; do
    # needs a pure cgroup v2 host: it runs in the VM of `make test-cgroup2`
    [[ $s == */integration/cgroup2.bats ]] && continue
    [[ -f $s ]] && present+=("$s")
  done
  HIPPO_BUILD=$build HIPPO_BIN=$build/bin/hippo HIPPO_SHIM=$build/bin/containerd-shim-hippo-v2 \
    bats --tap "${present[@]}" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  # nesting.bats again in the user namespace variant (docs/nesting.md 7): containerd, Docker
  # and systemd inside an outer whose root has no host privilege.
  echo "# NEST_VARIANT=userns integration/nesting.bats" | tee -a "$log"
  NEST_VARIANT=userns HIPPO_BUILD=$build HIPPO_BIN=$build/bin/hippo \
    HIPPO_SHIM=$build/bin/containerd-shim-hippo-v2 \
    bats --tap "$root/integration/nesting.bats" 2>&1 | tee -a "$log"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || rc=1
  local passed failed skipped
  skipped=$(grep -cE '^ok [0-9]+ .*# skip' "$log")
  passed=$(( $(grep -cE '^ok [0-9]+' "$log") - skipped ))
  failed=$(grep -cE '^not ok [0-9]+' "$log")
  [[ $rc -ne 0 && $failed -eq 0 ]] && failed=1
  if (( passed + failed + skipped == 0 )); then
    echo "integration: bats ran no test" >&2
    failed=1
  fi
  summaries+=("integration: $passed passed, $failed failed, $skipped skipped")
  [[ $rc -eq 0 && $failed -eq 0 ]] || status=1
}

case $layer in
  unit) run_unit ;;
  integration) run_integration ;;
  all) run_unit; run_integration ;;
  *) echo "usage: $0 unit|integration|all [BUILD_DIR]" >&2; exit 2 ;;
esac

echo
for s in "${summaries[@]}"; do echo "$s"; done
exit $status
