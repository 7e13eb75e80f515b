#!/usr/bin/env bats
# The cgroupfs driver on a pure cgroup v2 host: values read back from the v2 interface files,
# freezing, OOM through memory.events, eBPF device rules, the no-internal-process rule,
# CLONE_INTO_CGROUP, stats. Runs in the VM of `make test-cgroup2` (hack/test-cgroup2.sh); on a
# v1 or hybrid host every test fails, saying why.

load helpers

setup_file() {
  build_busybox_rootfs
}

setup() {
  if ! cgroup_v2; then
    echo "needs a pure cgroup v2 host: run it with make test-cgroup2" >&2
    return 1
  fi
  B=$BATS_TEST_TMPDIR/bundle
  ID=$(test_name)
  MADE=()  # cgroups a test made itself, removed in teardown (deepest last in the list)
}

teardown() {
  cleanup_containers
  local i
  for ((i = ${#MADE[@]} - 1; i >= 0; i--)); do
    [ -d "${MADE[i]}" ] || continue
    while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done <"${MADE[i]}/cgroup.procs"
    for _ in $(seq 50); do rmdir "${MADE[i]}" 2>/dev/null && break; sleep 0.1; done
  done
}

cg() { cgroup_file "$B" "" "$1"; }

@test "v2: memory.max, memory.low, memory.swap.max and memory.high from config.json and update" {
  busybox_bundle "$B" sleep 1000
  edit_config "$B" '.linux.resources.memory = {"limit": 67108864, "reservation": 16777216, "swap": 100663296}
    | .linux.resources.unified = {"memory.high": "50331648"}'
  hippo_create -b "$B" "$ID"
  [ "$(cat "$(cg memory.max)")" = 67108864 ]
  [ "$(cat "$(cg memory.low)")" = 16777216 ]
  [ "$(cat "$(cg memory.swap.max)")" = 33554432 ] # memory+swap 96M - memory 64M
  [ "$(cat "$(cg memory.high)")" = 50331648 ]
  hippo start "$ID"
  hippo update --memory 128m --memory-swap 256m --memory-reservation 32m "$ID"
  [ "$(cat "$(cg memory.max)")" = 134217728 ]
  [ "$(cat "$(cg memory.swap.max)")" = 134217728 ]
  [ "$(cat "$(cg memory.low)")" = 33554432 ]
  hippo update --memory -1 --memory-swap -1 "$ID"
  [ "$(cat "$(cg memory.max)")" = max ]
  [ "$(cat "$(cg memory.swap.max)")" = max ]
  hippo delete --force "$ID"
  assert_no_leaks "$ID" "$B"
}

@test "v2: cpu.max and cpu.weight; an update of the quota alone keeps the period" {
  busybox_bundle "$B" sleep 1000
  edit_config "$B" '.linux.resources.cpu = {"shares": 1024, "quota": 20000, "period": 50000}'
  hippo_create -b "$B" "$ID"
  [ "$(cat "$(cg cpu.max)")" = "20000 50000" ]
  [ "$(cat "$(cg cpu.weight)")" = 39 ] # runc's map of 1024 shares
  hippo start "$ID"
  hippo update --cpu-quota 30000 "$ID"
  [ "$(cat "$(cg cpu.max)")" = "30000 50000" ]
  hippo update --cpu-period 200000 --cpu-share 2 "$ID"
  [ "$(cat "$(cg cpu.max)")" = "30000 200000" ]
  [ "$(cat "$(cg cpu.weight)")" = 1 ]
  hippo delete --force "$ID"
}

@test "v2: io.weight (or io.bfq.weight) and io.max per device" {
  dev=$(cat /sys/block/vda/dev)
  maj=${dev%:*} min=${dev#*:}
  busybox_bundle "$B" sleep 1000
  edit_config "$B" '.linux.resources.blockIO = {"weight": 500,
    "throttleReadBpsDevice": [{"major": $maj, "minor": $min, "rate": 1048576}],
    "throttleWriteIOPSDevice": [{"major": $maj, "minor": $min, "rate": 300}]}' \
    --argjson maj "$maj" --argjson min "$min"
  hippo_create -b "$B" "$ID"
  if [ -f "$(cg io.bfq.weight)" ]; then
    grep -q '^default 500$' "$(cg io.bfq.weight)"
  else
    [ "$(cat "$(cg io.weight)")" = "default 4950" ] # runc's map of blkio weight 500
  fi
  [ "$(cat "$(cg io.max)")" = "$dev rbps=1048576 wbps=max riops=max wiops=300" ]
  hippo delete --force "$ID"
  assert_no_leaks "$ID" "$B"
}

@test "v2: init allocating past memory.max is OOM-killed: events shows oom (memory.events), run exits 137" {
  # init waits for a file, so `hippo events` is surely listening before the allocation starts.
  busybox_bundle "$B" sh -c 'while [ ! -e /go ]; do sleep 0.1; done; exec tail /dev/zero'
  edit_config "$B" '.root.readonly = false | .linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
  hippo run -b "$B" "$ID" >"$BATS_TEST_TMPDIR/run.out" 2>&1 &
  run_pid=$!
  wait_status "$ID" running
  hippo events --interval 100ms "$ID" >"$BATS_TEST_TMPDIR/events.out" 2>&1 &
  events_pid=$!
  for i in $(seq 100); do grep -q '"type":"stats"' "$BATS_TEST_TMPDIR/events.out" && break; sleep 0.1; done
  events=$(cg memory.events)
  [ "$(cat "$(cg memory.swap.max)")" = 0 ]
  touch "$B/rootfs/go"
  for i in $(seq 300); do grep -q '"type":"oom"' "$BATS_TEST_TMPDIR/events.out" && break; sleep 0.1; done
  grep -q "\"type\":\"oom\"" "$BATS_TEST_TMPDIR/events.out"
  grep -q "\"id\":\"$ID\"" "$BATS_TEST_TMPDIR/events.out"
  status=0
  wait "$run_pid" || status=$?
  [ "$status" -eq 137 ]
  wait "$events_pid" || true
  [ ! -e "$events" ] # the cgroup went with the container
}

@test "v2: device rules are an eBPF filter: denied devices cannot be opened, allowed ones can" {
  # one line: busybox_bundle makes each line an argument of its own
  script='mknod /tmp/mem c 1 1; mknod /tmp/sda b 8 0; mknod /tmp/kmsg c 1 11;'
  script+=' head -c1 /tmp/mem >/dev/null 2>&1 && echo mem-open || echo mem-denied;'
  script+=' head -c1 /tmp/sda >/dev/null 2>&1 && echo sda-open || echo sda-denied;'
  script+=' echo x >/tmp/kmsg 2>/dev/null && echo kmsg-write || echo kmsg-denied;'
  script+=' head -c1 /dev/zero >/dev/null && echo zero-open'
  busybox_bundle "$B" sh -c "$script"
  edit_config "$B" '.root.readonly = false
    | .process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"]
    | .process.capabilities.permitted += ["CAP_MKNOD"]
    | .linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
  run hippo run -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'mem-denied\nsda-denied\nkmsg-write\nzero-open')" ]
}

@test "v2: a parent cgroup holding processes cannot give controllers: a clear error, nothing left" {
  parent=/sys/fs/cgroup/$(test_name parent)
  mkdir "$parent"
  MADE+=("$parent")
  sleep 1000 &
  echo $! >"$parent/cgroup.procs"
  busybox_bundle "$B" sleep 1000
  edit_config "$B" '.linux.cgroupsPath = $cg | .linux.resources.memory = {"limit": 67108864}' \
    --arg cg "/$(basename "$parent")/c1"
  run hippo create -b "$B" "$ID"
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == *"$parent"*"holds processes"* ]]
  [ ! -e "$parent/c1" ]
  [ ! -e "$BATS_TEST_TMPDIR/state/$ID" ]
  [ -n "$(cat "$parent/cgroup.procs")" ] # the other process is left where it was
}

