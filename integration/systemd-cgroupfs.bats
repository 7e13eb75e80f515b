#!/usr/bin/env bats
# The cgroupfs driver on a host run by systemd (hack/systemd-sandbox.sh): the key behaviours of
# systemd.bats, so that both drivers stay equal, and systemd leaving a cgroup it does not own
# alone across daemon-reload.

load systemd_helpers

setup_file() {
  sd_setup_file fs
  printf 'cgroup_driver: cgroupfs\n' >"$SD_DIR/cgroupfs.yaml"
}

teardown_file() {
  sd_teardown_file
}

setup() {
  N=$(test_name)
  B=$SD_DIR/bundle-$BATS_TEST_NUMBER
  CG=/hippo-fs-$$/$N
  export HSD_CONFIG=$SD_DIR/cgroupfs.yaml
}

teardown() {
  sd_cleanup
  sd sh -c 'rmdir /sys/fs/cgroup/*/hippo-fs-$1 /sys/fs/cgroup/hippo-fs-$1 2>/dev/null; true' sh $$
}

@test "cgroupfs: the memory limit is in the file and update changes it; no unit is made" {
  sd_bundle "$B" "$CG"
  edit_config "$B" '.linux.resources.memory = {"limit": 67108864}'
  hsd_create run -d -b "$B" "$N"
  [ "$(cg_value memory "$CG")" = 67108864 ]
  hsd update --memory 128M "$N"
  [ "$(cg_value memory "$CG")" = 134217728 ]
  run sd sh -c "systemctl list-units --all --no-legend | grep -F $N"
  [ -z "$output" ]
}

@test "cgroupfs: systemctl daemon-reload leaves the values of a cgroup systemd does not own" {
  sd_bundle "$B" "$CG"
  edit_config "$B" '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 50}
    | .linux.resources.cpu = {"quota": 20000, "period": 100000}'
  hsd_create run -d -b "$B" "$N"
  hsd update --memory 128M --pids-limit 77 --cpu-quota 30000 "$N"
  sd systemctl daemon-reload
  [ "$(cg_value memory "$CG")" = 134217728 ]
  [ "$(cg_value pids "$CG")" = 77 ]
  [ "$(cg_value quota "$CG")" = 30000 ]
}

@test "cgroupfs: the init is in its cgroup before it execs" {
  sd_bundle "$B" "$CG" cat /proc/self/cgroup
  edit_config "$B" '.linux.namespaces |= map(select(.type != "cgroup"))'
  run hsd run -b "$B" "$N"
  [ "$status" -eq 0 ]
  if [ "$SD_V2" = 1 ]; then
    [ "$output" = "0::$CG" ]
  else
    for c in memory freezer cpuset name=systemd; do [[ $output == *":$c:$CG"* ]]; done
  fi
}

@test "cgroupfs: pause and resume freeze and thaw the cgroup" {
  sd_bundle "$B" "$CG"
  hsd_create run -d -b "$B" "$N"
  hsd pause "$N"
  [ "$(hsd state "$N" | jq -r .status)" = paused ]
  [ "$(cg_value frozen "$CG")" = 1 ]
  hsd resume "$N"
  [ "$(hsd state "$N" | jq -r .status)" = running ]
  [ "$(cg_value frozen "$CG")" = 0 ]
}

@test "cgroupfs: a container allocating past its limit reports an OOM event and exits 137" {
  sd_bundle "$B" "$CG" sh -c 'sleep 0.5; tail /dev/zero'
  edit_config "$B" '.linux.resources.memory = {"limit": 33554432}'
  hsd_create create -b "$B" "$N"
  hsd events --interval 100ms "$N" >"$SD_DIR/events-$BATS_TEST_NUMBER.out" 2>&1 &
  events=$!
  hsd start "$N"
  eventually grep -q '"type":"oom"' "$SD_DIR/events-$BATS_TEST_NUMBER.out"
  eventually status_is "$N" stopped
  wait "$events" || true
  grep -q "{\"type\":\"oom\",\"id\":\"$N\"}" "$SD_DIR/events-$BATS_TEST_NUMBER.out"
  hsd delete --force "$N"
  run hsd run -b "$B" "$N"
  [ "$status" -eq 137 ]
  assert_no_leaks_sd "$N" "$CG"
}

@test "cgroupfs: delete leaves no cgroup in any hierarchy" {
  sd_bundle "$B" "$CG"
  hsd_create run -d -b "$B" "$N"
  [ -n "$(cg_dirs "$CG")" ]
  hsd pause "$N"
  hsd delete --force "$N"
  assert_no_leaks_sd "$N" "$CG"
}

@test "cgroupfs: stats carry the cgroup's values" {
  sd_bundle "$B" "$CG"
  edit_config "$B" '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 30}'
  hsd_create run -d -b "$B" "$N"
  a=$(hsd events --stats "$N")
  [ "$(jq .data.memory.usage.limit <<<"$a")" = 67108864 ]
  [ "$(jq .data.pids.limit <<<"$a")" = 30 ]
  [ "$(jq .data.pids.current <<<"$a")" = 1 ]
  [ "$(jq .data.memory.usage.usage <<<"$a")" -gt 0 ]
}

@test "cgroupfs: a slice:prefix:name cgroupsPath (a kubelet on the systemd driver) is laid out as systemd would" {
  SL=hippo_fs_$$.slice
  sd_bundle "$B" "$SL:cri:$N"
  edit_config "$B" '.linux.resources.memory = {"limit": 67108864}'
  hsd_create run -d -b "$B" "$N"
  [ "$(cg_value memory "/$SL/cri-$N.scope")" = 67108864 ]
  pid=$(hsd state "$N" | jq -r .pid)
  [[ "$(cg_value procs "/$SL/cri-$N.scope")" == *"$pid"* ]]
  # cgroupfs made it: systemd knows no such unit
  run sd sh -c "systemctl list-units --all --no-legend | grep -F $N"
  [ -z "$output" ]
  hsd delete --force "$N"
  [ -z "$(cg_dirs "/$SL/cri-$N.scope")" ]
  sd sh -c 'rmdir /sys/fs/cgroup/*/$1 /sys/fs/cgroup/$1 2>/dev/null; true' sh "$SL"
}

@test "cgroupfs: 20 containers in parallel each get their own cgroup, and all go away" {
  for i in $(seq 20); do sd_bundle "$B-$i" "$CG-$i"; done
  for i in $(seq 20); do
    hsd run -d -b "$B-$i" "$N-$i" </dev/null >"$SD_DIR/par-$i.out" 2>&1 &
  done
  wait
  for i in $(seq 20); do
    pid=$(hsd state "$N-$i" | jq -r .pid)
    [ "$(cg_value procs "$CG-$i")" = "$pid" ]
  done
  for i in $(seq 20); do hsd delete --force "$N-$i" & done
  wait
  for i in $(seq 20); do assert_no_leaks_sd "$N-$i" "$CG-$i"; done
}
