#!/usr/bin/env bats
# Nesting mode switched on (docs/nesting.md, sections 1-3): what create refuses, leaving nothing,
# and what a nesting container gets (cgroup namespace, capabilities, system calls, a writable
# cgroup mount). The delegation itself (cgroup ownership, kill_all) is tested in nesting*.bats.

load ../helpers

setup_file() {
  build_busybox_rootfs
}

setup() {
  B=$BATS_TEST_TMPDIR/bundle
  ID=$(test_name)
}

teardown() {
  cleanup_containers
  if [ -n "${SLEEPER:-}" ]; then kill "$SLEEPER" 2>/dev/null || true; fi
  if [ -n "${OWN_CGROUP:-}" ]; then rmdir "$OWN_CGROUP" 2>/dev/null || true; fi
}

# with_config YAML: hippo reads this config.yaml (HIPPO_TEST_CONFIG).
with_config() {
  printf '%s\n' "$1" >"$BATS_TEST_TMPDIR/config.yaml"
  export HIPPO_TEST_CONFIG=$BATS_TEST_TMPDIR/config.yaml
}

nest() {
  edit_config "$B" '.annotations["io.hippo.nesting"] = "true"'
}

# A user namespace mapping container 0 to host 100000 (the safe variant).
userns() {
  edit_config "$B" '.linux.namespaces += [{"type":"user"}]
    | .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
    | .linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]'
}

# refused EXPECTED_LINE: create fails with exactly that one line and leaves no state dir and no
# cgroup.
# Output to a file, not through `run`: an init a wrongly accepted create left would hold its
# pipe open.
refused() {
  local out=$BATS_TEST_TMPDIR/create.out
  status=0
  timeout 20 bash -c 'HIPPO_CONFIG=${HIPPO_TEST_CONFIG:-/dev/null} "$HIPPO_BIN" --root "$1/state" create -b "$2" "$3"' \
    _ "$BATS_TEST_TMPDIR" "$B" "$ID" </dev/null >"$out" 2>&1 || status=$?
  cat "$out"
  [ "$status" -eq 1 ]
  [ "$(wc -l <"$out")" -eq 1 ]
  [ "$(cat "$out")" = "hippo: $1" ]
  assert_no_leaks "$ID" "$B"
}

@test "io.hippo.nesting with another value than true or false is refused, naming it" {
  busybox_bundle "$B"
  edit_config "$B" '.annotations["io.hippo.nesting"] = "yes"'
  refused 'invalid configuration: annotations: io.hippo.nesting: "yes" is not true or false'
}

@test "nesting without a user namespace needs nesting_privileged: allow" {
  busybox_bundle "$B"
  nest
  refused "invalid configuration: nesting: no user namespace mapping root to a non-zero host id makes the privileged variant (host CAP_SYS_ADMIN), allowed only with nesting_privileged: allow in /dev/null"
  # config.yaml's nesting: "true" is refused the same way; the annotation "false" wins over it.
  with_config 'nesting: "true"'
  edit_config "$B" 'del(.annotations)'
  refused "invalid configuration: nesting: no user namespace mapping root to a non-zero host id makes the privileged variant (host CAP_SYS_ADMIN), allowed only with nesting_privileged: allow in $BATS_TEST_TMPDIR/config.yaml"
  edit_config "$B" '.annotations["io.hippo.nesting"] = "false"'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "$output" = hello ]
}

@test "nesting with a user namespace that maps no container uid 0 is refused" {
  busybox_bundle "$B"
  nest
  userns
  edit_config "$B" '.linux.uidMappings = [{"containerID":1,"hostID":100001,"size":65535}]'
  refused "invalid configuration: nesting: the user namespace maps no container uid 0: cgroups are delegated to the container's root"
}

@test "nesting with a cgroup namespace joined by path is refused" {
  busybox_bundle "$B"
  nest
  with_config 'nesting_privileged: allow'
  edit_config "$B" '.linux.namespaces += [{"type":"cgroup","path":"/proc/self/ns/cgroup"}]'
  refused "invalid configuration: nesting: linux.namespaces: a cgroup namespace joined by path (/proc/self/ns/cgroup): the container must own one rooted at its cgroup"
}

