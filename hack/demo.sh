#!/usr/bin/env bash
# hippo's demo: a private containerd (state in a temp dir, its own socket) runs busybox
# containers with runtime io.containerd.hippo.v2, and the shim's memory is shown next to
# runc-v2's for the same container. Then `hippo run`, the runc-compatible CLI, alone.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
work=$(mktemp -d /tmp/hippo-demo.XXXXXX)
ns=hippo-demo-$$
image=docker.io/hippo/busybox:latest
export CONTAINERD_ADDRESS=$work/ctrd/containerd.sock HIPPO_CONFIG=/dev/null

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

if [[ -t 1 ]]; then
  say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
else
  say() { printf '\n$ %s\n' "$*"; }
fi

memory_line() {  # "RSS / PSS / USS" of a process (hack/lib-memory.sh)
  local rss pss uss
  read -r rss pss uss <<<"$(memory_of "$1")"
  printf 'RSS %6d kB   PSS %6d kB   USS %6d kB\n' "$rss" "$pss" "$uss"
}

"$root/hack/make-test-images.sh" "$build/images" >/dev/null
say "containerd (private: $work/ctrd), image $image imported from hack/make-test-images.sh"
PATH=$build/bin:$PATH "$root/hack/private-containerd.sh" start "$work/ctrd" >/dev/null
ctr -n "$ns" images import "$build/images/busybox-oci.tar" >/dev/null
ctr version | sed -n '1,3p;6,8p'

say "ctr run --rm --runtime io.containerd.hippo.v2 $image demo sh -c '…; exit 3'"
set +e
ctr -n "$ns" run --rm --runtime io.containerd.hippo.v2 --fifo-dir "$work/fifo" "$image" demo \
  sh -c 'echo "hello from a hippo container: pid $$, hostname $(hostname), $(wc -l < /proc/mounts) mounts"; exit 3'
echo "exit status: $?"
set -e

say "one sleeping container per shim: memory of containerd-shim-hippo-v2 vs containerd-shim-runc-v2"
ctr -n "$ns" run -d --runtime io.containerd.hippo.v2 --fifo-dir "$work/fifo" "$image" mem-hippo sleep 1000 >/dev/null
ctr -n "$ns" run -d --runc-root "$work/runc" --fifo-dir "$work/fifo" "$image" mem-runc sleep 1000 >/dev/null
hippo_shim=$(pgrep -f "containerd-shim-hippo-v2 .*-namespace $ns .*-id mem-hippo " | head -1)
runc_shim=$(pgrep -f "containerd-shim-runc-v2 .*-namespace $ns .*-id mem-runc " | head -1)
sleep 1  # a hippo shim gives memory back 0.5 s after its last request
echo "hippo shim: $(memory_line "$hippo_shim")"
echo "runc  shim: $(memory_line "$runc_shim")"
echo "(USS = Private_Clean + Private_Dirty, pages no other process maps; with one shim, its code too,
 which every further shim shares; RSS counts all of it. make bench: 1, 10, 50 shims)"
ctr -n "$ns" task ls

say "hippo run (the runc-compatible CLI, no containerd): busybox with a 64 MiB memory limit"
mkdir -p "$work/bundle"
cp -a "$build/images/busybox-rootfs" "$work/bundle/rootfs"
(cd "$work/bundle" && "$build/bin/hippo" spec)
jq --arg cg "/hippo-demo-cli-$$" '.process.terminal = false | .linux.cgroupsPath = $cg
    | .process.args = ["sh", "-c", "echo hello from $(hostname), pid $$, limit $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"]
    | .linux.resources.memory = {"limit": 67108864}' "$work/bundle/config.json" >"$work/config.json"
mv "$work/config.json" "$work/bundle/config.json"
"$build/bin/hippo" --root "$work/state" run -b "$work/bundle" demo-cli
