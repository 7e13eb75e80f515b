#!/usr/bin/env bats
# The systemd cgroup driver against a real systemd (hack/systemd-sandbox.sh): units, their
# properties and the cgroup files, in-place updates that survive daemon-reload, annotations,
# UnitExists recovery, errors that leave nothing behind, freezer, OOM, stats, many at once.
# The same key behaviours under the cgroupfs driver: systemd-cgroupfs.bats.

load systemd_helpers

setup_file() {
  sd_setup_file sd
}

teardown_file() {
  sd_teardown_file
}

setup() {
  N=$(test_name)
  B=$SD_DIR/bundle-$BATS_TEST_NUMBER
  UNIT=hippo-$N.scope
  CG=/system.slice/$UNIT
}

teardown() {
  sd_cleanup
}

@test "run --systemd-cgroup starts <prefix>-<name>.scope in the slice, delegated, with the init in it" {
  sd_bundle "$B" "system.slice:hippo:$N"
  hsd_create --systemd-cgroup create -b "$B" "$N"
  [ "$(unit_prop "$UNIT" ActiveState)" = active ]
  [ "$(unit_prop "$UNIT" Slice)" = system.slice ]
  [ "$(unit_prop "$UNIT" ControlGroup)" = "$CG" ]
  [ "$(unit_prop "$UNIT" Delegate)" = yes ]
  [ "$(unit_prop "$UNIT" Description)" = "hippo container $N" ]
  [ "$(unit_prop "$UNIT" MemoryAccounting)" = yes ]
  [ "$(unit_prop "$UNIT" TasksAccounting)" = yes ]
  pid=$(hsd state "$N" | jq -r .pid)
  [ "$(cg_value procs "$CG")" = "$pid" ]
  hsd delete --force "$N"
}

@test "a 64 MiB memory limit is the unit's memory property and the cgroup file's value" {
  sd_bundle "$B" "system.slice:hippo:$N"
  edit_config "$B" '.linux.resources.memory = {"limit": 67108864}'
  hsd_create --systemd-cgroup run -d -b "$B" "$N"
  [ "$(unit_prop "$UNIT" "$(prop_name memory)")" = 67108864 ]
  [ "$(cg_value memory "$CG")" = 67108864 ]
  hsd delete --force "$N"
}

@test "update --memory 128M changes the unit's property and the cgroup file" {
  sd_bundle "$B" "system.slice:hippo:$N"
  edit_config "$B" '.linux.resources.memory = {"limit": 67108864}'
  hsd_create --systemd-cgroup run -d -b "$B" "$N"
  hsd --systemd-cgroup update --memory 128M "$N"
  [ "$(unit_prop "$UNIT" "$(prop_name memory)")" = 134217728 ]
  [ "$(cg_value memory "$CG")" = 134217728 ]
  hsd delete --force "$N"
}

@test "updated values survive systemctl daemon-reload, in the unit and in the files" {
  sd_bundle "$B" "system.slice:hippo:$N"
  edit_config "$B" '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 50}
    | .linux.resources.cpu = {"shares": 512, "quota": 20000, "period": 100000}'
  hsd_create --systemd-cgroup run -d -b "$B" "$N"
  hsd update --memory 128M --pids-limit 77 --cpu-share 256 --cpu-quota 30000 "$N"
  sd systemctl daemon-reload
  [ "$(unit_prop "$UNIT" "$(prop_name memory)")" = 134217728 ]
  [ "$(unit_prop "$UNIT" TasksMax)" = 77 ]
  [ "$(unit_prop "$UNIT" CPUQuotaPerSecUSec)" = 300ms ]
  [ "$(cg_value memory "$CG")" = 134217728 ]
  [ "$(cg_value pids "$CG")" = 77 ]
  [ "$(cg_value quota "$CG")" = 30000 ]
  if [ "$SD_V2" = 1 ]; then
    [ "$(cg_value shares "$CG")" = 10 ]  # runc's map of 256 shares onto cpu.weight
  else
    [ "$(cg_value shares "$CG")" = 256 ]
  fi
  hsd delete --force "$N"
}

