#!/usr/bin/env bats
# CDI devices (docs/devices.md): cdi.k8s.io/ annotations resolved by create against the spec
# files of config.yaml's cdi_spec_dirs (private directories here). The vendor example.com/gpu has
# two fake "GPUs", char nodes made in the test's directory with the numbers of devices no
# default rule allows and that open without a capability: gpu0 = c 1:11 (kmsg), gpu1 =
# c 10:229 (fuse), both opened write-only and never written. (mem's 1:3 and 1:5 are /dev/null
# and /dev/zero, which every container may open: they could not show isolation.) The spec also
# mounts a fake driver library directory, sets an env var, adds a createContainer hook and a
# supplementary group.

load ../helpers

bats_require_minimum_version 1.5.0

setup_file() {
  build_busybox_rootfs
}

setup() {
  B=$BATS_TEST_TMPDIR/bundle
  ID=$(test_name)
  D=$BATS_TEST_TMPDIR/cdi
  mkdir -p "$D/etc" "$D/run" "$D/dev" "$D/lib"
  mknod -m 666 "$D/dev/gpu0" c 1 11
  mknod -m 600 "$D/dev/gpu1" c 10 229
  echo fake-driver >"$D/lib/libfakegpu.so"
  printf 'cdi_spec_dirs: [%s, %s]\n' "$D/etc" "$D/run" >"$BATS_TEST_TMPDIR/config.yaml"
  export HIPPO_TEST_CONFIG=$BATS_TEST_TMPDIR/config.yaml
}

teardown() {
  cleanup_containers
}

# The vendor's spec as YAML, in $D/etc.
yaml_spec() {
  cat >"$D/etc/example-gpu.yaml" <<SPEC
cdiVersion: "0.7.0"
kind: example.com/gpu
containerEdits:
  env: ["FAKE_GPU_DRIVER=1"]
  mounts:
    - hostPath: $D/lib
      containerPath: /usr/lib/fake-gpu
      options: [ro, rbind]
  hooks:
    - hookName: createContainer
      path: /bin/sh
      args: [sh, -c, "echo created >>$D/hook.log"]
devices:
  - name: gpu0
    containerEdits:
      env: ["FAKE_GPU=0"]
      deviceNodes:
        - path: /dev/gpu0
          hostPath: $D/dev/gpu0
          permissions: rw
      additionalGids: [4242]
  - name: gpu1
    containerEdits:
      env: ["FAKE_GPU=1"]
      deviceNodes:
        - path: /dev/gpu1
          hostPath: $D/dev/gpu1
SPEC
}

# The same vendor as JSON, in $D/run (the higher priority directory).
json_spec() {
  jq -n --arg d "$D" '{cdiVersion: "0.6.0", kind: "example.com/gpu",
    containerEdits: {env: ["FAKE_GPU_DRIVER=json"]},
    devices: [
      {name: "gpu0", containerEdits: {deviceNodes: [{path: "/dev/gpu0", hostPath: ($d + "/dev/gpu0")}]}},
      {name: "gpu1", containerEdits: {deviceNodes: [{path: "/dev/gpu1", hostPath: ($d + "/dev/gpu1")}]}}]}' \
    >"$D/run/example-gpu.json"
}

# request BUNDLE DEVICES: the annotation an engine or `ctr run --annotation` gives.
request() {
  edit_config "$1" '.annotations["cdi.k8s.io/test"] = $v' --arg v "$2"
}

# initenv ID NAME: NAME in the environment of the container's init. CDI edits the container's
# process; an exec'd process gets the caller's process spec (config.json's for `hippo exec`),
# as with runc.
initenv() {
  hippo exec "$1" sh -c "tr '\\0' '\\n' </proc/1/environ | sed -n 's/^$2=//p'"
}

# opens ID NODE: whether the container may open NODE for writing (writes nothing).
opens() {
  hippo exec "$1" sh -c ": > $2" 2>"$BATS_TEST_TMPDIR/open.err"
}

# with_mknod BUNDLE: the container may make device nodes, so only its cgroup stands between it
# and another container's device.
with_mknod() {
  edit_config "$1" '.root.readonly = false'
  edit_config "$1" '.process.capabilities.bounding += ["CAP_MKNOD"]
    | .process.capabilities.effective += ["CAP_MKNOD"]
    | .process.capabilities.permitted += ["CAP_MKNOD"]'
}

