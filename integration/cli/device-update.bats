#!/usr/bin/env bats
# Device cgroup rules changed in place on a running container (`hippo update -r`): v1 device
# files (written with the cgroup frozen), on v2 the eBPF program replaced. The device is fake:
# /dev/kmsg's numbers (c 1:11), which no default rule allows, at /dev/fakegpu from
# linux.devices. Opened write-only it needs no capability, and nothing is written to it.

load ../helpers

setup_file() {
  build_busybox_rootfs
}

setup() {
  B=$BATS_TEST_TMPDIR/bundle
  ID=$(test_name)
  busybox_bundle "$B" sleep 1000
  edit_config "$B" '.linux.devices = [{"path": "/dev/fakegpu", "type": "c", "major": 1,
    "minor": 11, "fileMode": 438, "uid": 0, "gid": 0}]'
}

teardown() {
  cleanup_containers
}

# opens NODE: whether the container may open /dev/NODE for writing (a shell redirection that
# writes nothing).
opens() {
  hippo exec "$ID" sh -c ": > /dev/$1" 2>"$BATS_TEST_TMPDIR/open.err"
}

# The container's device policy as the kernel holds it: v1 devices.list, v2 the ids of the
# programs attached to its cgroup.
policy() {
  if cgroup_v2; then
    "$HIPPO_BUILD/tests/device-programs" "/sys/fs/cgroup$(cgroup_path_of "$B")"
  else
    cat "$(cgroup_file "$B" devices devices.list)"
  fi
}

update_devices() {
  jq -n --argjson d "$1" '{devices: $d}' >"$BATS_TEST_TMPDIR/resources.json"
  hippo update -r "$BATS_TEST_TMPDIR/resources.json" "$ID"
}

@test "update adds an allow rule for a device, a second update removes it; defaults stay" {
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  run opens fakegpu
  [ "$status" -ne 0 ]
  grep -q "Operation not permitted" "$BATS_TEST_TMPDIR/open.err"
  opens null

  update_devices '[{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
  opens fakegpu
  opens null
  opens zero
  [ "$(hippo state "$ID" | jq -r .status)" = running ]

  # The list is the whole new policy: without the rule the device is denied again.
  update_devices '[]'
  run opens fakegpu
  [ "$status" -ne 0 ]
  opens null
  [ "$(hippo state "$ID" | jq -r .status)" = running ]

  # Repeated updates leave one program on v2, not one more per update.
  for _ in 1 2 3; do
    update_devices '[{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
  done
  opens fakegpu
  if cgroup_v2; then [ "$(policy | wc -l)" -eq 1 ]; fi
  hippo delete --force "$ID"
  assert_no_leaks "$ID" "$B"
}

@test "an update of a paused container keeps it paused, and the new rule holds after resume" {
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  hippo pause "$ID"
  update_devices '[{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
  [ "$(hippo state "$ID" | jq -r .status)" = paused ]
  hippo resume "$ID"
  opens fakegpu
  hippo delete --force "$ID"
}

@test "a malformed device rule is refused with one line naming it, and the policy is unchanged" {
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  update_devices '[{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
  before=$(policy)

  run update_devices '[{"allow": false, "access": "rwm"}, {"allow": true, "type": "x", "major": 1, "minor": 3, "access": "rwm"}]'
  [ "$status" -ne 0 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == *'devices[1].type'*'"x"'* ]]

  run update_devices '[{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwx"}]'
  [ "$status" -ne 0 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == *'devices[0].access'*'"rwx"'* ]]

  run update_devices '[{"allow": true, "type": "c", "major": -5, "minor": 3, "access": "rw"}]'
  [ "$status" -ne 0 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == *'devices[0].major'*'-5'* ]]

  [ "$(policy)" = "$before" ]
  opens fakegpu
  opens null
  [ "$(hippo state "$ID" | jq -r .status)" = running ]
  hippo delete --force "$ID"
}