@test "cpu shares are the unit's CPUShares (v1) or CPUWeight (v2) and the file's value" {
  sd_bundle "$B" "system.slice:hippo:$N"
  edit_config "$B" '.linux.resources.cpu = {"shares": 512}'
  hsd_create --systemd-cgroup run -d -b "$B" "$N"
  if [ "$SD_V2" = 1 ]; then want=20; else want=512; fi
  [ "$(unit_prop "$UNIT" "$(prop_name shares)")" = "$want" ]
  [ "$(cg_value shares "$CG")" = "$want" ]
  hsd delete --force "$N"
}

@test "cpu quota and period are CPUQuotaPerSecUSec and CPUQuotaPeriodUSec and the files' values" {
  sd_bundle "$B" "system.slice:hippo:$N"
  edit_config "$B" '.linux.resources.cpu = {"quota": 25000, "period": 50000}'
  hsd_create --systemd-cgroup run -d -b "$B" "$N"
  [ "$(unit_prop "$UNIT" CPUQuotaPerSecUSec)" = 500ms ]
  [ "$(unit_prop "$UNIT" CPUQuotaPeriodUSec)" = 50ms ]
  [ "$(cg_value quota "$CG")" = 25000 ]
  [ "$(cg_value period "$CG")" = 50000 ]
}

@test "update of the quota alone keeps the live period" {
  sd_bundle "$B" "system.slice:hippo:$N"
  edit_config "$B" '.linux.resources.cpu = {"quota": 25000, "period": 50000}'
  hsd_create --systemd-cgroup run -d -b "$B" "$N"
  hsd update --cpu-quota 10000 "$N"
  [ "$(unit_prop "$UNIT" CPUQuotaPerSecUSec)" = 200ms ]
  [ "$(cg_value quota "$CG")" = 10000 ]
  [ "$(cg_value period "$CG")" = 50000 ]
  sd systemctl daemon-reload
  [ "$(cg_value quota "$CG")" = 10000 ]
}

@test "a pids limit is TasksMax and pids.max; none is infinity, not systemd's DefaultTasksMax" {
  sd_bundle "$B" "system.slice:hippo:$N"
  edit_config "$B" '.linux.resources.pids = {"limit": 42}'
  hsd_create --systemd-cgroup run -d -b "$B" "$N"
  [ "$(unit_prop "$UNIT" TasksMax)" = 42 ]
  [ "$(cg_value pids "$CG")" = 42 ]
  n2=$N-2
  sd_bundle "$B-2" "system.slice:hippo:$n2"
  hsd_create --systemd-cgroup run -d -b "$B-2" "$n2"
  [ "$(unit_prop "hippo-$n2.scope" TasksMax)" = infinity ]
  [ "$(cg_value pids "/system.slice/hippo-$n2.scope")" = max ]
}

@test "a blkio weight is the unit's BlockIOWeight (v1) or IOWeight (v2), and the file's where the kernel has one" {
  sd_bundle "$B" "system.slice:hippo:$N"
  edit_config "$B" '.linux.resources.blockIO = {"weight": 300}'
  hsd_create --systemd-cgroup run -d -b "$B" "$N"
  if [ "$SD_V2" = 1 ]; then want=2930; else want=300; fi  # runc's map onto io.weight
  [ "$(unit_prop "$UNIT" "$(prop_name blkio)")" = "$want" ]
  file=$(sd_blkio_weight_file "$CG")
  if [ -n "$file" ]; then
    echo "# host has a blkio weight file: checking $(basename "$file") too" >&3
    sd cat "$file" | blkio_weight_is "$file" 300
  else
    # Neither file: systemd holds the weight alone and hippo writes no file (it would fail).
    echo "# host has no blkio weight file: checking that systemd alone carries the weight" >&3
  fi
  hsd update --blkio-weight 500 "$N"
  if [ "$SD_V2" = 1 ]; then want=4950; else want=500; fi
  [ "$(unit_prop "$UNIT" "$(prop_name blkio)")" = "$want" ]
  [ -z "$file" ] || sd cat "$file" | blkio_weight_is "$file" 500
  hsd delete --force "$N"
  assert_no_leaks_sd "$N" "$CG" "$UNIT"
}

