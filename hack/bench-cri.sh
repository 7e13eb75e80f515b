#!/usr/bin/env bash
# Benchmark (not a test): what a kubelet waits for to get a pod's container running through
# containerd's CRI: RunPodSandbox + CreateContainer + StartContainer, runtime handler hippo
# against runc, in one private CRI environment (hack/cri-env.sh), sequential and 8 pods in
# parallel. Timed inside hippo-cri. Prints medians and ratios. HIPPO_CRI_GROUPING=node runs
# hippo's shim in node mode (config.yaml `grouping: node`: one daemon for every pod).
# Usage: hack/bench-cri.sh [BUILD_DIR] [PODS]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
pods=${2:-20}
work=$(mktemp -d /tmp/hippo-bench-cri.XXXXXX)
export HIPPO_BUILD=$build

cleanup() {
  "$root/hack/cri-env.sh" stop "$work" >/dev/null 2>&1 || true
  rm -rf --one-file-system -- "$work"
}
trap cleanup EXIT

HIPPO_PAUSE=$build/tests/hippo-pause "$root/hack/make-cri-images.sh" "$work/images" >/dev/null
HIPPO_CRI_IMAGES=$work/images "$root/hack/cri-env.sh" start "$work" >/dev/null
eval "$("$root/hack/cri-env.sh" env "$work")"
export CRI_ENDPOINT
cri=("$build/tests/hippo-cri" --timeout 120)
"${cri[@]}" PullImage '{"image":{"image":"docker.io/library/busybox:latest"}}' >/dev/null

containerd_pid=$(<"$work/ctrd/containerd.pid")
run() {  # run HANDLER PODS PARALLEL TAG
  "${cri[@]}" bench --handler "$1" --pods "$2" --parallel "$3" --prefix "$4-$1" \
    --cgroup-parent "$HIPPO_CRI_CGROUP_PARENT/$4-$1" --cpu-of "$containerd_pid"
}

for h in hippo runc; do run "$h" 2 1 warm >/dev/null; done  # pulls the pause image, warms caches

declare -A median
for h in hippo runc; do
  median[seq-$h]=$(run "$h" "$pods" 1 seq | tee "$work/seq-$h.json" | jq .median_ms)
done
for h in hippo runc; do
  median[par-$h]=$(run "$h" 24 8 par | tee "$work/par-$h.json" | jq .median_ms)
done

line() {  # line WHAT KEY
  printf '%s: hippo (grouping: %s) %.1f ms, runc %.1f ms, ratio %.2f\n' "$1" \
    "${HIPPO_CRI_GROUPING:-pod}" "${median[$2-hippo]}" \
    "${median[$2-runc]}" "$(jq -n "${median[$2-hippo]} / ${median[$2-runc]}")"
}
line "CRI RunPodSandbox+CreateContainer+StartContainer, sequential (median of $pods pods)" seq
line "CRI RunPodSandbox+CreateContainer+StartContainer, 8 in parallel (median of 24 pods)" par
# Where the CPU went while the pods started: containerd's with what it reaped (CNI plugins, the
# shims' `start`); the rest of the machine's is the runtime's (shims, runc, containers).
for run in seq par; do
  for h in hippo runc; do
    jq -r --arg h "$h" --arg run "$run" '.cpu_ms_per_pod | "CPU per pod, \($run), \($h): containerd (with what it reaped: CNI plugins, shim start) \(.containerd | .*10|round/10) ms, client \(.client | .*10|round/10) ms, the rest (the runtime) \(.machine - .containerd - .client | .*10|round/10) ms"' "$work/$run-$h.json"
  done
done
