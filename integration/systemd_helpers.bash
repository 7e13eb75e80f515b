# Helpers for the suites that run hippo inside a real systemd (hack/systemd-sandbox.sh).
# Each suite file boots its own sandbox in setup_file (sd_setup_file) and powers it off in
# teardown_file (sd_teardown_file). The sandbox has its own /run, /tmp and cgroup mounts, so
# bundles and state live in $SD_DIR under /var/tmp, seen from both sides, and cgroup files are
# read from inside, where paths are what they would be on a systemd host.

load helpers

SD_SCRIPT=$REPO_ROOT/hack/systemd-sandbox.sh
# HIPPO_SD_HOST=1: systemd is this machine's PID 1 (the cgroup v2 VM of `make test-cgroup2`):
# the suites use it directly instead of booting a sandbox.
SD_HOST=${HIPPO_SD_HOST:-0}

sd_setup_file() {
  # Unique per run and per file: parallel sessions and the two suites never share a sandbox.
  export SANDBOX_NAME="hippo-sd-$$-${1:?suite tag}"
  # The tree under test (and its build) stay visible inside even when they live under /tmp.
  export SANDBOX_SHARE="$REPO_ROOT $HIPPO_BUILD $(dirname "$HIPPO_BIN") $(dirname "$HIPPO_SHIM")"
  export SD_DIR="/var/tmp/hippo-test-$$-$1"
  rm -rf "$SD_DIR"
  mkdir -p "$SD_DIR"
  build_busybox_rootfs
  cp -a "$BATS_FILE_TMPDIR/images/busybox-rootfs" "$SD_DIR/rootfs"
  if [ "$SD_HOST" = 1 ]; then
    [ -d /run/systemd/system ] || { echo "HIPPO_SD_HOST=1 but systemd is not PID 1 here" >&2; return 1; }
  elif ! "$SD_SCRIPT" start >"$SD_DIR/sandbox.pid"; then
    echo "the systemd sandbox did not start (hack/systemd-sandbox.sh)" >&2
    return 1
  fi
  if [ "$(sd stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then export SD_V2=1; else export SD_V2=0; fi
}

sd_teardown_file() {
  [ "$SD_HOST" = 1 ] || "$SD_SCRIPT" stop || true
  # Mounts of containers lived in the sandbox's mount namespace and went with it.
  rm -rf "$SD_DIR"
}

# Runs a command inside the sandbox.
sd() {
  if [ "$SD_HOST" = 1 ]; then "$@"; else "$SD_SCRIPT" run "$@"; fi
}

# hippo inside the sandbox with this test's state root; HSD_CONFIG names a config.yaml.
hsd() {
  sd env HIPPO_CONFIG="${HSD_CONFIG:-/dev/null}" "$HIPPO_BIN" --root "$SD_DIR/state-$BATS_TEST_NUMBER" "$@"
}

# A detached create whose output goes to a file: the container must not hold bats' pipes.
hsd_create() {
  hsd "$@" </dev/null >"$SD_DIR/create-$BATS_TEST_NUMBER.out" 2>&1 || {
    cat "$SD_DIR/create-$BATS_TEST_NUMBER.out" >&2
    return 1
  }
}

# sd_bundle DIR CGROUPS_PATH [ARGS...]: a busybox bundle (shared read-only rootfs) running ARGS
# (default: sleep 1000) with that cgroupsPath.
sd_bundle() {
  local dir=$1 cg=$2
  shift 2
  local args='["sleep","1000"]'
  if [ $# -gt 0 ]; then args=$(printf '%s\n' "$@" | jq -R . | jq -s -c .); fi
  mkdir -p "$dir"
  (cd "$dir" && HIPPO_CONFIG=/dev/null "$HIPPO_BIN" spec)
  jq --argjson args "$args" --arg cg "$cg" --arg root "$SD_DIR/rootfs" \
    '.process.terminal = false | .process.args = $args | .linux.cgroupsPath = $cg
     | .root = {"path": $root, "readonly": true}' \
    "$dir/config.json" >"$dir/config.tmp"
  mv "$dir/config.tmp" "$dir/config.json"
}

# A unit's property as `systemctl show` prints its value.
unit_prop() {
  sd systemctl show -p "$2" --value "$1"
}

# The property that carries a resource on this hierarchy (v1/hybrid or v2).
prop_name() {
  local v1 v2
  case $1 in
    memory) v1=MemoryLimit v2=MemoryMax ;;
    shares) v1=CPUShares v2=CPUWeight ;;
    blkio) v1=BlockIOWeight v2=IOWeight ;;
    *) echo "prop_name: unknown $1" >&2; return 1 ;;
  esac
  [ "$SD_V2" = 1 ] && echo "$v2" || echo "$v1"
}