@test "device rules are DevicePolicy=strict and DeviceAllow, and enforced after daemon-reload" {
  sd_bundle "$B" "system.slice:hippo:$N"
  # CAP_MKNOD, so that only the device policy can stop the read below.
  edit_config "$B" '.process.capabilities |= with_entries(.value += ["CAP_MKNOD"])'
  hsd_create --systemd-cgroup run -d -b "$B" "$N"
  [ "$(unit_prop "$UNIT" DevicePolicy)" = strict ]
  run unit_prop "$UNIT" DeviceAllow
  [[ $output == *"/dev/char/1:3 rwm"* ]]
  [[ $output == *"char-pts rwm"* ]]
  [[ $output != *"/dev/char/1:1 "* ]]
  sd systemctl daemon-reload
  # /dev/fuse opens for root whatever the state of fuse: only the device policy can refuse it.
  run hsd exec "$N" sh -c 'mknod /dev/fuse2 c 10 229 || exit 9; (exec 3</dev/fuse2) 2>&1; echo "rc=$?"'
  [ "$status" -eq 0 ]
  [[ $output == *"Operation not permitted"* ]]
  [[ ${lines[-1]} == rc=[1-9]* ]]
  # An update that allows it reaches both the unit and the cgroup.
  echo '{"devices": [{"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rwm"}]}' \
    >"$SD_DIR/devices-$BATS_TEST_NUMBER.json"
  hsd update --resources "$SD_DIR/devices-$BATS_TEST_NUMBER.json" "$N"
  run unit_prop "$UNIT" DeviceAllow
  [[ $output == *"/dev/char/10:229 rwm"* ]]
  run hsd exec "$N" sh -c '(exec 3</dev/fuse2) 2>&1; echo "rc=$?"'
  [ "$output" = rc=0 ]
}

@test "update of cpuset reaches the files (v1) or AllowedCPUs (v2)" {
  sd_bundle "$B" "system.slice:hippo:$N"
  hsd_create --systemd-cgroup run -d -b "$B" "$N"
  hsd update --cpuset-cpus 0 "$N"
  [ "$(cg_value cpus "$CG")" = 0 ]
  if [ "$SD_V2" = 1 ]; then [ "$(unit_prop "$UNIT" AllowedCPUs)" = 0 ]; fi
}

@test "org.systemd.property.* annotations become unit properties (Sec values in USec)" {
  sd_bundle "$B" "system.slice:hippo:$N"
  edit_config "$B" '.annotations = {"org.systemd.property.CollectMode": "'"'"'inactive-or-failed'"'"'",
    "org.systemd.property.TimeoutStopSec": "7", "org.systemd.property.CPUQuotaPerSecUSec": "uint64 300000"}'
  hsd_create --systemd-cgroup run -d -b "$B" "$N"
  [ "$(unit_prop "$UNIT" CollectMode)" = inactive-or-failed ]
  [ "$(unit_prop "$UNIT" TimeoutStopUSec)" = 7s ]
  [ "$(unit_prop "$UNIT" CPUQuotaPerSecUSec)" = 300ms ]
}

@test "a malformed property annotation is an error naming it, and nothing is left" {
  sd_bundle "$B" "system.slice:hippo:$N"
  edit_config "$B" '.annotations = {"org.systemd.property.TasksMax": "lots"}'
  run hsd --systemd-cgroup run -d -b "$B" "$N"
  [ "$status" -ne 0 ]
  [[ $output == *'annotations["org.systemd.property.TasksMax"]'* ]]
  assert_no_leaks_sd "$N" "$CG" "$UNIT"
}

@test "a property systemd refuses fails the start clearly, and nothing is left" {
  sd_bundle "$B" "system.slice:hippo:$N"
  edit_config "$B" '.annotations = {"org.systemd.property.NoSuchThing": "true"}'
  run hsd --systemd-cgroup run -d -b "$B" "$N"
  [ "$status" -ne 0 ]
  [[ $output == *"systemd: start $UNIT"* ]]
  [[ $output == *"NoSuchThing"* ]]
  assert_no_leaks_sd "$N" "$CG" "$UNIT"
}

