#!/usr/bin/env bats
# Nesting on a pure cgroup v2 host (docs/nesting.md 3.4, 3.5), with the cgroupfs driver and,
# where systemd is PID 1, the systemd driver: the outer's init lives in the leaf L/init, L
# enables its controllers for the cgroups an inner runtime makes, exec'd processes join the
# leaf, and L's own limits stay out of reach. Runs in the VM of hack/test-cgroup2.sh (skipped
# elsewhere, saying why).

load helpers

setup_file() {
  build_busybox_rootfs
}

setup() {
  cgroup_v2 || skip "needs a pure cgroup v2 host (hack/test-cgroup2.sh runs this file in its VM)"
  B=$BATS_TEST_TMPDIR/outer
  ID=$(test_name outer)
  printf 'nesting_privileged: allow\n' >"$BATS_TEST_TMPDIR/config.yaml"
  export HIPPO_TEST_CONFIG=$BATS_TEST_TMPDIR/config.yaml
}

teardown() {
  cleanup_containers
}

# An outer running `sleep 1000` with the nesting annotation, a tmpfs on /run, and the host's
# libraries and hippo binary (at /hippo) bound in read-only, so an inner hippo runs inside.
nest_outer_bundle() {
  busybox_bundle "$B" sleep 1000
  edit_config "$B" '.annotations["io.hippo.nesting"] = "true"
    | .linux.resources.memory.limit = 268435456
    | .mounts += [
        {destination: "/run", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=755"]},
        {destination: "/usr", type: "bind", source: "/usr", options: ["rbind", "ro"]},
        {destination: "/lib", type: "bind", source: "/lib", options: ["rbind", "ro"]},
        {destination: "/lib64", type: "bind", source: "/lib64", options: ["rbind", "ro"]},
        {destination: "/hippo", type: "bind", source: $hippo, options: ["bind", "ro"]}]' \
    --arg hippo "$HIPPO_BIN"
  touch "$B/rootfs/hippo"
}

# The outer's cgroup L on the host.
outer_cgroup() {
  echo "/sys/fs/cgroup$(cgroup_path_of "$B")"
}

# inner_bundle JQ_FILTER: the bundle of an inner container at $BATS_TEST_TMPDIR/in (cgroupsPath
# /inner, no terminal, the filter applied), bound into the outer at /in.
inner_bundle() {
  local in=$BATS_TEST_TMPDIR/in
  mkdir -p "$in"
  cp -a "$BATS_FILE_TMPDIR/images/busybox-rootfs" "$in/rootfs"
  (cd "$in" && HIPPO_CONFIG=/dev/null "$HIPPO_BIN" spec)
  jq ".process.terminal = false | .linux.cgroupsPath = \"/inner\" | $1" "$in/config.json" >"$in/config.tmp"
  mv "$in/config.tmp" "$in/config.json"
  edit_config "$B" '.mounts += [{destination: "/in", type: "bind", source: $in, options: ["rbind"]}]' --arg in "$in"
  mkdir -p "$B/rootfs/in"
}

# The userns variant: the outer's root is host uid 100000, which owns both bundles and must
# reach them through the test's directories.
userns_outer() {
  edit_config "$B" '.linux.namespaces += [{"type":"user"}]
    | .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
    | .linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]'
  chown -R 100000:100000 "$B/rootfs" "$BATS_TEST_TMPDIR/in"
  local d=$BATS_TEST_TMPDIR
  while [ "$d" != / ]; do
    chmod a+x "$d"
    d=$(dirname "$d")
  done
}

# The systemd driver (systemd is PID 1 only in the VM, HIPPO_SD_HOST=1): the outer's scope is
# hippo-$ID.scope in system.slice, and L is its directory.
systemd_outer() {
  [ "${HIPPO_SD_HOST:-0}" = 1 ] || skip "the systemd driver needs systemd as PID 1 (HIPPO_SD_HOST=1, the VM of hack/test-cgroup2.sh)"
  edit_config "$B" '.linux.cgroupsPath = $cg' --arg cg "system.slice:hippo:$ID"
  UNIT=hippo-$ID.scope
  L=/sys/fs/cgroup/system.slice/$UNIT
}

sd_create() {
  hippo --systemd-cgroup create "$@" </dev/null >"$BATS_TEST_TMPDIR/create.out" 2>&1 || {
    cat "$BATS_TEST_TMPDIR/create.out" >&2
    return 1
  }
}