@test "nesting with shared mount propagation is refused" {
  busybox_bundle "$B"
  nest
  with_config 'nesting_privileged: allow'
  edit_config "$B" '.linux.rootfsPropagation = "rshared"'
  refused 'invalid configuration: nesting: linux.rootfsPropagation "rshared": inner mounts would reach the host and outlive the container'
  edit_config "$B" 'del(.linux.rootfsPropagation) | .mounts += [{destination: "/mnt", type: "bind", source: "/tmp", options: ["rbind", "shared"]}]'
  local n
  n=$(($(jq '.mounts | length' "$B/config.json") - 1))
  refused "invalid configuration: nesting: mounts[$n] (/mnt): \"shared\": inner mounts would reach the host and outlive the container"
}

@test "nesting with blkio throttling on cgroup v1 is refused" {
  if cgroup_v2; then skip "v2 io throttling is hierarchical: nothing to refuse on this host"; fi
  busybox_bundle "$B"
  nest
  with_config 'nesting_privileged: allow'
  edit_config "$B" '.linux.resources.blockIO.throttleReadBpsDevice = [{major: 8, minor: 0, rate: 1048576}]'
  refused "invalid configuration: nesting: linux.resources.blockIO.throttleReadBpsDevice: cgroup v1 throttling is not hierarchical, inner containers would escape it"
}

@test "hippo update refuses blkio throttling for a nesting container on cgroup v1; its cgroup stays as it was" {
  if cgroup_v2; then skip "v2 io throttling is hierarchical: nothing to refuse on this host"; fi
  busybox_bundle "$B" sleep 1000
  nest
  with_config 'nesting_privileged: allow'
  hippo run -d -b "$B" "$ID" </dev/null >/dev/null 2>&1
  local blkio
  blkio=/sys/fs/cgroup/blkio$(cgroup_path_of "$B")
  local before
  before=$(cat "$blkio/blkio.throttle.read_bps_device")
  echo '{"blockIO": {"throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}]}}' >"$BATS_TEST_TMPDIR/r.json"
  run hippo update -r "$BATS_TEST_TMPDIR/r.json" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [ "$output" = "hippo: update $ID: invalid configuration: nesting: linux.resources.blockIO.throttleReadBpsDevice: cgroup v1 throttling is not hierarchical, inner containers would escape it" ]
  [ "$(cat "$blkio/blkio.throttle.read_bps_device")" = "$before" ]
  # What binds inner containers is still updated in place.
  hippo update --memory 67108864 "$ID"
  [ "$(cat "/sys/fs/cgroup/memory$(cgroup_path_of "$B")/memory.limit_in_bytes")" = 67108864 ]
}

@test "nesting with backend runc is refused before runc runs" {
  busybox_bundle "$B"
  nest
  with_config 'backend: runc
runc_binary: /nonexistent/runc
runc_root: '"$BATS_TEST_TMPDIR/runc"'
nesting_privileged: allow'
  refused "invalid configuration: nesting: needs the native backend: runc neither chowns cgroups for a user namespace nor moves init to a leaf cgroup"
}

@test "nesting into an existing cgroup that holds a process is refused; the cgroup stays" {
  cgroup_v2 && skip "the v1 memory hierarchy is used to place a process; this host is pure v2"
  busybox_bundle "$B"
  nest
  with_config 'nesting_privileged: allow'
  OWN_CGROUP=/sys/fs/cgroup/pids$(cgroup_path_of "$B")
  mkdir "$OWN_CGROUP"
  sleep 300 </dev/null >/dev/null 2>&1 &
  SLEEPER=$!
  echo "$SLEEPER" >"$OWN_CGROUP/cgroup.procs"
  status=0
  timeout 20 env HIPPO_CONFIG="$HIPPO_TEST_CONFIG" "$HIPPO_BIN" --root "$BATS_TEST_TMPDIR/state" create \
    -b "$B" "$ID" </dev/null >"$BATS_TEST_TMPDIR/out" 2>&1 || status=$?
  cat "$BATS_TEST_TMPDIR/out"
  [ "$status" -eq 1 ]
  [ "$(cat "$BATS_TEST_TMPDIR/out")" = "hippo: create $ID: invalid configuration: nesting: the container's cgroup $OWN_CGROUP exists and is not empty: it would delegate another's cgroup" ]
  [ ! -e "$BATS_TEST_TMPDIR/state/$ID" ]
  grep -qx "$SLEEPER" "$OWN_CGROUP/cgroup.procs"
}