@test "UnitExists: a failed unit of the same name is reset and the container starts" {
  # A scope that ran into its RuntimeMaxSec stays loaded as failed.
  sd systemd-run --scope --unit="hippo-$N" -p RuntimeMaxSec=1 sleep 100 </dev/null >/dev/null 2>&1 || true
  eventually unit_state_is "$UNIT" failed
  sd_bundle "$B" "system.slice:hippo:$N"
  hsd_create --systemd-cgroup run -d -b "$B" "$N"
  [ "$(unit_prop "$UNIT" ActiveState)" = active ]
  [ "$(unit_prop "$UNIT" Description)" = "hippo container $N" ]
  hsd delete --force "$N"
  assert_no_leaks_sd "$N" "$CG" "$UNIT"
}

@test "an active unit of the same name is an error; that unit is left alone and nothing of ours remains" {
  sd systemd-run --unit="hippo-$N" --scope sleep 1000 </dev/null >/dev/null 2>&1 &
  eventually unit_state_is "$UNIT" active
  sd_bundle "$B" "system.slice:hippo:$N"
  run hsd --systemd-cgroup run -d -b "$B" "$N"
  [ "$status" -ne 0 ]
  [[ $output == *"systemd unit $UNIT already exists and is active"* ]]
  [ "$(unit_prop "$UNIT" ActiveState)" = active ]
  [ ! -e "$SD_DIR/state-$BATS_TEST_NUMBER/$N" ]
  sd systemctl stop "$UNIT"
}

@test "a wrong slice name is an error naming cgroupsPath, and nothing is left" {
  k=0
  for path in "system:hippo:$N" "bad--x.slice:hippo:$N" "/system.slice/$N" "system.slice:hippo"; do
    k=$((k + 1))
    sd_bundle "$B-$k" "$path"
    run hsd --systemd-cgroup run -d -b "$B-$k" "$N"
    [ "$status" -ne 0 ]
    [[ $output == *"linux.cgroupsPath"* ]]
    [ ! -e "$SD_DIR/state-$BATS_TEST_NUMBER/$N" ]
  done
  assert_no_unit "$UNIT"
}

@test "without a reachable systemd, --systemd-cgroup fails clearly and leaves nothing" {
  # On the host side, in a mount namespace whose /run holds no system bus.
  sd_bundle "$B" "system.slice:hippo:$N"
  run unshare -m sh -c 'mount -t tmpfs tmpfs /run && exec "$@"' sh \
    env HIPPO_CONFIG=/dev/null "$HIPPO_BIN" --root "$SD_DIR/state-$BATS_TEST_NUMBER" --systemd-cgroup \
    run -d -b "$B" "$N"
  [ "$status" -ne 0 ]
  [[ $output == *"systemd cgroup driver: connect to the system bus"* ]]
  [ ! -e "$SD_DIR/state-$BATS_TEST_NUMBER/$N" ]
}

@test "a nested slice a-b.slice is expanded as systemd nests it" {
  slice="hippot$$-n$BATS_TEST_NUMBER.slice"
  sd_bundle "$B" "$slice:hippo:$N"
  hsd_create --systemd-cgroup run -d -b "$B" "$N"
  want="/hippot$$.slice/$slice/$UNIT"
  [ "$(unit_prop "$UNIT" ControlGroup)" = "$want" ]
  [ "$(unit_prop "$UNIT" Slice)" = "$slice" ]
  [ -n "$(cg_value procs "$want")" ]
  hsd delete --force "$N"
  assert_no_leaks_sd "$N" "$want" "$UNIT"
}

@test "config.yaml: cgroup_driver systemd and systemd_slice apply without --systemd-cgroup" {
  printf 'cgroup_driver: systemd\nsystemd_slice: machine.slice\n' >"$SD_DIR/config-$BATS_TEST_NUMBER.yaml"
  export HSD_CONFIG=$SD_DIR/config-$BATS_TEST_NUMBER.yaml
  sd_bundle "$B" ":hippo:$N"
  hsd_create run -d -b "$B" "$N"
  [ "$(unit_prop "$UNIT" Slice)" = machine.slice ]
  # No cgroupsPath at all: hippo-<id>.scope in the default slice.
  sd_bundle "$B-2" ""
  hsd_create run -d -b "$B-2" "$N-2"
  [ "$(unit_prop "hippo-$N-2.scope" ControlGroup)" = "/machine.slice/hippo-$N-2.scope" ]
}

