#!/usr/bin/env bash
# Benchmark (not a test): `hippo run` vs `runc run` (and `crun run`, with its cgroup manager
# disabled, since crun refuses this host's hybrid layout) of /bin/true from the same busybox
# bundle, side by side in one hyperfine run, with the unshare floor. Prints medians and the
# hippo/runc and hippo/floor ratios.
# Usage: hack/bench-run.sh [BUILD_DIR] [RUNS]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runs=${2:-200}
work=$(mktemp -d /tmp/hippo-bench.XXXXXX)
trap 'umount "$work/state" 2>/dev/null; rm -rf --one-file-system -- "$work"' EXIT
# The runtimes' state roots on a tmpfs of their own, as /run is on a host (their defaults are
# /run/hippo and /run/runc). This VM's /run is ext4 mounted with discard, where each unlink or
# rename over a file costs 0.1-0.25 ms: docs/performance.md gives hippo's figure there too.
mkdir -p "$work/state"
mount -t tmpfs -o mode=0700,size=64m hippo-bench-state "$work/state"

export HIPPO_CONFIG=/dev/null  # no /etc/hippo/config.yaml in the measurement
command -v hyperfine >/dev/null || { echo "bench: hyperfine missing (make deps)" >&2; exit 1; }
"$root/hack/make-test-images.sh" "$build/images" >/dev/null
mkdir -p "$work/bundle"
cp -a "$build/images/busybox-rootfs" "$work/bundle/rootfs"
(cd "$work/bundle" && HIPPO_CONFIG=/dev/null "$build/bin/hippo" spec)
# crun 1.8 refuses ociVersion 1.2.0 ("unknown version specified"): use what all three read.
jq --arg cg "/hippo-bench-$$" '.ociVersion = "1.0.2-dev" | .process.terminal = false | .process.args = ["/bin/true"]
    | .linux.cgroupsPath = $cg' "$work/bundle/config.json" >"$work/c" && mv "$work/c" "$work/bundle/config.json"

# The floor: the spec's namespaces (pid, network, ipc, uts, mount, as `hippo spec` writes them)
# made by unshare, /proc mounted, /bin/true run: no rootfs, cgroup or state of a container.
cmds=(
  -n hippo "$build/bin/hippo --root $work/state/hippo run -b $work/bundle bench-$$"
  -n runc "runc --root $work/state/runc run -b $work/bundle bench-$$"
  -n unshare "unshare --pid --net --ipc --uts --mount --fork --mount-proc /bin/true"
)
if command -v crun >/dev/null; then
  crun_cmd="crun --root $work/state/crun --cgroup-manager=disabled run -b $work/bundle bench-$$"
  if why=$($crun_cmd 2>&1); then
    cmds+=(-n crun "$crun_cmd")
  else
    echo "bench: crun left out: it cannot run on this host: $why" >&2
  fi
fi
hyperfine -N --warmup 10 --runs "$runs" --export-json "$work/result.json" "${cmds[@]}" >&2

jq -r '
  (.results | map({(.command): .median}) | add) as $m
  | (.results[] | "\(.command): median \(.median * 1000 | . * 100 | round / 100) ms"),
    "ratio hippo/runc: \(($m.hippo / $m.runc) * 100 | round / 100)",
    "ratio hippo/unshare floor: \(($m.hippo / $m.unshare) * 100 | round / 100)",
    (if $m.crun then "ratio hippo/crun: \(($m.hippo / $m.crun) * 100 | round / 100)" else empty end)
' "$work/result.json"