# Starts inner (the bundle at /in) detached inside the outer with its own hippo state, and
# prints its memory.max as the outer sees it.
start_inner() {
  hippo exec "$ID" sh -c 'HIPPO_CONFIG=/dev/null /hippo --root /run/h create -b /in inner </dev/null >/run/create.out 2>&1 || { cat /run/create.out; exit 1; }
    HIPPO_CONFIG=/dev/null /hippo --root /run/h start inner && cat /sys/fs/cgroup/inner/memory.max'
}

@test "v2 nesting: init and exec'd processes sit in L/init, L enables its controllers, L's limits stay out of reach" {
  nest_outer_bundle
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  local L pid
  L=$(outer_cgroup)
  pid=$(hippo state "$ID" | jq -r .pid)
  [ "$(cat "/proc/$pid/cgroup")" = "0::$(cgroup_path_of "$B")/init" ]
  [ -z "$(cat "$L/cgroup.procs")" ]
  grep -qw memory "$L/cgroup.subtree_control"
  grep -qw pids "$L/cgroup.subtree_control"
  run hippo exec "$ID" sh -c 'cat /proc/1/cgroup /proc/self/cgroup; mkdir /sys/fs/cgroup/sub && echo 33554432 >/sys/fs/cgroup/sub/memory.max && echo made-sub'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "0::/init" ]
  [ "${lines[1]}" = "0::/init" ]
  [ "${lines[2]}" = made-sub ]
  [ "$(cat "$L/sub/memory.max")" = 33554432 ]
  # nsdelegate (the VM's systemd mounts cgroup2 so): the namespace's root's limits are not the
  # container's to write, privileged or not.
  if grep -q ' /sys/fs/cgroup cgroup2 .*nsdelegate' /proc/self/mountinfo; then
    run hippo exec "$ID" sh -c 'echo 1048576 >/sys/fs/cgroup/memory.max'
    echo "$output"
    [ "$status" -ne 0 ]
    [ "$(cat "$L/memory.max")" = 268435456 ]
  fi
  hippo delete -f "$ID"
  [ ! -d "$L" ]
  assert_no_leaks "$ID" "$B"
}

@test "v2 nesting (userns): an inner hippo's container lands in L/<inner> with its memory limit; delete -f leaves nothing" {
  nest_outer_bundle
  inner_bundle '.process.args = ["sleep", "1000"] | .linux.resources.memory.limit = 33554432'
  userns_outer
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  local L
  L=$(outer_cgroup)
  [ "$(stat -c %u "$L/init")" = 100000 ]
  [ "$(stat -c %u "$L/cgroup.procs")" = 100000 ]
  [ "$(stat -c %u "$L/memory.max")" = 0 ]
  run start_inner
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = 33554432 ]
  [ "$(cat "$L/inner/memory.max")" = 33554432 ]
  [ -n "$(cat "$L/inner/cgroup.procs")" ]
  hippo delete -f "$ID"
  [ ! -d "$L" ]
  assert_no_leaks "$ID" "$B"
}

@test "v2 nesting (privileged): an inner hippo attaches its own device program below the outer's, and both bind" {
  nest_outer_bundle
  # /dev/mem (c 1:1) is in neither program's list: the node made inside still cannot be opened.
  inner_bundle '.process.args = ["sh", "-c", "mknod /tmp/mem c 1 1; head -c1 /tmp/mem >/dev/null 2>&1 && echo mem-opened; echo x >/dev/null && echo null-ok"]
    | .root.readonly = false'
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  # Without BPF_F_ALLOW_MULTI on the outer's program the inner attach fails with EPERM.
  run hippo exec "$ID" sh -c 'HIPPO_CONFIG=/dev/null /hippo --root /run/h run -b /in inner 2>&1'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" != *"device filter"* ]]
  [[ "$output" != *mem-opened* ]]
  [[ "$output" == *null-ok* ]]
  hippo delete -f "$ID"
  assert_no_leaks "$ID" "$B"
}