@test "cdi: a YAML spec's device brings its node, env, mount, hook and group; the cgroup lets in that node only" {
  yaml_spec
  busybox_bundle "$B" sleep 1000
  request "$B" example.com/gpu=gpu0
  with_mknod "$B"
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  [ "$(cat "$D/hook.log")" = created ]
  # type, numbers and mode come from the host node
  run hippo exec "$ID" sh -c 'stat -c "%F %t:%T %a" /dev/gpu0; cat /usr/lib/fake-gpu/libfakegpu.so; grep ^Groups: /proc/1/status; ls /dev/gpu1 2>&1'
  echo "$output"
  [ "${lines[0]}" = "character special file 1:b 666" ]
  [ "${lines[1]}" = fake-driver ]
  [[ "${lines[2]}" =~ [[:space:]]4242([[:space:]]|$) ]]
  [[ "${lines[3]}" == *"No such file"* ]]
  [ "$(initenv "$ID" FAKE_GPU_DRIVER)" = 1 ]
  [ "$(initenv "$ID" FAKE_GPU)" = 0 ]
  opens "$ID" /dev/gpu0
  # Its own GPU's numbers, made inside, open too (nodes on this filesystem work)...
  hippo exec "$ID" mknod /tmp/gpu0 c 1 11
  opens "$ID" /tmp/gpu0
  # ...the other GPU's do not: the node exists, the device cgroup refuses it.
  hippo exec "$ID" mknod /tmp/gpu1 c 10 229
  run opens "$ID" /tmp/gpu1
  [ "$status" -ne 0 ]
  grep -q "Operation not permitted" "$BATS_TEST_TMPDIR/open.err"
  # The mount is read-only, as the spec says.
  run hippo exec "$ID" sh -c 'echo x >/usr/lib/fake-gpu/new'
  [ "$status" -ne 0 ]
}

@test "cdi: two containers, each with its own GPU, cannot open each other's; none asked gets none" {
  yaml_spec
  local b2=$BATS_TEST_TMPDIR/bundle2 id2=$(test_name second) b3=$BATS_TEST_TMPDIR/bundle3 id3=$(test_name none)
  busybox_bundle "$B" sleep 1000
  busybox_bundle "$b2" sleep 1000
  busybox_bundle "$b3" sleep 1000
  request "$B" example.com/gpu=gpu0
  request "$b2" example.com/gpu=gpu1
  for b in "$B" "$b2" "$b3"; do with_mknod "$b"; done
  hippo_create -b "$B" "$ID"
  hippo_create -b "$b2" "$id2"
  hippo_create -b "$b3" "$id3"
  for i in "$ID" "$id2" "$id3"; do hippo start "$i"; done
  opens "$ID" /dev/gpu0
  opens "$id2" /dev/gpu1
  [ "$(initenv "$id2" FAKE_GPU)" = 1 ]
  hippo exec "$ID" mknod /tmp/other c 10 229
  hippo exec "$id2" mknod /tmp/other c 1 11
  run opens "$ID" /tmp/other
  [ "$status" -ne 0 ]
  grep -q "Operation not permitted" "$BATS_TEST_TMPDIR/open.err"
  run opens "$id2" /tmp/other
  [ "$status" -ne 0 ]
  grep -q "Operation not permitted" "$BATS_TEST_TMPDIR/open.err"
  # A container that asked for nothing has no node, no env, no mount, and no access.
  run hippo exec "$id3" sh -c 'ls /dev/gpu0 /dev/gpu1 /usr/lib/fake-gpu 2>/dev/null; grep -c FAKE_GPU /proc/1/environ'
  [ "$output" = 0 ]
  hippo exec "$id3" mknod /tmp/g0 c 1 11
  run opens "$id3" /tmp/g0
  [ "$status" -ne 0 ]
  grep -q "Operation not permitted" "$BATS_TEST_TMPDIR/open.err"
}

@test "cdi: an update's device list keeps the CDI device allowed, and still no other" {
  yaml_spec
  busybox_bundle "$B" sleep 1000
  request "$B" example.com/gpu=gpu0
  with_mknod "$B"
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  hippo exec "$ID" mknod /tmp/gpu1 c 10 229
  # An engine's update sends the rules of its own copy of the spec, which has no CDI rules.
  jq -n '{devices: [{allow: false, access: "rwm"}], memory: {limit: 67108864}}' >"$BATS_TEST_TMPDIR/r.json"
  hippo update -r "$BATS_TEST_TMPDIR/r.json" "$ID"
  opens "$ID" /dev/gpu0
  opens "$ID" /dev/null
  run opens "$ID" /tmp/gpu1
  [ "$status" -ne 0 ]
  grep -q "Operation not permitted" "$BATS_TEST_TMPDIR/open.err"
  [ "$(hippo state "$ID" | jq -r .status)" = running ]
}

