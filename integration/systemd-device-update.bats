#!/usr/bin/env bats
# Device rules changed in place under the systemd driver: DevicePolicy/DeviceAllow through
# SetUnitProperties in step with the files (v1) or systemd's own eBPF program (v2). The fake
# device is /dev/kmsg's numbers (c 1:11) at /dev/fakegpu, opened write-only (no capability
# needed, nothing written). The cgroupfs driver: cli/device-update.bats.

load systemd_helpers

setup_file() {
  sd_setup_file sddev
}

teardown_file() {
  sd_teardown_file
}

setup() {
  N=$(test_name)
  B=$SD_DIR/bundle-$BATS_TEST_NUMBER
  UNIT=hippo-$N.scope
}

teardown() {
  sd_cleanup
}

opens() {
  hsd exec "$N" sh -c ": > /dev/$1"
}

update_devices() {
  jq -n --argjson d "$1" '{devices: $d}' >"$SD_DIR/resources-$BATS_TEST_NUMBER.json"
  hsd --systemd-cgroup update -r "$SD_DIR/resources-$BATS_TEST_NUMBER.json" "$N"
}

@test "systemd driver: update allows a device, a second update takes it away again" {
  sd_bundle "$B" "system.slice:hippo:$N"
  edit_config "$B" '.linux.devices = [{"path": "/dev/fakegpu", "type": "c", "major": 1,
    "minor": 11, "fileMode": 438, "uid": 0, "gid": 0}]'
  hsd_create --systemd-cgroup run -d -b "$B" "$N"
  run opens fakegpu
  [ "$status" -ne 0 ]
  [[ $(unit_prop "$UNIT" DeviceAllow) != *'/dev/char/1:11'* ]]

  update_devices '[{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
  [[ $(unit_prop "$UNIT" DeviceAllow) == *'/dev/char/1:11 w'* ]]
  [ "$(unit_prop "$UNIT" DevicePolicy)" = strict ]
  opens fakegpu
  opens null

  # The new list replaces the unit's: systemd would otherwise keep the earlier allow.
  update_devices '[]'
  [[ $(unit_prop "$UNIT" DeviceAllow) != *'/dev/char/1:11'* ]]
  run opens fakegpu
  [ "$status" -ne 0 ]
  opens null
  [ "$(cg_value frozen "/system.slice/$UNIT")" = 0 ]
  hsd delete --force "$N"
}
