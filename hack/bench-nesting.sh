#!/usr/bin/env bash
# Benchmark (not a test) for nesting (docs/nesting.md section 8), with the fixture of
# integration/nesting_helpers.bash:
#  (a) `hippo run` of /bin/true (busybox bundle, cgroupfs) inside a running nesting container,
#      hyperfine driven by `hippo exec outer hyperfine ...`, against the same run on the host
#      (goal: inner/host <= 1.2);
#  (b) create+start+delete of a nesting container against a plain one (same busybox bundle).
# The nesting containers carry only the annotation io.hippo.nesting=true (privileged variant).
# Usage: hack/bench-nesting.sh [BUILD_DIR] [RUNS]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runs=${2:-100}
command -v hyperfine >/dev/null || { echo "bench: hyperfine missing (make deps)" >&2; exit 1; }

# What the fixture expects from Bats (helpers.bash), for this one process.
REPO_ROOT=$root HIPPO_BUILD=$build HIPPO_BIN=$build/bin/hippo
export REPO_ROOT HIPPO_BUILD HIPPO_BIN
work=$(mktemp -d /tmp/hippo-bench-nest.XXXXXX)
BATS_TEST_TMPDIR=$work BATS_FILE_TMPDIR=$work
hippo() { HIPPO_CONFIG=${HIPPO_TEST_CONFIG:-/dev/null} "$HIPPO_BIN" --root "$work/state" "$@"; }
test_name() { echo "hippo-bench-$$${1:+-$1}"; }
hippo_create() { hippo create "$@" </dev/null >"$work/create.out" 2>&1 || { cat "$work/create.out" >&2; return 1; }; }
# shellcheck source=integration/nesting_helpers.bash
source "$root/integration/nesting_helpers.bash"

cleanup() {
  nest_teardown
  rm -rf --one-file-system -- "$work"
}
trap cleanup EXIT
nest_setup

"$root/hack/make-test-images.sh" "$work/images" >/dev/null

# (a) inner and host `hippo run` of /bin/true.
nest_outer outer "" '["tini","--","sleep","infinity"]'
NEST_IMAGES=$work/images nest_busybox_bundle "$HIPPO_BIN" "$work/host-bundle" "/hippo-bench-$$-host" "" /bin/true
nest_sh outer 'nest_busybox_bundle "$HIPPO" /tmp/b /bench-inner "" /bin/true' >/dev/null
hyperfine -N --warmup 10 --runs "$runs" --export-json "$work/host.json" -n host \
  "env HIPPO_CONFIG=/dev/null $HIPPO_BIN --root $work/host-state run -b $work/host-bundle bench" >&2
nest_sh outer 'hyperfine -N --warmup 10 --runs '"$runs"' --export-json '"$NEST_SHARE"'/inner.json -n inner \
  "env HIPPO_CONFIG=/dev/null $HIPPO --root /run/hippo run -b /tmp/b bench"' >&2
cp "$work/outer/share/inner.json" "$work/inner.json"
nest_delete_outer outer

# (b) create+start+delete, nesting vs plain, on copies of the same busybox bundle.
for kind in plain nesting; do
  NEST_IMAGES=$work/images nest_busybox_bundle "$HIPPO_BIN" "$work/$kind" "/hippo-bench-$$-$kind" "" sleep 1000
done
nest_mark "$work/nesting/config.json"
lifecycle() {
  echo "HIPPO_CONFIG=${HIPPO_TEST_CONFIG:-/dev/null} $HIPPO_BIN --root $work/lc-state create -b $work/$1 $1 </dev/null >/dev/null 2>&1 \
    && HIPPO_CONFIG=${HIPPO_TEST_CONFIG:-/dev/null} $HIPPO_BIN --root $work/lc-state start $1 \
    && HIPPO_CONFIG=${HIPPO_TEST_CONFIG:-/dev/null} $HIPPO_BIN --root $work/lc-state delete -f $1"
}
hyperfine --warmup 5 --runs "$runs" --export-json "$work/lifecycle.json" \
  -n plain "$(lifecycle plain)" -n nesting "$(lifecycle nesting)" >&2

jq -rs '
  (map(.results[]) | map({(.command): .median}) | add) as $m
  | (map(.results[])[] | "\(.command): median \(.median * 1000 | . * 100 | round / 100) ms"),
    "ratio inner/host hippo run: \(($m.inner / $m.host) * 100 | round / 100) (goal <= 1.2)",
    "ratio nesting/plain create+start+delete: \(($m.nesting / $m.plain) * 100 | round / 100)"
' "$work/host.json" "$work/inner.json" "$work/lifecycle.json"
