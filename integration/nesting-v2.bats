#!/usr/bin/env bats
# Nesting on a pure cgroup v2 host with the cgroupfs driver (docs/nesting.md 3.4): the outer's
# init lives in the leaf L/init, L enables its controllers for the cgroups an inner runtime
# makes, exec'd processes join the leaf, and L's own limits stay out of reach. Runs in the VM of
# hack/test-cgroup2.sh (skipped elsewhere, saying why).

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
  edit_config "$B" '.linux.namespaces += [{"type":"user"}]
    | .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
    | .linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]'
  chown -R 100000:100000 "$B/rootfs"
  # The outer's root (host uid 100000) must reach the bundles through the test's dirs.
  local d=$BATS_TEST_TMPDIR
  while [ "$d" != / ]; do
    chmod a+x "$d"
    d=$(dirname "$d")
  done
  # The inner bundle, made here and bound in; its rootfs belongs to the outer's root.
  local in=$BATS_TEST_TMPDIR/in
  mkdir -p "$in"
  cp -a "$BATS_FILE_TMPDIR/images/busybox-rootfs" "$in/rootfs"
  (cd "$in" && HIPPO_CONFIG=/dev/null "$HIPPO_BIN" spec)
  jq '.process.terminal = false | .process.args = ["sleep", "1000"] | .linux.cgroupsPath = "/inner"
    | .linux.resources.memory.limit = 33554432' "$in/config.json" >"$in/config.tmp"
  mv "$in/config.tmp" "$in/config.json"
  chown -R 100000:100000 "$in"
  edit_config "$B" '.mounts += [{destination: "/in", type: "bind", source: $in, options: ["rbind"]}]' --arg in "$in"
  mkdir -p "$B/rootfs/in"
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  local L
  L=$(outer_cgroup)
  [ "$(stat -c %u "$L/init")" = 100000 ]
  [ "$(stat -c %u "$L/cgroup.procs")" = 100000 ]
  [ "$(stat -c %u "$L/memory.max")" = 0 ]
  run hippo exec "$ID" sh -c 'HIPPO_CONFIG=/dev/null /hippo --root /run/h create -b /in inner </dev/null >/run/create.out 2>&1 || { cat /run/create.out; exit 1; }
    HIPPO_CONFIG=/dev/null /hippo --root /run/h start inner && cat /sys/fs/cgroup/inner/memory.max'
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
  local in=$BATS_TEST_TMPDIR/in
  mkdir -p "$in"
  cp -a "$BATS_FILE_TMPDIR/images/busybox-rootfs" "$in/rootfs"
  (cd "$in" && HIPPO_CONFIG=/dev/null "$HIPPO_BIN" spec)
  # /dev/mem (c 1:1) is in neither program's list: the node made inside still cannot be opened.
  jq '.process.terminal = false | .process.args = ["sh", "-c", "mknod /tmp/mem c 1 1; head -c1 /tmp/mem >/dev/null 2>&1 && echo mem-opened; echo x >/dev/null && echo null-ok"]
    | .linux.cgroupsPath = "/inner" | .root.readonly = false' "$in/config.json" >"$in/config.tmp"
  mv "$in/config.tmp" "$in/config.json"
  edit_config "$B" '.mounts += [{destination: "/in", type: "bind", source: $in, options: ["rbind"]}]' --arg in "$in"
  mkdir -p "$B/rootfs/in"
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
  local in=$BATS_TEST_TMPDIR/in
  mkdir -p "$in"
  cp -a "$BATS_FILE_TMPDIR/images/busybox-rootfs" "$in/rootfs"
  (cd "$in" && HIPPO_CONFIG=/dev/null "$HIPPO_BIN" spec)
  # ash keeps a command substitution's output in its own memory: 32 MiB against a 16 MiB limit.
  jq '.process.terminal = false | .process.args = ["sh", "-c", "x=$(head -c 33554432 /dev/zero | tr \"\\0\" a); echo survived"]
    | .linux.cgroupsPath = "/inner" | .linux.resources.memory.limit = 16777216' "$in/config.json" >"$in/config.tmp"
  mv "$in/config.tmp" "$in/config.json"
  edit_config "$B" '.mounts += [{destination: "/in", type: "bind", source: $in, options: ["rbind"]}]' --arg in "$in"
  mkdir -p "$B/rootfs/in"
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