# cg_value KIND CGROUP: a resource's value in the cgroup files (inside the sandbox), the same
# for both hierarchies: memory (bytes or max), pids (n or max), quota/period (usec, quota -1 or
# max when none), shares (v1 shares or v2 weight), cpus (cpuset list), frozen (1/0).
cg_value() {
  local kind=$1 cg=$2 r=/sys/fs/cgroup
  if [ "$SD_V2" = 1 ]; then
    case $kind in
      memory) sd cat "$r$cg/memory.max" ;;
      pids) sd cat "$r$cg/pids.max" ;;
      quota) sd cat "$r$cg/cpu.max" | cut -d' ' -f1 ;;
      period) sd cat "$r$cg/cpu.max" | cut -d' ' -f2 ;;
      shares) sd cat "$r$cg/cpu.weight" ;;
      cpus) sd cat "$r$cg/cpuset.cpus" ;;
      frozen) sd cat "$r$cg/cgroup.freeze" ;;
      procs) sd cat "$r$cg/cgroup.procs" ;;
    esac
  else
    case $kind in
      memory) sd cat "$r/memory$cg/memory.limit_in_bytes" ;;
      pids) sd cat "$r/pids$cg/pids.max" ;;
      quota) sd cat "$r/cpu$cg/cpu.cfs_quota_us" ;;
      period) sd cat "$r/cpu$cg/cpu.cfs_period_us" ;;
      shares) sd cat "$r/cpu$cg/cpu.shares" ;;
      cpus) sd cat "$r/cpuset$cg/cpuset.cpus" ;;
      frozen) [ "$(sd cat "$r/freezer$cg/freezer.state")" = FROZEN ] && echo 1 || echo 0 ;;
      procs) sd cat "$r/memory$cg/cgroup.procs" ;;
    esac
  fi
}

# sd_blkio_weight_file CGROUP: the file that takes the blkio weight in CGROUP inside the
# sandbox (as blkio_weight_file in helpers.bash), or nothing when the kernel has none.
sd_blkio_weight_file() {
  local r=/sys/fs/cgroup
  if [ "$SD_V2" = 1 ]; then
    set -- "$r$1/io.bfq.weight" "$r$1/io.weight"
  else
    set -- "$r/blkio$1/blkio.weight" "$r/blkio$1/blkio.bfq.weight"
  fi
  sd sh -c 'for f; do if [ -f "$f" ]; then echo "$f"; break; fi; done' sh "$@"
}

# The cgroup directories of CGROUP that exist in any hierarchy (inside the sandbox).
cg_dirs() {
  sd sh -c 'for h in /sys/fs/cgroup /sys/fs/cgroup/*; do [ -d "$h$1" ] && echo "$h$1"; done; true' sh "$1"
}

# No unit named UNIT is loaded (not even failed).
assert_no_unit() {
  local listed
  listed=$(sd systemctl list-units --all --no-legend --plain "$1" | grep -F "$1" || true)
  if [ -n "$listed" ]; then
    echo "leak: unit $listed" >&2
    return 1
  fi
}

# Nothing of a container remains: no unit (if given), no cgroup dir, no state dir.
assert_no_leaks_sd() {
  local id=$1 cg=$2 unit=${3:-}
  [ -z "$unit" ] || assert_no_unit "$unit"
  local dirs
  dirs=$(cg_dirs "$cg")
  if [ -n "$dirs" ]; then
    echo "leak: cgroups $dirs" >&2
    return 1
  fi
  if [ -e "$SD_DIR/state-$BATS_TEST_NUMBER/$id" ]; then
    echo "leak: state dir of $id" >&2
    return 1
  fi
}

# For `eventually`: each call reads the value afresh.
unit_state_is() {
  [ "$(unit_prop "$1" ActiveState)" = "$2" ]
}
status_is() {
  [ "$(hsd state "$1" 2>/dev/null | jq -r .status)" = "$2" ]
}

# Deletes whatever this test's state root still holds.
sd_cleanup() {
  local id
  [ -d "$SD_DIR/state-$BATS_TEST_NUMBER" ] || return 0
  for id in $(ls "$SD_DIR/state-$BATS_TEST_NUMBER"); do
    hsd delete --force "$id" >/dev/null 2>&1 || true
  done
}
