#!/usr/bin/env bats
# containerd-shim-hippo-v2 with the systemd cgroup driver, inside a real systemd
# (hack/systemd-sandbox.sh): a private containerd runs in the sandbox, ctr chooses the driver
# through the runtime's config.yaml (runtime options ConfigPath), cgroupsPath in runc's
# slice:prefix:name form, as CRI passes it for the systemd driver.

load systemd_helpers

setup_file() {
  sd_setup_file shim
  export NS=hippo-sdshim-$$
  export IMAGE=docker.io/hippo/busybox:latest
  export CTRD=$SD_DIR/ctrd
  printf 'cgroup_driver: systemd\nstate_root: %s\n' "$SD_DIR/hippo-state" >"$SD_DIR/hippo.yaml"
  # containerd (and the shims it starts) live in the sandbox; /run there is the sandbox's own.
  sd env PATH="$(dirname "$HIPPO_SHIM"):$PATH" HIPPO_CONFIG=/dev/null \
    "$REPO_ROOT/hack/private-containerd.sh" start "$CTRD" >/dev/null
  cp "$BATS_FILE_TMPDIR/images/busybox-oci.tar" "$SD_DIR/busybox-oci.tar"
  sctr images import "$SD_DIR/busybox-oci.tar" >/dev/null
}

teardown_file() {
  sd "$REPO_ROOT/hack/private-containerd.sh" stop "$CTRD" >/dev/null 2>&1 || true
  sd_teardown_file
}

setup() {
  N=$(test_name)
  UNIT=hippo-$N.scope
  CG=/system.slice/$UNIT
}

teardown() {
  local id
  for id in $(sctr containers ls -q 2>/dev/null); do
    sctr task kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    for i in $(seq 50); do sctr task ls -q 2>/dev/null | grep -qx "$id" && [ "$(sctr task ls | awk -v id="$id" '$1 == id {print $3}')" != STOPPED ] || break; sleep 0.1; done
    sctr task delete "$id" >/dev/null 2>&1 || true
    sctr containers delete "$id" >/dev/null 2>&1 || true
  done
}

sctr() {
  sd ctr --address "$CTRD/containerd.sock" -n "$NS" "$@"
}

# srun [ctr run flags] ID CMD...: the hippo runtime with the systemd driver.
srun() {
  sctr run --runtime io.containerd.hippo.v2 --runtime-config-path "$SD_DIR/hippo.yaml" \
    --fifo-dir "$SD_DIR/fifo" "$@"
}

task_status_is() {
  [ "$(sctr task ls | awk -v id="$1" '$1 == id {print $3}')" = "$2" ]
}

@test "shim: the container runs in <prefix>-<name>.scope with its memory limit in the unit and the file" {
  srun -d --cgroup "system.slice:hippo:$N" --memory-limit 67108864 "$IMAGE" "$N" sleep 1000
  eventually task_status_is "$N" RUNNING
  [ "$(unit_prop "$UNIT" ActiveState)" = active ]
  [ "$(unit_prop "$UNIT" ControlGroup)" = "$CG" ]
  [ "$(unit_prop "$UNIT" "$(prop_name memory)")" = 67108864 ]
  [ "$(cg_value memory "$CG")" = 67108864 ]
  pid=$(sctr task ls | awk -v id="$N" '$1 == id {print $2}')
  [[ "$(cg_value procs "$CG")" == *"$pid"* ]]
  # Stats come from the unit's cgroup.
  run sctr task metrics "$N"
  [ "$status" -eq 0 ]
  [[ $output == *"67108864"* ]]
  sctr task kill -s SIGKILL "$N"
  eventually task_status_is "$N" STOPPED
  sctr task delete "$N"
  sctr containers delete "$N"
  eventually assert_no_unit "$UNIT"
  [ -z "$(cg_dirs "$CG")" ]
}

@test "shim: pause freezes the unit's cgroup; daemon-reload keeps the unit's limit" {
  # (ctr 1.6 has no `task update`: Update is covered through the same backend call by
  # systemd.bats' update tests.)
  srun -d --cgroup "system.slice:hippo:$N" --memory-limit 67108864 "$IMAGE" "$N" sleep 1000
  eventually task_status_is "$N" RUNNING
  sctr task pause "$N"
  [ "$(cg_value frozen "$CG")" = 1 ]
  sctr task resume "$N"
  [ "$(cg_value frozen "$CG")" = 0 ]
  sd systemctl daemon-reload
  [ "$(unit_prop "$UNIT" "$(prop_name memory)")" = 67108864 ]
  [ "$(cg_value memory "$CG")" = 67108864 ]
}

@test "shim: an OOM kill under the systemd driver is reported before the exit, status 137" {
  # (nsenter forks: the ctr inside is bounded by its own timeout, not by killing the wrapper.)
  sd timeout 30 ctr --address "$CTRD/containerd.sock" -n "$NS" events >"$SD_DIR/events-$BATS_TEST_NUMBER" 2>&1 3>&- &
  sleep 0.5
  run srun --rm --cgroup "system.slice:hippo:$N" --memory-limit 33554432 "$IMAGE" "$N" sh -c 'tail /dev/zero'
  [ "$status" -eq 137 ]
  for i in $(seq 50); do grep -q "/tasks/delete" "$SD_DIR/events-$BATS_TEST_NUMBER" && break; sleep 0.1; done
  run sh -c "grep '$N' '$SD_DIR/events-$BATS_TEST_NUMBER' | grep -o '/tasks/[a-z-]*'"
  [ "${lines[2]}" = /tasks/oom ]
  [ "${lines[3]}" = /tasks/exit ]
  eventually assert_no_unit "$UNIT"
}