@test "v2 nesting: events reports the outer's own OOM kill, not an inner container's" {
  nest_outer_bundle
  # ash keeps a command substitution's output in its own memory: 32 MiB against a 16 MiB limit.
  inner_bundle '.process.args = ["sh", "-c", "x=$(head -c 33554432 /dev/zero | tr \"\\0\" a); echo survived"]
    | .linux.resources.memory.limit = 16777216'
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  # The binary itself in the background (not the hippo function's subshell): its fds are watched.
  HIPPO_CONFIG=$HIPPO_TEST_CONFIG "$HIPPO_BIN" --root "$BATS_TEST_TMPDIR/state" events --interval 1s "$ID" \
    >"$BATS_TEST_TMPDIR/events.out" 2>&1 &
  EVENTS=$!
  # The watch is open once events holds an inotify fd: OOMs before it would not count anyway.
  eventually sh -c "ls -l /proc/$EVENTS/fd | grep -q inotify"
  run hippo exec "$ID" sh -c 'HIPPO_CONFIG=/dev/null /hippo --root /run/h run -b /in inner; echo "inner exit $?"'
  echo "$output"
  [[ "$output" == *"inner exit 137"* ]]
  # The outer's own process past the outer's 256 MiB.
  run hippo exec "$ID" sh -c 'x=$(head -c 314572800 /dev/zero | tr "\0" a); echo survived'
  echo "$output"
  [ "$status" -eq 137 ]
  eventually grep -q '"type":"oom"' "$BATS_TEST_TMPDIR/events.out"
  # The inner's kill, counted in L's memory.events too, came well before: give a wrongly
  # counted one time to show, then expect exactly the outer's.
  sleep 2
  cat "$BATS_TEST_TMPDIR/events.out"
  [ "$(grep -c '"type":"oom"' "$BATS_TEST_TMPDIR/events.out")" -eq 1 ]
  kill "$EVENTS" 2>/dev/null || true
  hippo delete -f "$ID"
  assert_no_leaks "$ID" "$B"
}

@test "v2 nesting, systemd driver: init in <scope>/init, an inner hippo's limit below the scope survives update and daemon-reload; delete leaves nothing" {
  nest_outer_bundle
  systemd_outer
  inner_bundle '.process.args = ["sleep", "1000"] | .linux.resources.memory.limit = 33554432'
  sd_create -b "$B" "$ID"
  hippo start "$ID"
  [ "$(systemctl show -p Delegate --value "$UNIT")" = yes ]
  local pid
  pid=$(hippo state "$ID" | jq -r .pid)
  # Before kCgroupLeaf the init stayed in the scope itself, which could enable no controller.
  [ "$(cat "/proc/$pid/cgroup")" = "0::/system.slice/$UNIT/init" ]
  [ -z "$(cat "$L/cgroup.procs")" ]
  grep -qw memory "$L/cgroup.subtree_control"
  run hippo exec "$ID" cat /proc/self/cgroup
  [ "$output" = "0::/init" ]
  run start_inner
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = 33554432 ]
  [ "$(cat "$L/inner/memory.max")" = 33554432 ]
  # The outer's limit changes through systemd (SetUnitProperties); the delegated subtree and the
  # controllers L hands down stay as the container made them, and so after a daemon-reload.
  hippo update --memory 209715200 "$ID"
  [ "$(cat "$L/memory.max")" = 209715200 ]
  systemctl daemon-reload
  [ "$(cat "$L/memory.max")" = 209715200 ]
  grep -qw memory "$L/cgroup.subtree_control"
  [ "$(cat "$L/inner/memory.max")" = 33554432 ]
  [ -n "$(cat "$L/inner/cgroup.procs")" ]
  [ "$(cat "/proc/$pid/cgroup")" = "0::/system.slice/$UNIT/init" ]
  hippo delete -f "$ID"
  [ ! -d "$L" ]
  run systemctl is-active "$UNIT"
  [ "$output" != active ]
  [ ! -e "$BATS_TEST_TMPDIR/state/$ID" ]
}

@test "v2 nesting (userns), systemd driver: the scope's leaf belongs to the mapped root, the inner container runs with its limit" {
  nest_outer_bundle
  systemd_outer
  inner_bundle '.process.args = ["sleep", "1000"] | .linux.resources.memory.limit = 33554432'
  userns_outer
  sd_create -b "$B" "$ID"
  hippo start "$ID"
  [ "$(stat -c %u "$L/init")" = 100000 ]
  [ "$(stat -c %u "$L/init/cgroup.procs")" = 100000 ]
  [ "$(stat -c %u "$L/cgroup.subtree_control")" = 100000 ]
  [ "$(stat -c %u "$L/memory.max")" = 0 ]
  run start_inner
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = 33554432 ]
  [ "$(cat "$L/inner/memory.max")" = 33554432 ]
  # The outer's root cannot raise its own limit (L's files stay the host's).
  run hippo exec "$ID" sh -c 'echo max >/sys/fs/cgroup/memory.max'
  [ "$status" -ne 0 ]
  [ "$(cat "$L/memory.max")" = 268435456 ]
  hippo delete -f "$ID"
  [ ! -d "$L" ]
  [ ! -e "$BATS_TEST_TMPDIR/state/$ID" ]
}