@test "config.yaml cgroup_driver auto: systemd for slice:prefix:name, cgroupfs for a path" {
  printf 'cgroup_driver: auto\n' >"$SD_DIR/config-$BATS_TEST_NUMBER.yaml"
  export HSD_CONFIG=$SD_DIR/config-$BATS_TEST_NUMBER.yaml
  sd_bundle "$B" "system.slice:hippo:$N"
  hsd_create run -d -b "$B" "$N"
  [ "$(unit_prop "$UNIT" ActiveState)" = active ]
  sd_bundle "$B-2" "/hippo-fs/$N"
  hsd_create run -d -b "$B-2" "$N-2"
  [ -n "$(cg_value procs "/hippo-fs/$N")" ]
  hsd delete --force "$N-2"
  [ -z "$(cg_dirs "/hippo-fs/$N")" ]
  sd sh -c 'rmdir /sys/fs/cgroup/*/hippo-fs /sys/fs/cgroup/hippo-fs 2>/dev/null; true'
}

@test "the init is in the unit's cgroup before it execs, and exec joins it too" {
  sd_bundle "$B" "system.slice:hippo:$N" cat /proc/self/cgroup
  edit_config "$B" '.linux.namespaces |= map(select(.type != "cgroup"))'
  run hsd --systemd-cgroup run -b "$B" "$N"
  [ "$status" -eq 0 ]
  if [ "$SD_V2" = 1 ]; then
    [ "$output" = "0::$CG" ]
  else
    for c in memory freezer cpuset name=systemd; do [[ $output == *":$c:$CG"* ]]; done
  fi
  sd_bundle "$B-2" "system.slice:hippo:$N-2"
  edit_config "$B-2" '.linux.namespaces |= map(select(.type != "cgroup"))'
  hsd_create --systemd-cgroup run -d -b "$B-2" "$N-2"
  run hsd exec "$N-2" cat /proc/self/cgroup
  [ "$status" -eq 0 ]
  if [ "$SD_V2" = 1 ]; then
    [ "$output" = "0::/system.slice/hippo-$N-2.scope" ]
  else
    for c in memory freezer pids name=systemd; do
      [[ $output == *":$c:/system.slice/hippo-$N-2.scope"* ]]
    done
  fi
}

@test "a cgroup mount in the container shows the unit's own cgroups" {
  [ "$SD_V2" = 0 ] || skip "v1 only: a cgroup (v1) mount binds one directory per controller"
  sd_bundle "$B" "system.slice:hippo:$N" sh -c 'ls /sys/fs/cgroup; cat /sys/fs/cgroup/memory/memory.limit_in_bytes'
  edit_config "$B" '.linux.resources.memory = {"limit": 67108864}'
  run hsd --systemd-cgroup run -b "$B" "$N"
  [ "$status" -eq 0 ]
  for c in memory freezer cpuset pids devices; do [[ $output == *"$c"* ]]; done
  [ "${lines[-1]}" = 67108864 ]
}

@test "pause and resume freeze and thaw the unit's cgroup" {
  sd_bundle "$B" "system.slice:hippo:$N"
  hsd_create --systemd-cgroup run -d -b "$B" "$N"
  hsd pause "$N"
  [ "$(hsd state "$N" | jq -r .status)" = paused ]
  [ "$(cg_value frozen "$CG")" = 1 ]
  hsd resume "$N"
  [ "$(hsd state "$N" | jq -r .status)" = running ]
  [ "$(cg_value frozen "$CG")" = 0 ]
  [ "$(unit_prop "$UNIT" ActiveState)" = active ]
}