@test "cdi: under the systemd driver the unit's DeviceAllow lets in the CDI device and no other" {
  [ "${HIPPO_SD_HOST:-0}" = 1 ] || skip "the systemd driver needs systemd as PID 1 (HIPPO_SD_HOST=1: the VM of hack/test-cgroup2.sh runs this file)"
  yaml_spec
  busybox_bundle "$B" sleep 1000
  request "$B" example.com/gpu=gpu0
  with_mknod "$B"
  edit_config "$B" '.linux.cgroupsPath = $cg' --arg cg "system.slice:hippo:$ID"
  hippo --systemd-cgroup create -b "$B" "$ID" </dev/null >"$BATS_TEST_TMPDIR/create.out" 2>&1 ||
    { cat "$BATS_TEST_TMPDIR/create.out"; false; }
  hippo start "$ID"
  systemctl show -p DeviceAllow --value "hippo-$ID.scope" | grep -q "/dev/char/1:11 rw"
  opens "$ID" /dev/gpu0
  hippo exec "$ID" mknod /tmp/gpu1 c 10 229
  run opens "$ID" /tmp/gpu1
  [ "$status" -ne 0 ]
  # A daemon-reload re-applies the unit's device policy: the CDI device stays.
  systemctl daemon-reload
  opens "$ID" /dev/gpu0
  hippo delete -f "$ID"
}

@test "cdi: a JSON spec in the higher-priority directory overrides the YAML one; both devices at once" {
  yaml_spec
  json_spec
  busybox_bundle "$B" sleep 1000
  request "$B" example.com/gpu=gpu0,example.com/gpu=gpu1
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  opens "$ID" /dev/gpu0
  opens "$ID" /dev/gpu1
  [ "$(initenv "$ID" FAKE_GPU_DRIVER)" = json ]
  # The YAML spec's hook belongs to the overridden definition: it did not run.
  [ ! -e "$D/hook.log" ]
}

@test "cdi: an unknown device or a malformed request is one line naming it, and leaves nothing behind" {
  yaml_spec
  busybox_bundle "$B" sleep 1000
  request "$B" example.com/gpu=gpu7
  run hippo create -b "$B" "$ID"
  echo "$output"
  [ "$status" -ne 0 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == *"annotation \"cdi.k8s.io/test\": unresolvable CDI device \"example.com/gpu=gpu7\": no spec in $D/etc, $D/run defines it"* ]]
  assert_no_leaks "$ID" "$B"
  request "$B" gpu0
  run hippo create -b "$B" "$ID"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"annotation \"cdi.k8s.io/test\": \"gpu0\" is not a fully-qualified CDI device name"* ]]
  assert_no_leaks "$ID" "$B"
  # A 1.1.0 spec's network device: hippo does not move interfaces (features: netDevices off).
  jq -n '{cdiVersion: "1.1.0", kind: "example.com/nic", devices: [{name: "n0",
    containerEdits: {netDevices: [{hostInterfaceName: "hippo-no-such0", name: "eth9"}]}}]}' >"$D/run/nic.json"
  request "$B" example.com/nic=n0
  run hippo create -b "$B" "$ID"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"CDI devices example.com/nic=n0: intelRdt and netDevices edits are not supported by hippo"* ]]
  assert_no_leaks "$ID" "$B"
  [ ! -e "$D/hook.log" ]
}

@test "cdi: hippo cdi list names every device and warns about a broken spec file; features lists CDI" {
  yaml_spec
  printf 'cdiVersion: "0.6.0"\nkind: other.com/npu\ndevices: [{name: n0, containerEdits: {env: [A=1]}, bogus: 1}]\n' >"$D/etc/broken.yaml"
  jq -n '{cdiVersion: "0.5.0", kind: "acme.io/fpga", devices: [{name: "0", containerEdits: {env: ["F=0"]}}]}' >"$D/run/acme.json"
  run --separate-stderr hippo cdi list
  echo "$output"
  echo "$stderr"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'acme.io/fpga=0\nexample.com/gpu=gpu0\nexample.com/gpu=gpu1')" ]
  [[ "$stderr" == *"$D/etc/broken.yaml"* ]]
  [ "$(hippo cdi list --format json | jq -r '.devices[] | select(.name == "acme.io/fpga=0") | .spec')" = "$D/run/acme.json" ]
  hippo features | jq -e '.annotations["org.hippo.cdi.versions"] | split(",") | index("1.1.0")'
  hippo features | jq -e '.potentiallyUnsafeConfigAnnotations | index("cdi.k8s.io/")'
}

@test "cdi: the runc backend refuses a CDI request instead of running without the device" {
  yaml_spec
  printf 'backend: runc\nrunc_root: %s\ncdi_spec_dirs: [%s]\n' "$BATS_TEST_TMPDIR/runc" "$D/etc" >"$HIPPO_TEST_CONFIG"
  busybox_bundle "$B" sleep 1000
  request "$B" example.com/gpu=gpu0
  run hippo create -b "$B" "$ID"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"CDI devices need hippo's native backend"* ]]
}