@test "v2: a nested cgroupsPath gets controllers at every level; delete removes the leaf" {
  top=/sys/fs/cgroup/$(test_name top)
  MADE+=("$top" "$top/a" "$top/a/b")
  busybox_bundle "$B" sleep 1000
  edit_config "$B" '.linux.cgroupsPath = $cg
    | .linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 30}' \
    --arg cg "/$(basename "$top")/a/b/c"
  hippo_create -b "$B" "$ID"
  for level in "$top" "$top/a" "$top/a/b"; do
    for c in cpu io memory pids; do grep -qw "$c" "$level/cgroup.subtree_control"; done
  done
  [ "$(cat "$top/a/b/c/memory.max")" = 67108864 ]
  [ "$(cat "$top/a/b/c/pids.max")" = 30 ]
  [ "$(cat "$top/a/b/c/cgroup.type")" = domain ]
  pid=$(hippo state "$ID" | jq -r .pid)
  [ "$(cat "/proc/$pid/cgroup")" = "0::/$(basename "$top")/a/b/c" ]
  hippo delete --force "$ID"
  [ ! -e "$top/a/b/c" ]
}

@test "v2: init is cloned straight into its cgroup (CLONE_INTO_CGROUP)" {
  busybox_bundle "$B" true
  run hippo --debug --log "$BATS_TEST_TMPDIR/log" --log-format json run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  grep -q "cloned into cgroup /sys/fs/cgroup$(cgroup_path_of "$B")" "$BATS_TEST_TMPDIR/log"
}

