#!/usr/bin/env bash
# Benchmark (not a test): containerd-shim-hippo-v2 against containerd-shim-runc-v2 + runc in
# one private containerd: `ctr run --rm` of /bin/true, `ctr task exec` of /bin/true, and shim
# memory (RSS, PSS and USS per shim, hack/lib-memory.sh) with N sleeping containers each, one
# per shim. Prints medians and ratios.
# Usage: hack/bench-shim.sh [BUILD_DIR] [RUNS] [N...]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runs=${2:-50}
shift $(( $# > 2 ? 2 : $# ))
counts=("${@:-1 10 50}")
read -r -a counts <<<"${counts[*]}"
work=$(mktemp -d /tmp/hippo-bench-shim.XXXXXX)
ns=bench-$$
image=docker.io/hippo/busybox:latest
# What a host keeps under /run on a tmpfs is on a tmpfs here too: containerd's state (bundles,
# HIPPO_CONTAINERD_STATE_TMPFS) and, beside it on that tmpfs, hippo's state root, runc's root and
# the FIFOs. This VM's /run and /tmp are ext4 mounted with discard, where each unlink or rename
# costs 0.1-0.25 ms (docs/performance.md). private-containerd.sh's stop unmounts it.
run=$work/ctrd/state/bench
printf 'state_root: %s/hippo\n' "$run" >"$work/config.yaml"
export CONTAINERD_ADDRESS=$work/ctrd/containerd.sock HIPPO_CONFIG=$work/config.yaml
export HIPPO_CONTAINERD_STATE_TMPFS=1

# shellcheck source=hack/lib-ctr.sh
source "$root/hack/lib-ctr.sh"
# shellcheck source=hack/lib-memory.sh
source "$root/hack/lib-memory.sh"

cleanup() {
  ctr_remove_all "$ns"
  "$root/hack/private-containerd.sh" stop "$work/ctrd" >/dev/null 2>&1 || true
  rmdir /sys/fs/cgroup/*/"$ns" 2>/dev/null || true
  rm -rf --one-file-system -- "$work"
}
trap cleanup EXIT

"$root/hack/make-test-images.sh" "$build/images" >/dev/null
PATH=$build/bin:$PATH "$root/hack/private-containerd.sh" start "$work/ctrd" >/dev/null
ctr -n "$ns" images import "$build/images/busybox-oci.tar" >/dev/null

c="ctr -n $ns"
hippo_rt="--runtime io.containerd.hippo.v2"
runc_rt="--runtime io.containerd.runc.v2 --runc-root $run/runc"
fifo="--fifo-dir $run/fifo"

hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/run.json" \
  -n hippo "$c run --rm $hippo_rt $fifo $image r-hippo /bin/true" \
  -n runc "$c run --rm $runc_rt $fifo $image r-runc /bin/true" >&2

$c run -d $hippo_rt $fifo "$image" x-hippo sleep 100000 >/dev/null
$c run -d $runc_rt $fifo "$image" x-runc sleep 100000 >/dev/null
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/exec.json" \
  -n hippo "$c task exec $fifo --exec-id e x-hippo /bin/true" \
  -n runc "$c task exec $fifo --exec-id e x-runc /bin/true" >&2

ratio() {
  jq -r --arg what "$2" '(.results | map({(.command): .median}) | add) as $m
    | "\($what): hippo \($m.hippo * 1000 | . * 10 | round / 10) ms, runc-v2 \($m.runc * 1000 | . * 10 | round / 10) ms, ratio \(($m.hippo / $m.runc) * 100 | round / 100)"' "$1"
}
ratio "$work/run.json" "ctr run --rm /bin/true (median)"
ratio "$work/exec.json" "ctr task exec /bin/true (median)"

# Where the CPU of a `ctr run --rm` goes: ctr's own; containerd's own; what containerd reaps
# (the shim's `start` and `delete` runs); and the rest of the machine's busy time, which is the
# runtime's (the shim, runc, the container: a shim is not containerd's child once `start` exits).
busy_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
stat_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk -v f="$2" '{print $f + $(f + 1)}'; }
cpu_split() {  # cpu_split NAME RUNTIME_ARGS...
  local name=$1 n=40 pid busy0 self0 kids0 ctr_s
  shift
  pid=$(<"$work/ctrd/containerd.pid")
  busy0=$(busy_ticks) self0=$(stat_ticks "$pid" 12) kids0=$(stat_ticks "$pid" 14)
  # only `time`'s line is captured: ctr's own errors stay on stderr (fd 3)
  ctr_s=$( { TIMEFORMAT='%U %S'; time for ((i = 0; i < n; i++)); do
    $c run --rm "$@" $fifo "$image" "s-$name" /bin/true 2>&3; done; } 3>&2 2>&1 | awk '{print $1 + $2}')
  awk -v name="$name" -v n="$n" -v hz="$(getconf CLK_TCK)" -v ctr="$ctr_s" \
    -v busy="$(($(busy_ticks) - busy0))" -v self="$(($(stat_ticks "$pid" 12) - self0))" \
    -v kids="$(($(stat_ticks "$pid" 14) - kids0))" 'BEGIN {ms = 1000 / n;
    printf "CPU per ctr run --rm, %s: ctr %.1f ms, containerd %.1f ms, shim start+delete %.1f ms, the rest (the runtime) %.1f ms\n",
      name, ctr * ms, self / hz * ms, kids / hz * ms, (busy / hz - ctr - (self + kids) / hz) * ms}'
}
# shellcheck disable=SC2086 # the runtime's arguments are words
cpu_split hippo $hippo_rt
# shellcheck disable=SC2086
cpu_split runc-v2 $runc_rt

memory() {  # memory SHIM_NAME: "SHIMS RSS PSS USS", averages in kB over that runtime's shims
  shims_memory "$1" "$ns" |
    awk '$1 {printf "%d %.0f %.0f %.0f\n", $1, $2 / $1, $3 / $1, $4 / $1}'
}

ratio_of() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b ? a / b : 0}'; }

echo "shim memory, kB per shim (N sleeping containers, one per shim; USS = Private_Clean + Private_Dirty):"
printf '%5s  %-14s %5s %8s %8s %8s\n' N runtime shims RSS PSS USS
started=1  # x-hippo / x-runc already run
for n in "${counts[@]}"; do
  while ((started < n)); do
    $c run -d $hippo_rt $fifo "$image" "m-hippo-$started" sleep 100000 >/dev/null
    $c run -d $runc_rt $fifo "$image" "m-runc-$started" sleep 100000 >/dev/null
    started=$((started + 1))
  done
  sleep 1  # steady state: a hippo shim gives memory back 0.5 s after its last request
  read -r hn hr hp hu <<<"$(memory containerd-shim-hippo-v2)"
  read -r rn rr rp ru <<<"$(memory containerd-shim-runc-v2)"
  printf '%5s  %-14s %5s %8s %8s %8s\n' "$n" hippo "$hn" "$hr" "$hp" "$hu" "$n" runc-v2 "$rn" "$rr" "$rp" "$ru" \
    "$n" "hippo/runc-v2" "" "$(ratio_of "$hr" "$rr")" "$(ratio_of "$hp" "$rp")" "$(ratio_of "$hu" "$ru")"
done