@test "a container allocating past its limit reports an OOM event and exits 137" {
  sd_bundle "$B" "system.slice:hippo:$N" sh -c 'sleep 0.5; tail /dev/zero'
  edit_config "$B" '.linux.resources.memory = {"limit": 33554432}'
  hsd_create --systemd-cgroup create -b "$B" "$N"
  hsd events --interval 100ms "$N" >"$SD_DIR/events-$BATS_TEST_NUMBER.out" 2>&1 &
  events=$!
  hsd start "$N"
  eventually grep -q '"type":"oom"' "$SD_DIR/events-$BATS_TEST_NUMBER.out"
  eventually status_is "$N" stopped
  wait "$events" || true
  grep -q "{\"type\":\"oom\",\"id\":\"$N\"}" "$SD_DIR/events-$BATS_TEST_NUMBER.out"
  hsd delete --force "$N"
  assert_no_leaks_sd "$N" "$CG" "$UNIT"
  # In the foreground the exit status is the SIGKILL's.
  run hsd --systemd-cgroup run -b "$B" "$N"
  [ "$status" -eq 137 ]
  assert_no_leaks_sd "$N" "$CG" "$UNIT"
}

@test "delete leaves no unit and no cgroup in any hierarchy" {
  sd_bundle "$B" "system.slice:hippo:$N"
  edit_config "$B" '.linux.resources.cpu = {"cpus": "0"}'
  hsd_create --systemd-cgroup run -d -b "$B" "$N"
  hsd pause "$N"  # a frozen container is killed and removed too
  hsd delete --force "$N"
  assert_no_leaks_sd "$N" "$CG" "$UNIT"
  run sd sh -c "systemctl list-units --all --no-legend | grep hippo-$N"
  [ -z "$output" ]
}

@test "a container whose init exited is deleted cleanly after systemd collected its scope" {
  sd_bundle "$B" "system.slice:hippo:$N" true
  hsd_create --systemd-cgroup run -d -b "$B" "$N"
  eventually status_is "$N" stopped
  # An empty scope is garbage-collected by systemd.
  eventually assert_no_unit "$UNIT"
  hsd delete "$N"
  assert_no_leaks_sd "$N" "$CG" "$UNIT"
}

@test "stats under the systemd driver have the cgroupfs driver's shape and the unit's values" {
  sd_bundle "$B" "system.slice:hippo:$N"
  edit_config "$B" '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 30}'
  hsd_create --systemd-cgroup run -d -b "$B" "$N"
  sd_bundle "$B-2" "/hippo-fs-$N"
  edit_config "$B-2" '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 30}'
  hsd_create run -d -b "$B-2" "$N-2"
  a=$(hsd events --stats "$N")
  b=$(hsd events --stats "$N-2")
  [ "$(jq -c '[paths] | sort' <<<"$a")" = "$(jq -c '[paths] | sort' <<<"$b")" ]
  [ "$(jq .data.memory.usage.limit <<<"$a")" = 67108864 ]
  [ "$(jq .data.pids.limit <<<"$a")" = 30 ]
  [ "$(jq .data.pids.current <<<"$a")" = 1 ]
  [ "$(jq .data.memory.usage.usage <<<"$a")" -gt 0 ]
}

@test "20 containers in parallel each get their own scope, and all go away" {
  for i in $(seq 20); do sd_bundle "$B-$i" "system.slice:hippo:$N-$i"; done
  for i in $(seq 20); do
    hsd --systemd-cgroup run -d -b "$B-$i" "$N-$i" </dev/null >"$SD_DIR/par-$i.out" 2>&1 &
  done
  wait
  for i in $(seq 20); do
    [ "$(unit_prop "hippo-$N-$i.scope" ActiveState)" = active ]
    pid=$(hsd state "$N-$i" | jq -r .pid)
    [ "$(cg_value procs "/system.slice/hippo-$N-$i.scope")" = "$pid" ]
  done
  [ "$(sd systemctl list-units --all --no-legend "hippo-$N-*" | wc -l)" -eq 20 ]
  for i in $(seq 20); do hsd delete --force "$N-$i" & done
  wait
  for i in $(seq 20); do assert_no_leaks_sd "$N-$i" "/system.slice/hippo-$N-$i.scope" "hippo-$N-$i.scope"; done
}
