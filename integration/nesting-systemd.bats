#!/usr/bin/env bats
# Nesting under the systemd cgroup driver (docs/nesting.md 3.5 and section 7 "Systemd sandbox"),
# against a real systemd (hack/systemd-sandbox.sh): a nesting container's scope is delegated,
# hippo runs inside it with the cgroupfs driver and its cgroups land below the scope,
# `systemctl daemon-reload` moves nothing (the MESOS-3009 class), the userns variant's scope is
# chowned to the mapped root once systemd made it, and deleting the outer leaves no unit and no
# directory. Everything is read inside the sandbox, where cgroup paths are a systemd host's.

load systemd_helpers

MIB=1048576
# The mapped root of the userns variant.
ROOT_UID=100000

setup_file() {
  sd_setup_file nest
  printf 'nesting_privileged: allow\n' >"$SD_DIR/privileged.yaml"
}

teardown_file() {
  sd_teardown_file
}

setup() {
  # The paths below are v1's (memory/, pids/ ...); on pure v2 nesting-v2.bats covers the driver.
  [ "$SD_V2" = 0 ] || skip "cgroup v1/hybrid paths; the systemd driver on pure v2 is nesting-v2.bats's"
  N=$(test_name)
  D=$SD_DIR/outer-$BATS_TEST_NUMBER
  UNIT=hippo-$N.scope
  CG=/system.slice/$UNIT
  # The outer's overlay layers live in the sandbox's own /tmp (a tmpfs): not inside the lower
  # layer `/`, and gone with the sandbox.
  LAYERS=/tmp/layers-$BATS_TEST_NUMBER
}

teardown() {
  sd_cleanup
  if sd mountpoint -q "$D/rootfs"; then sd umount "$D/rootfs" || sd umount -l "$D/rootfs" || true; fi
}