@test "a nesting container has its own cgroup namespace, CAP_SYS_ADMIN and a writable cgroup mount" {
  # (one line: busybox_bundle passes each line as an argument)
  busybox_bundle "$B" sh -c 'readlink /proc/self/ns/cgroup; grep ^CapEff /proc/self/status; d=/sys/fs/cgroup/pids; [ -d $d ] || d=/sys/fs/cgroup; mkdir $d/inner && rmdir $d/inner && echo cgroup-writable'
  nest
  with_config 'nesting_privileged: allow'
  run hippo run -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != "$(readlink /proc/self/ns/cgroup)" ]
  local capeff=${lines[1]#CapEff:}
  capeff=${capeff//[[:space:]]/}
  (((0x$capeff >> 21) & 1))  # CAP_SYS_ADMIN
  (((0x$capeff >> 24) & 1)) && false  # never CAP_SYS_RESOURCE
  [ "${lines[2]}" = cgroup-writable ]
  # Without nesting none of it.
  edit_config "$B" '.annotations["io.hippo.nesting"] = "false"'
  run hippo run -b "$B" "$ID"
  [ "${lines[0]}" = "$(readlink /proc/self/ns/cgroup)" ]
}

# A default-deny profile allowing every system call of this host but those nesting adds (the
# way engine profiles render without CAP_SYS_ADMIN).
deny_nesting_calls() {
  local header=/usr/include/x86_64-linux-gnu/asm/unistd_64.h names
  [ -r "$header" ] || return 1
  names=$(sed -n 's/^#define __NR_\([a-z0-9_]*\) .*/\1/p' "$header" |
    grep -vx -e mount -e umount2 -e pivot_root -e unshare -e setns -e clone3 -e keyctl \
      -e add_key -e request_key -e sethostname -e setdomainname -e fsopen -e fsconfig \
      -e fsmount -e fspick -e move_mount -e open_tree -e mount_setattr -e bpf -e clone |
    jq -R . | jq -s -c .)
  edit_config "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_X86_64"],
    syscalls: [{names: $names, action: "SCMP_ACT_ALLOW"},
      {names: ["clone"], action: "SCMP_ACT_ALLOW", args: [{index: 0, value: 2114060288, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ"}]},
      {names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38}]}' --argjson names "$names"
}

@test "with a default-deny seccomp profile a nesting container may unshare a mount namespace" {
  busybox_bundle "$B" sh -c 'unshare -m true && echo unshared'
  deny_nesting_calls || skip "no x86_64 syscall table (/usr/include/x86_64-linux-gnu/asm/unistd_64.h) to build the profile from"
  edit_config "$B" '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
  # The profile alone refuses it, whatever the capabilities.
  run hippo run -b "$B" "$ID"
  echo "$output"
  [ "$output" != unshared ]
  nest
  with_config 'nesting_privileged: allow'
  run hippo run -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = unshared ]
}

@test "exec in a nesting container gets the same capabilities and system calls (from the record)" {
  busybox_bundle "$B" sleep 1000
  deny_nesting_calls || skip "no x86_64 syscall table (/usr/include/x86_64-linux-gnu/asm/unistd_64.h) to build the profile from"
  nest
  with_config 'nesting_privileged: allow'
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  wait_status "$ID" running
  # config.yaml changing afterwards does not matter: exec reads the record.
  with_config 'nesting_privileged: refuse'
  run hippo exec "$ID" sh -c 'grep ^CapEff /proc/self/status; unshare -m true && echo unshared'
  echo "$output"
  [ "$status" -eq 0 ]
  local capeff=${lines[0]#CapEff:}
  capeff=${capeff//[[:space:]]/}
  (((0x$capeff >> 21) & 1))  # CAP_SYS_ADMIN
  [ "${lines[1]}" = unshared ]
}

@test "a userns nesting container's root has every capability inside its user namespace" {
  busybox_bundle "$B" sh -c 'grep ^CapEff /proc/self/status; readlink /proc/self/ns/cgroup'
  nest
  userns
  edit_config "$B" '.mounts |= map(if .destination == "/sys" then {destination: "/sys", type: "none", source: "/sys", options: ["rbind","nosuid","noexec","nodev","ro"]} else . end)
    | .mounts |= map(if .destination == "/dev/pts" then .options -= ["gid=5"] else . end)'
  chown -R 100000:100000 "$B/rootfs"
  d=$B; while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
  run hippo run -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  local capeff=${lines[0]#CapEff:}
  capeff=${capeff//[[:space:]]/}
  [ $((0x$capeff)) -eq $(((1 << ($(cat /proc/sys/kernel/cap_last_cap) + 1)) - 1)) ]
  [ "${lines[1]}" != "$(readlink /proc/self/ns/cgroup)" ]
}

@test "a userns nesting container's cgroup is delegated to its root: it makes and limits cgroups below, never its own limits" {
  busybox_bundle "$B" sh -c 'echo 67108864 >/sys/fs/cgroup/memory/memory.limit_in_bytes; mkdir /sys/fs/cgroup/memory/sub && echo 33554432 >/sys/fs/cgroup/memory/sub/memory.limit_in_bytes; exec sleep 1000'
  nest
  userns
  edit_config "$B" '.linux.cgroupsPath = $cg
    | .mounts |= map(if .destination == "/sys" then {destination: "/sys", type: "none", source: "/sys", options: ["rbind","nosuid","noexec","nodev","ro"]} else . end)
    | .mounts |= map(if .destination == "/dev/pts" then .options -= ["gid=5"] else . end)' --arg cg "/$ID"
  chown -R 100000:100000 "$B/rootfs"
  d=$B; while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
  hippo run -d -b "$B" "$ID" </dev/null >/dev/null 2>&1
  local L=/sys/fs/cgroup/memory/$ID
  eventually test -e "$L/sub/memory.limit_in_bytes"
  eventually grep -qx 33554432 "$L/sub/memory.limit_in_bytes"
  [ "$(stat -c %u "$L")" = 100000 ]
  [ "$(stat -c %u "$L/cgroup.procs")" = 100000 ]
  [ "$(stat -c %u "$L/memory.limit_in_bytes")" = 0 ]
  [ "$(cat "$L/memory.limit_in_bytes")" != 67108864 ]
  [ "$(stat -c %u "$L/sub")" = 100000 ]
  hippo delete -f "$ID"
  for h in /sys/fs/cgroup/*/; do [ ! -e "$h$ID" ]; done
}

@test "update narrows a v1 cpuset with an inner cgroup below it: the inner cgroup is narrowed first" {
  if cgroup_v2; then skip "v1 cpuset semantics: the v2 kernel narrows children's effective cpus itself"; fi
  if [ "$(nproc --all)" -lt 2 ]; then skip "needs two cpus to narrow a cpuset (this host has $(nproc --all))"; fi
  busybox_bundle "$B" sleep 1000
  nest
  with_config 'nesting_privileged: allow'
  edit_config "$B" '.linux.resources.cpu.cpus = "0-1" | .linux.resources.cpu.mems = "0"'
  hippo run -d -b "$B" "$ID" </dev/null >/dev/null 2>&1
  local L
  L=/sys/fs/cgroup/cpuset$(cgroup_path_of "$B")
  # What an inner runtime makes: a child using both cpus.
  mkdir "$L/inner"
  echo 0-1 >"$L/inner/cpuset.cpus"
  echo 0 >"$L/inner/cpuset.mems"
  hippo update --cpuset-cpus 1 "$ID"
  [ "$(cat "$L/cpuset.cpus")" = 1 ]
  [ "$(cat "$L/inner/cpuset.cpus")" = 1 ]
  # A cpuset the inner cgroup shares nothing with: one clear line, nothing changed.
  echo 1 >"$L/inner/cpuset.cpus"
  hippo update --cpuset-cpus 0-1 "$ID"
  run hippo update --cpuset-cpus 0 "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"cpuset.cpus \"0\" shares nothing with $L/inner/cpuset.cpus (\"1\")"* ]]
  [ "$(cat "$L/cpuset.cpus")" = 0-1 ]
  hippo delete -f "$ID"
  [ ! -e "$L" ]
}
