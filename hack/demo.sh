#!/usr/bin/env bash
# hippo's demo: a busybox container run by hippo's own runtime, from a bundle that `hippo spec`
# writes. The shim step turns this into: start a private containerd and
# `ctr run --runtime io.containerd.hippo.v2` a busybox container.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
hippo=$build/bin/hippo
work=$(mktemp -d /tmp/hippo-demo.XXXXXX)
trap 'rm -rf --one-file-system -- "$work"' EXIT

if [[ -t 1 ]]; then
  say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
else
  say() { printf '\n$ %s\n' "$*"; }
fi

say "hippo --version"
"$hippo" --version

say "hack/make-test-images.sh   # busybox rootfs + OCI image, from Debian's busybox-static"
"$root/hack/make-test-images.sh" "$build/images" | sed 's/^/  /'

mkdir -p "$work/bundle"
cp -a "$build/images/busybox-rootfs" "$work/bundle/rootfs"
cd "$work/bundle"
say "hippo spec   # in $work/bundle"
HIPPO_CONFIG=/dev/null "$hippo" spec
jq '{ociVersion, process: {args: .process.args, cwd: .process.cwd}, root, hostname,
        namespaces: [.linux.namespaces[].type]}' config.json

say "hippo validate"
HIPPO_CONFIG=/dev/null "$hippo" validate

jq --arg cg "/hippo-demo-$$" '.process.terminal = false | .linux.cgroupsPath = $cg
    | .process.args = ["sh", "-c", "echo hello from $(hostname), pid $$; cat /sys/fs/cgroup/memory/memory.limit_in_bytes"]
    | .linux.resources.memory = {"limit": 67108864}' config.json >config.new && mv config.new config.json
say "hippo run demo   # sh in new namespaces, pivot_root'ed into busybox, 64 MiB memory limit"
HIPPO_CONFIG=/dev/null "$hippo" --root "$work/state" run demo

say "jq '.linux.resources.memory.limit = \"1G\"' … && hippo create demo   # a typo engines make"
jq '.linux.resources.memory = {"limit": "1G"}' config.json >config.bad && mv config.bad config.json
HIPPO_CONFIG=/dev/null "$hippo" --root "$work/state" create demo || true

say "hippo features | jq '{ociVersionMin, ociVersionMax, hooks, namespaces: .linux.namespaces}'"
HIPPO_CONFIG=/dev/null "$hippo" features |
  jq '{ociVersionMin, ociVersionMax, hooks, namespaces: .linux.namespaces, annotations}'

printf '\nhippo runs containers with its own runtime today; containerd reaches it with the shim\n'
printf 'step (see README.md, "Status").\n'
