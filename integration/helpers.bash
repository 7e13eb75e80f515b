# Shared helpers for hippo's Bats suites. Suites are run by hack/run-tests.sh, which exports
# HIPPO_BIN, HIPPO_SHIM and HIPPO_BUILD; run alone, they default to ./build.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HIPPO_BUILD=${HIPPO_BUILD:-$REPO_ROOT/build}
HIPPO_BIN=${HIPPO_BIN:-$HIPPO_BUILD/bin/hippo}
HIPPO_SHIM=${HIPPO_SHIM:-$HIPPO_BUILD/bin/containerd-shim-hippo-v2}
export REPO_ROOT HIPPO_BUILD HIPPO_BIN HIPPO_SHIM

# hippo with a private state root and no system config, so tests never touch /run/hippo or
# /etc/hippo and never see each other's containers.
hippo() {
  HIPPO_CONFIG=${HIPPO_TEST_CONFIG:-/dev/null} "$HIPPO_BIN" --root "$BATS_TEST_TMPDIR/state" "$@"
}

# A bundle dir holding `hippo spec`'s config.json and an empty rootfs.
make_bundle() {
  local dir=$1
  mkdir -p "$dir/rootfs"
  (cd "$dir" && hippo spec)
}

# --- busybox bundles for runtime tests ------------------------------------------------------

# Builds the busybox rootfs once per test file (hack/make-test-images.sh) into
# $BATS_FILE_TMPDIR/images; call from setup_file.
# HIPPO_TEST_IMAGES names images built once for several files (hack/test-cgroup2.sh does so:
# under emulation each build costs seconds); tests only read them.
build_busybox_rootfs() {
  if [ -n "${HIPPO_TEST_IMAGES:-}" ] && [ -d "$HIPPO_TEST_IMAGES/busybox-rootfs" ]; then
    ln -s "$HIPPO_TEST_IMAGES" "$BATS_FILE_TMPDIR/images"
    return
  fi
  "$REPO_ROOT/hack/make-test-images.sh" "$BATS_FILE_TMPDIR/images" >/dev/null
}

# A unique name per test: container ids and cgroups never collide between tests or runs.
test_name() {
  echo "hippo-t$$-${BATS_TEST_NUMBER}${1:+-$1}"
}

# busybox_bundle DIR [ARGS...]: a bundle running ARGS (default: sh -c 'echo hello') without a
# terminal, on a private copy of the busybox rootfs, with its own cgroup path.
busybox_bundle() {
  local dir=$1
  shift
  local args='["sh","-c","echo hello"]'
  if [ $# -gt 0 ]; then args=$(printf '%s\n' "$@" | jq -R . | jq -s -c .); fi
  mkdir -p "$dir"
  cp -a "$BATS_FILE_TMPDIR/images/busybox-rootfs" "$dir/rootfs"
  (cd "$dir" && hippo spec)
  local cg
  cg="/$(test_name "$(basename "$dir")")"
  jq --argjson args "$args" --arg cg "$cg" \
    '.process.terminal = false | .process.args = $args | .linux.cgroupsPath = $cg' \
    "$dir/config.json" >"$dir/config.tmp"
  mv "$dir/config.tmp" "$dir/config.json"
}

# edit_config DIR JQ_FILTER [JQ_ARGS...]: changes the bundle's config.json in place.
edit_config() {
  local dir=$1 filter=$2
  shift 2
  jq "$@" "$filter" "$dir/config.json" >"$dir/config.tmp" && mv "$dir/config.tmp" "$dir/config.json"
}

cgroup_path_of() {
  jq -r '.linux.cgroupsPath' "$1/config.json"
}

# True on a pure cgroup v2 host (the VM of `make test-cgroup2`), false on a v1 or hybrid one.
cgroup_v2() {
  [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]
}

# cgroup_file BUNDLE CONTROLLER FILE: the path of FILE in the container's cgroup; on v1 in the
# hierarchy of CONTROLLER, on v2 in the one directory.
cgroup_file() {
  local p
  p=$(cgroup_path_of "$1")
  if cgroup_v2; then echo "/sys/fs/cgroup$p/$3"; else echo "/sys/fs/cgroup/$2$p/$3"; fi
}

# blkio_weight_file BUNDLE: the file that takes the blkio weight in the container's cgroup, the
# first of those hippo tries that exists (v1 blkio.weight, blkio.bfq.weight; v2 io.bfq.weight,
# io.weight); fails when there is none. Kernels have them only where a disk is served by a
# scheduler with weights (CFQ, BFQ) or, on v2, blk-iocost gives io.weight.
blkio_weight_file() {
  local f candidates
  if cgroup_v2; then candidates="io.bfq.weight io.weight"; else candidates="blkio.weight blkio.bfq.weight"; fi
  for f in $candidates; do
    f=$(cgroup_file "$1" blkio "$f")
    [ -f "$f" ] && { echo "$f"; return 0; }
  done
  return 1
}

# blkio_weight_is FILE WEIGHT <TEXT: whether TEXT, read from the weight file FILE, holds the blkio
# weight WEIGHT ("300", BFQ's "default 300", or on v2 io.weight's "default 2930": runc's map).
blkio_weight_is() {
  local w=$2
  case $1 in
    */io.weight) w=$((1 + (w - 10) * 9999 / 990)) ;;
  esac
  sed -n 's/^default //p; /^[0-9][0-9]*$/p' | grep -qx "$w"
}