# privileged_outer MEMORY_BYTES: creates and starts the privileged nesting container $N
# (--systemd-cgroup, scope $UNIT) from bundle $D: its rootfs an overlay of the sandbox's `/`
# (the build and its libraries at their paths), fresh /run and /tmp, the busybox rootfs at
# /busybox for inner bundles, tini reaping what exec'd runtimes leave.
privileged_outer() {
  local mem=$1 nofile
  mkdir -p "$D/rootfs"
  (cd "$D" && HIPPO_CONFIG=/dev/null "$HIPPO_BIN" spec)
  sd mkdir -p "$LAYERS/upper" "$LAYERS/work"
  sd mount -t overlay overlay -o "lowerdir=/,upperdir=$LAYERS/upper,workdir=$LAYERS/work" "$D/rootfs"
  # Raising RLIMIT_NOFILE above the caller's hard limit needs CAP_SYS_RESOURCE.
  nofile=$(sd sh -c 'ulimit -Hn')
  edit_config "$D" '
    .process.terminal = false
    | .process.args = ["tini", "--", "sleep", "infinity"]
    | .process.env += ["HIPPO_CONFIG=/dev/null"]
    | .process.rlimits = [{type: "RLIMIT_NOFILE", hard: $nofile, soft: $nofile}]
    | .root = {path: "rootfs", readonly: false}
    | .annotations["io.hippo.nesting"] = "true"
    | .linux.cgroupsPath = $cg
    | .linux.resources.memory.limit = $mem
    | .mounts += [
        {destination: "/run", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=755"]},
        {destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777"]},
        {destination: "/busybox", type: "bind", source: $busybox, options: ["rbind", "ro"]},
        {destination: $bin, type: "bind", source: $bin, options: ["rbind", "ro"]}]' \
    --arg cg "system.slice:hippo:$N" --argjson mem "$mem" --argjson nofile "$nofile" \
    --arg bin "$(dirname "$HIPPO_BIN")" --arg busybox "$SD_DIR/rootfs"
  HSD_CONFIG=$SD_DIR/privileged.yaml hsd_create --systemd-cgroup create -b "$D" "$N"
  hsd start "$N"
}

# in_outer SCRIPT: runs the sh SCRIPT in the outer (hippo exec), with $HIPPO the hippo binary
# and ih() the inner hippo (cgroupfs driver, state in the outer's /run).
in_outer() {
  hsd exec "$N" env HIPPO="$HIPPO_BIN" sh -c 'set -eu
    ih() { HIPPO_CONFIG=/dev/null "$HIPPO" --root /run/hippo "$@"; }
    '"$1" </dev/null
}

# inner_start: starts the inner container `in` in the outer (cgroup /in inside, 32 MiB).
inner_start() {
  in_outer '
    mkdir -p /tmp/in && cd /tmp/in && "$HIPPO" spec
    jq ".process.terminal = false | .process.args = [\"sleep\", \"1000\"] | .linux.cgroupsPath = \"/in\"
      | .linux.resources.memory.limit = '$((32 * MIB))' | .root = {path: \"/busybox\", readonly: true}" \
      config.json >config.tmp && mv config.tmp config.json
    ih create -b /tmp/in in >/tmp/in.out 2>&1 </dev/null || { cat /tmp/in.out >&2; exit 1; }
    ih start in'
}

# The inner init's pid as the sandbox sees it: the one process of the inner's memory cgroup.
inner_pid() {
  sd cat "/sys/fs/cgroup/memory$CG/in/cgroup.procs"
}

@test "a nesting container's scope is delegated and hippo in it puts an inner cgroup below the scope" {
  privileged_outer $((64 * MIB))
  [ "$(unit_prop "$UNIT" Delegate)" = yes ]
  [ "$(unit_prop "$UNIT" ControlGroup)" = "$CG" ]
  # The cgroup mount is writable inside: a cgroup made there is made below the scope.
  run in_outer 'mkdir /sys/fs/cgroup/memory/probe && rmdir /sys/fs/cgroup/memory/probe'
  echo "$output"
  [ "$status" -eq 0 ]
  inner_start
  run in_outer 'cat /sys/fs/cgroup/memory/in/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.limit_in_bytes'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = $((32 * MIB)) ]
  [ "${lines[1]}" = $((64 * MIB)) ]
  [ "$(cg_value memory "$CG/in")" = $((32 * MIB)) ]
  [ "$(cg_value memory "$CG")" = $((64 * MIB)) ]
  [ -n "$(inner_pid)" ]
  run in_outer 'ih delete -f in; [ ! -d /sys/fs/cgroup/memory/in ]'
  [ "$status" -eq 0 ]
  [ -z "$(cg_dirs "$CG/in")" ]
  hsd delete --force "$N"
}

@test "systemctl daemon-reload moves no process of the inner container (MESOS-3009) and keeps its cgroups" {
  privileged_outer $((64 * MIB))
  inner_start
  pid=$(inner_pid)
  [ -n "$pid" ]
  before=$(sd cat "/proc/$pid/cgroup")
  dirs_before=$(cg_dirs "$CG/in")
  echo "inner init $pid: $before"
  # The inner's cgroupfs driver put its init below the scope in every hierarchy.
  elsewhere=$(grep -vE ":$CG/in\$" <<<"$before" || true)
  [ -z "$elsewhere" ]
  [ -n "$dirs_before" ]
  # What MESOS-3009 lost: a process the inner runtime moved in some hierarchies only (here
  # memory) stays in the scope's own cgroup in the others (name=systemd included); systemd 218
  # moved such a process back into the unit's cgroup on a reload (Delegate=yes forbids it).
  # systemd 252 here moves it neither on a reload nor on a re-realisation (set-property), even
  # with Delegate=false (tried): this guards the outcome, Delegate=yes is checked in test 1.
  in_outer 'sleep 1000 </dev/null >/dev/null 2>&1 &
    mkdir /sys/fs/cgroup/memory/side && echo $! >/sys/fs/cgroup/memory/side/cgroup.procs'
  side=$(sd cat "/sys/fs/cgroup/memory$CG/side/cgroup.procs")
  [ -n "$side" ]
  side_before=$(sd cat "/proc/$side/cgroup")
  echo "side process $side: $side_before"
  grep -qxE "[0-9]+:memory:$CG/side" <<<"$side_before"
  grep -qxE "[0-9]+:name=systemd:$CG" <<<"$side_before"
  # Controllers turned on afterwards make systemd realise the unit's cgroups again.
  sd systemctl set-property --runtime "$UNIT" BlockIOAccounting=yes CPUAccounting=yes IOAccounting=yes
  sd systemctl daemon-reload
  # Still running, in the same cgroups, whose directories all remain.
  [ "$(unit_prop "$UNIT" ActiveState)" = active ]
  after=$(sd cat "/proc/$pid/cgroup")
  echo "after daemon-reload: $after"
  [ "$after" = "$before" ]
  side_after=$(sd cat "/proc/$side/cgroup")
  echo "side process after: $side_after"
  [ "$side_after" = "$side_before" ]
  [ "$(cg_dirs "$CG/in")" = "$dirs_before" ]
  [ "$(cg_value memory "$CG/in")" = $((32 * MIB)) ]
  hsd delete --force "$N"
}

# owner PATH: the owning uid of PATH inside the sandbox.
owner() {
  sd stat -c %u "$1"
}

@test "userns variant: the scope's directories and process files belong to the mapped root in every hierarchy, its limits to root" {
  sd_bundle "$D" "system.slice:hippo:$N"
  edit_config "$D" '.annotations["io.hippo.nesting"] = "true"
    | .linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 100}
    | .linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": $root, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": $root, "size": 65536}]' --argjson root "$ROOT_UID"
  hsd_create --systemd-cgroup create -b "$D" "$N"
  [ "$(unit_prop "$UNIT" Delegate)" = yes ]
  check_ownership() {
    local dirs d f n=0
    dirs=$(cg_dirs "$CG")
    echo "$dirs"
    for d in $dirs; do
      n=$((n + 1))
      [ "$(owner "$d")" = "$ROOT_UID" ] || { echo "$d: owner $(owner "$d")"; return 1; }
      for f in cgroup.procs tasks; do
        if sd test -e "$d/$f"; then
          [ "$(owner "$d/$f")" = "$ROOT_UID" ] || { echo "$d/$f: owner $(owner "$d/$f")"; return 1; }
        fi
      done
    done
    # Every v1 hierarchy (memory, pids, freezer, cpuset, name=systemd ...) and the cgroup2 one.
    [ "$n" -ge 5 ]
    [ "$(owner "/sys/fs/cgroup/memory$CG/memory.limit_in_bytes")" = 0 ]
    [ "$(owner "/sys/fs/cgroup/pids$CG/pids.max")" = 0 ]
    [ "$(owner "/sys/fs/cgroup/cpu$CG/cpu.shares")" = 0 ]
  }
  check_ownership
  hsd start "$N"
  # The mapped root makes cgroups below its own but cannot raise its limit.
  run hsd exec "$N" sh -c 'mkdir /sys/fs/cgroup/memory/sub && echo 1048576 >/sys/fs/cgroup/memory/sub/memory.limit_in_bytes'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(cg_value memory "$CG/sub")" = 1048576 ]
  run hsd exec "$N" sh -c 'echo 134217728 >/sys/fs/cgroup/memory/memory.limit_in_bytes'
  echo "$output"
  [ "$status" -ne 0 ]
  [ "$(cg_value memory "$CG")" = 67108864 ]
  # systemd does not take the delegation back on a reload.
  sd systemctl daemon-reload
  check_ownership
  hsd delete --force "$N"
  assert_no_leaks_sd "$N" "$CG" "$UNIT"
}

@test "delete -f of the outer with an inner running stops the scope and leaves no directory in any hierarchy" {
  privileged_outer $((64 * MIB))
  inner_start
  pid=$(inner_pid)
  [ -n "$pid" ]
  [ -n "$(cg_dirs "$CG/in")" ]
  hsd delete --force "$N"
  assert_no_leaks_sd "$N" "$CG" "$UNIT"
  # The inner's init went with the outer (no process of it left in the sandbox).
  gone() { ! sd test -e "/proc/$pid"; }
  eventually gone
}

@test "delete -f of the outer with an inner container paused (frozen) stops the scope and leaves nothing" {
  privileged_outer $((64 * MIB))
  inner_start
  pid=$(inner_pid)
  [ -n "$pid" ]
  in_outer 'ih pause in'
  [ "$(sd cat "/sys/fs/cgroup/freezer$CG/in/freezer.state")" = FROZEN ]
  # systemd's stop signals a frozen v1 task in vain: hippo's kill_all thaws what it kills.
  hsd delete --force "$N"
  assert_no_leaks_sd "$N" "$CG" "$UNIT"
  gone() { ! sd test -e "/proc/$pid"; }
  eventually gone
}