@test "update without devices leaves the device policy alone" {
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  update_devices '[{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
  before=$(policy)
  hippo update --pids-limit 100 "$ID"
  [ "$(policy)" = "$before" ]
  opens fakegpu
  hippo delete --force "$ID"
}

@test "a device every list allows stays usable while updates rewrite the list" {
  # The v1 list is rewritten as "deny a", then the allows: without the freeze around it a
  # task opening /dev/null in between is refused. A loop inside opens it continuously and
  # notes each refusal; none may happen (on v2 the new program binds before the old goes).
  rm -rf "$B"
  busybox_bundle "$B" sh -c 'for _ in 1 2 3; do (while :; do true >/dev/null 2>/dev/null || echo refused >>/refusals; done) & done; wait'
  edit_config "$B" '.root.readonly = false'
  edit_config "$B" '.linux.devices = [{"path": "/dev/fakegpu", "type": "c", "major": 1,
    "minor": 11, "fileMode": 438, "uid": 0, "gid": 0}]'
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  # Fewer rounds on v2, where no window exists by construction and the VM is emulated.
  local rounds=50
  if cgroup_v2; then rounds=5; fi
  for _ in $(seq "$rounds"); do
    update_devices '[{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
    update_devices '[]'
  done
  [ ! -e "$B/rootfs/refusals" ] || { echo "refused $(wc -l <"$B/rootfs/refusals") times" >&2; false; }
  hippo delete --force "$ID"
}

@test "user namespace container: an update adds and removes the rule as for any other" {
  # In a user namespace no node can be made: the fake device is a host node bound in, which
  # the container's root (host uid 100000) may open as far as its mode goes.
  mknod "$BATS_TEST_TMPDIR/fakegpu" c 1 11
  chmod 666 "$BATS_TEST_TMPDIR/fakegpu"
  edit_config "$B" 'del(.linux.devices)
    | .linux.namespaces += [{"type":"user"}]
    | .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
    | .linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
    | .mounts |= map(select(.destination != "/sys/fs/cgroup"))
    | .mounts |= map(if .destination == "/sys" then {destination: "/sys", type: "none", source: "/sys", options: ["rbind","nosuid","noexec","nodev","ro"]} else . end)
    | .mounts |= map(if .destination == "/dev/pts" then .options -= ["gid=5"] else . end)
    | .mounts += [{destination: "/dev/fakegpu", type: "bind", source: $node, options: ["bind"]}]' --arg node "$BATS_TEST_TMPDIR/fakegpu"
  chown -R 100000:100000 "$B/rootfs"
  d=$B; while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  run opens fakegpu
  [ "$status" -ne 0 ]
  grep -q "Operation not permitted" "$BATS_TEST_TMPDIR/open.err"
  update_devices '[{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
  opens fakegpu
  opens null
  update_devices '[]'
  run opens fakegpu
  [ "$status" -ne 0 ]
  opens null
  hippo delete --force "$ID"
  assert_no_leaks "$ID" "$B"
}

@test "an update reaches a container whose cgroup has one below it (an inner runtime's)" {
  # v1 refuses "a" in devices.deny while a cgroup has children: the list is emptied entry by
  # entry instead. v2: the program of the container's cgroup is replaced as ever.
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  inner=$(dirname "$(cgroup_file "$B" devices devices.list)")/inner
  mkdir "$inner"
  update_devices '[{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
  opens fakegpu
  opens null
  # A list that starts with its own deny-all, as runc's and Docker's specs do.
  update_devices '[{"allow": false, "access": "rwm"}]'
  run opens fakegpu
  [ "$status" -ne 0 ]
  opens null
  if ! cgroup_v2; then
    # The inner cgroup's list follows its parent's: the rule removed above is gone below too.
    ! grep -q '^c 1:11' "$inner/devices.list"
  fi
  rmdir "$inner"
  hippo delete --force "$ID"
  assert_no_leaks "$ID" "$B"
}