# Starts a created container's init without tying bats' output pipes to it.
hippo_create() {
  hippo create "$@" </dev/null >"$BATS_TEST_TMPDIR/create.out" 2>&1 || {
    cat "$BATS_TEST_TMPDIR/create.out" >&2
    return 1
  }
}

# Polls `hippo state ID` until its status is $2 (bounded: 10 s).
wait_status() {
  local id=$1 want=$2 i
  for i in $(seq 100); do
    [ "$(hippo state "$id" 2>/dev/null | jq -r .status)" = "$want" ] && return 0
    sleep 0.1
  done
  echo "container $id never reached status $want (now: $(hippo state "$id" 2>&1))" >&2
  return 1
}

# Nothing of container ID with bundle DIR remains: state dir, cgroups, mounts, processes.
assert_no_leaks() {
  local id=$1 dir=$2 cg c
  cg=$(cgroup_path_of "$dir")
  if [ -e "$BATS_TEST_TMPDIR/state/$id" ]; then
    echo "leak: state dir $BATS_TEST_TMPDIR/state/$id" >&2
    return 1
  fi
  for c in /sys/fs/cgroup/ /sys/fs/cgroup/*/; do
    if [ -d "$c${cg#/}" ] && [ "$c${cg#/}" != "$c" ]; then
      echo "leak: cgroup $c${cg#/}" >&2
      return 1
    fi
  done
  if grep -qF "$dir" /proc/self/mountinfo; then
    echo "leak: mounts under $dir" >&2
    grep -F "$dir" /proc/self/mountinfo >&2
    return 1
  fi
}

# Removes whatever a failed test left (containers of this test's state root, their cgroups).
cleanup_containers() {
  local id
  [ -d "$BATS_TEST_TMPDIR/state" ] || return 0
  for id in $(ls "$BATS_TEST_TMPDIR/state"); do
    hippo delete --force "$id" >/dev/null 2>&1 || true
  done
}

# Polls CMD... until it succeeds (bounded: 10 s).
eventually() {
  local i
  for i in $(seq 100); do
    "$@" && return 0
    sleep 0.1
  done
  echo "never true: $*" >&2
  return 1
}

# For the suites that drive a private containerd from setup_file: start_private_containerd
# [NS...] starts one in $CTRD_DIR whose shims (this build's, on its PATH) read $HIPPO_CONFIG,
# and imports the busybox test image into each namespace (default: $NS).
start_private_containerd() {
  "$REPO_ROOT/hack/make-test-images.sh" "$BATS_FILE_TMPDIR/images" >/dev/null
  PATH=$HIPPO_BUILD/bin:$PATH "$REPO_ROOT/hack/private-containerd.sh" start "$CTRD_DIR" >/dev/null
  export CONTAINERD_ADDRESS=$CTRD_DIR/containerd.sock
  local ns
  for ns in "${@:-$NS}"; do
    ctr -n "$ns" images import "$BATS_FILE_TMPDIR/images/busybox-oci.tar" >/dev/null
  done
}

# stop_private_containerd [NS...]: stops it and removes the namespaces' cgroup parents and
# their (empty) dirs under the shim's default state root, which the shim keeps as runc keeps
# its root.
stop_private_containerd() {
  "$REPO_ROOT/hack/private-containerd.sh" stop "$CTRD_DIR" >/dev/null || true
  local ns
  for ns in "${@:-$NS}"; do
    rmdir /sys/fs/cgroup/*/"$ns" /sys/fs/cgroup/"$ns" "/run/hippo/containerd/$ns" 2>/dev/null || true
  done
}