@test "v2: events --stats reads memory, cpu, pids and io from the v2 files" {
  busybox_bundle "$B" sh -c 'dd if=/dev/zero of=/big bs=1M count=8 oflag=direct 2>/dev/null; touch /written; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec sleep 1000'
  edit_config "$B" '.root.readonly = false | .linux.resources.memory = {"limit": 134217728, "swap": 134217728}
    | .linux.resources.pids = {"limit": 50} | .linux.resources.cpu = {"quota": 10000, "period": 100000}'
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  # the writes are done (dd alone may be throttled already: the counters moving did not say so)
  # and the loop has run once the throttling counters moved (bounded: 60 s under emulation)
  for i in $(seq 600); do
    [ -e "$B/rootfs/written" ] && grep -q '^nr_throttled [1-9]' "$(cg cpu.stat)" && break
    sleep 0.1
  done
  run hippo events --stats "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.data.memory.usage.limit == 134217728 and .data.memory.usage.usage > 0'
  echo "$output" | jq -e '.data.memory.swap.limit == 0' # memory+swap == memory: no swap
  echo "$output" | jq -e '[.data.blkio.ioServiceBytesRecursive[] | select(.op == "Write") | .value] | add > 0'
  echo "$output" | jq -e '.data.pids.current >= 1 and .data.pids.limit == 50'
  echo "$output" | jq -e '.data.cpu.usage.total > 0 and .data.cpu.usage.user > 0'
  echo "$output" | jq -e '.data.cpu.throttling.periods > 0 and .data.cpu.throttling.throttled_periods > 0'
  echo "$output" | jq -e '.data.memory.raw.anon > 0 and (.data.memory.raw | has("file"))'
  hippo delete --force "$ID"
}

# What the container sees at /sys/fs/cgroup: its mountinfo line(s) there and below, the
# filesystem type (hex magic), /proc/self/cgroup, whether v1 names exist, and cgroup.procs read
# with the shell's own `read` (no child: only pid 1 is in the cgroup). One script of several
# lines (busybox_bundle would make each line an argument).
cgroup_mount_probe() {
  local script='awk "\$5 ~ \"^/sys/fs/cgroup\"" /proc/self/mountinfo
    echo "type $(stat -f -c %t /sys/fs/cgroup)"
    echo "self $(cat /proc/self/cgroup)"
    for n in cpu memory pids systemd; do [ -e /sys/fs/cgroup/$n ] && echo "has $n"; done
    while read -r p; do echo "proc $p"; done </sys/fs/cgroup/cgroup.procs
    echo end'
  busybox_bundle "$B"
  edit_config "$B" '.process.args = ["sh", "-c", $script]' --arg script "$script"
}

@test "v2: a cgroup mount with a cgroup namespace is a cgroup2 of the container's own cgroup" {
  # Before: a tmpfs holding the container's v2 directory bound under cpu, memory … systemd.
  cgroup_mount_probe
  edit_config "$B" '.linux.namespaces += [{"type": "cgroup"}]'
  run hippo run -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  # One mount, root / (the cgroup namespace's: the container's cgroup), read-only as asked.
  [[ ${lines[0]} == *" / /sys/fs/cgroup ro,nosuid,nodev,noexec"*" - cgroup2 "* ]]
  [ "${lines[1]}" = "type 63677270" ] # CGROUP2_SUPER_MAGIC
  [ "${lines[2]}" = "self 0::/" ]
  [ "${lines[3]}" = "proc 1" ]
  [ "${lines[4]}" = end ]
  assert_no_leaks "$ID" "$B"
}

@test "v2: a cgroup mount without a cgroup namespace binds the container's own directory" {
  # A fresh cgroup2 would show the host's whole tree (runc's does; mounted from the host's
  # cgroup namespace it also resets the host mount's options, nsdelegate included).
  local host_opts
  host_opts=$(awk '$5 == "/sys/fs/cgroup" {print $NF}' /proc/self/mountinfo)
  cgroup_mount_probe
  run hippo run -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == *" $(cgroup_path_of "$B") /sys/fs/cgroup ro,nosuid,nodev,noexec"*" - cgroup2 "* ]]
  [ "${lines[1]}" = "type 63677270" ]
  [ "${lines[2]}" = "self 0::$(cgroup_path_of "$B")" ]
  [ "${lines[3]}" = "proc 1" ]
  [ "${lines[4]}" = end ]
  [ "$(awk '$5 == "/sys/fs/cgroup" {print $NF}' /proc/self/mountinfo)" = "$host_opts" ]
  assert_no_leaks "$ID" "$B"
}

@test "v2: a user namespace owning its cgroup namespace mounts the cgroup2 too" {
  # FS_USERNS_MOUNT: the kernel lets the cgroup namespace's owner mount cgroup2; its root is
  # the container's cgroup, as without the user namespace.
  cgroup_mount_probe
  edit_config "$B" '.linux.namespaces += [{"type": "cgroup"}, {"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .mounts |= map(if .destination == "/dev/pts" then .options -= ["gid=5"] else . end)'
  chown -R 100000:100000 "$B/rootfs"
  local d=$B
  while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
  run hippo run -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == *" / /sys/fs/cgroup ro,nosuid,nodev,noexec"*" - cgroup2 "* ]]
  [ "${lines[1]}" = "type 63677270" ]
  [ "${lines[2]}" = "self 0::/" ]
  [ "${lines[3]}" = "proc 1" ]
  [ "${lines[4]}" = end ]
  assert_no_leaks "$ID" "$B"
}
