#!/usr/bin/env bats
# The container's process is what config.json says and nothing more: capabilities, fds, masked
# and read-only paths, no reach to hippo's own binary, process attributes, user namespaces.

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
}

# cap_line NAME: the CapXxx value printed by the last `run`.
cap_line() {
  grep "^$1:" <<<"$output" | awk '{print $2}'
}

# --- capabilities ---------------------------------------------------------------------------

@test "default spec: root keeps only AUDIT_WRITE, KILL and NET_BIND_SERVICE" {
  busybox_bundle "$B" grep Cap /proc/self/status
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  # bits 5, 10, 29
  [ "$(cap_line CapBnd)" = 0000000020000420 ]
  [ "$(cap_line CapEff)" = 0000000020000420 ]
  [ "$(cap_line CapPrm)" = 0000000020000420 ]
  [ "$(cap_line CapInh)" = 0000000000000000 ]
  # runc's default lists ambient capabilities without inheritable ones: none can be raised
  [ "$(cap_line CapAmb)" = 0000000000000000 ]
}

@test "the default capabilities are enforced: root cannot chown or mknod" {
  busybox_bundle "$B" sh -c 'touch /tmp/f; chown 1 /tmp/f && echo chown-ok; mknod /tmp/n c 1 3 && echo mknod-ok; echo done'
  edit_config "$B" '.root.readonly = false'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [[ $output == *"Operation not permitted"* ]]
  [[ $output != *chown-ok* ]]
  [[ $output != *mknod-ok* ]]
  [[ $output == *done* ]]
}

@test "five capability sets of root are applied" {
  busybox_bundle "$B" grep Cap /proc/self/status
  edit_config "$B" '.process.capabilities = {
      bounding: ["CAP_CHOWN","CAP_KILL","CAP_NET_BIND_SERVICE","CAP_SETPCAP"],
      effective: ["CAP_KILL"], permitted: ["CAP_KILL","CAP_CHOWN"],
      inheritable: ["CAP_CHOWN"], ambient: ["CAP_CHOWN"]}'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "$(cap_line CapBnd)" = 0000000000000521 ]
  [ "$(cap_line CapInh)" = 0000000000000001 ]
  [ "$(cap_line CapAmb)" = 0000000000000001 ]
  # execve by uid 0 would grant bounding | inheritable, but no_new_privs (the default) keeps
  # permitted within what it was: exactly the spec's permitted set, all effective for root.
  [ "$(cap_line CapPrm)" = 0000000000000021 ]
  [ "$(cap_line CapEff)" = 0000000000000021 ]
}

@test "a non-root user keeps its capabilities across the uid change through the ambient set" {
  busybox_bundle "$B" sh -c 'id -u; grep Cap /proc/self/status'
  edit_config "$B" '.process.user = {uid: 1000, gid: 1000} | .process.capabilities = {
      bounding: ["CAP_NET_BIND_SERVICE","CAP_KILL"], effective: ["CAP_NET_BIND_SERVICE"],
      permitted: ["CAP_NET_BIND_SERVICE"], inheritable: ["CAP_NET_BIND_SERVICE"],
      ambient: ["CAP_NET_BIND_SERVICE"]}'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1000 ]
  [ "$(cap_line CapBnd)" = 0000000000000420 ]
  [ "$(cap_line CapEff)" = 0000000000000400 ]
  [ "$(cap_line CapPrm)" = 0000000000000400 ]
  [ "$(cap_line CapInh)" = 0000000000000400 ]
  [ "$(cap_line CapAmb)" = 0000000000000400 ]
}

@test "a non-root user without ambient capabilities has none after exec" {
  busybox_bundle "$B" grep Cap /proc/self/status
  edit_config "$B" '.process.user = {uid: 1000, gid: 1000} | .process.capabilities = {
      bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"]}'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "$(cap_line CapBnd)" = 0000000000000020 ]
  [ "$(cap_line CapEff)" = 0000000000000000 ]
  [ "$(cap_line CapPrm)" = 0000000000000000 ]
}

@test "without process.capabilities root keeps every capability the kernel has" {
  busybox_bundle "$B" grep CapBnd /proc/self/status
  edit_config "$B" 'del(.process.capabilities)'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "$(cap_line CapBnd)" = "$(grep CapBnd /proc/self/status | awk '{print $2}')" ]
}

@test "an unknown capability name is an error naming it, and nothing is left behind" {
  busybox_bundle "$B"
  edit_config "$B" '.process.capabilities.bounding += ["CAP_FLY"]'
  run hippo run -b "$B" "$ID"
  [ "$status" -ne 0 ]
  [[ $output == *'process.capabilities.bounding[3]'*'CAP_FLY'* ]]
  assert_no_leaks "$ID" "$B"
}

@test "exec processes get the container's capabilities; exec --cap adds one, an unknown --cap fails" {
  busybox_bundle "$B" sleep 1000
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  run hippo exec "$ID" grep CapBnd /proc/self/status
  [ "$status" -eq 0 ]
  [ "$(cap_line CapBnd)" = 0000000020000420 ]
  # CAP_SYS_ADMIN is bit 21
  run hippo exec --cap CAP_SYS_ADMIN "$ID" grep -E 'Cap(Bnd|Eff)' /proc/self/status
  [ "$status" -eq 0 ]
  [ "$(cap_line CapBnd)" = 0000000020200420 ]
  [ "$(cap_line CapEff)" = 0000000020200420 ]
  run hippo exec --cap CAP_BOGUS "$ID" true
  [ "$status" -ne 0 ]
  [[ $output == *'unknown capability "CAP_BOGUS"'* ]]
  hippo delete --force "$ID"
}

# --- fds, hippo's binary, masked and read-only paths -----------------------------------------

@test "no fd of hippo leaks into the container: only 0, 1, 2 (and ls's own directory fd)" {
  busybox_bundle "$B" ls -l /proc/self/fd
  run hippo run -b "$B" "$ID" 7</dev/null 9>"$BATS_TEST_TMPDIR/extra"
  [ "$status" -eq 0 ]
  # fds that point somewhere: stdio only
  [ "$(grep -oE ' [0-9]+ -> ' <<<"$output" | awk '{print $1}' | tr '\n' ' ')" = "0 1 2 " ]
  # plus the directory fd ls itself reads /proc/self/fd with (gone by the time it reads its link)
  [ "$(grep -cE '^l.* [0-9]+( -> .*)?$' <<<"$output")" -eq 4 ]
}

@test "--preserve-fds keeps exactly the requested fds and exec leaks none either" {
  busybox_bundle "$B" sh -c 'ls /proc/self/fd | sort -n | tr "\n" " "'
  echo three >"$BATS_TEST_TMPDIR/f3"
  run hippo run --preserve-fds 1 -b "$B" "$ID" 3<"$BATS_TEST_TMPDIR/f3" 4<"$BATS_TEST_TMPDIR/f3" 5</dev/null
  [ "$status" -eq 0 ]
  # 0-2, the preserved 3, and the 4th fd ls opens on the directory
  [ "$output" = "0 1 2 3 4 " ]
  busybox_bundle "$BATS_TEST_TMPDIR/b2" sleep 1000
  hippo_create -b "$BATS_TEST_TMPDIR/b2" "$ID-2"
  hippo start "$ID-2"
  run hippo exec "$ID-2" ls /proc/self/fd 6</dev/null
  [ "$status" -eq 0 ]
  [ "$(echo $output)" = "0 1 2 3" ]
  hippo delete --force "$ID-2"
}

@test "hippo's binary cannot be reached through /proc/<init>/exe while init waits to start" {
  busybox_bundle "$B" sleep 1000
  hippo_create -b "$B" "$ID"
  # init is still hippo's image (blocked on the exec fifo) as pid 1 of the container
  run hippo exec "$ID" sh -c 'cat /proc/1/exe >/dev/null && echo READABLE; ls -l /proc/1/exe 2>&1; cat /proc/1/maps | head -1; echo end'
  [[ $output != *READABLE* ]]
  [[ $output == *"Permission denied"* ]]
  [[ $output == *end* ]]
  hippo delete --force "$ID"
}

@test "masked paths are unreadable: files read empty, directories are empty and read-only" {
  [ -s /proc/timer_list ] || [ "$(head -c 10 /proc/timer_list | wc -c)" -gt 0 ]
  busybox_bundle "$B" sh -c 'wc -c </proc/timer_list; ls -A /sys/firmware | wc -l; touch /sys/firmware/x 2>&1; cat /proc/keys | wc -c'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0 ]
  [ "${lines[1]}" = 0 ]
  [[ ${lines[2]} == *"Read-only file system"* ]]
  [ "${lines[3]}" = 0 ]
}

@test "a masked path of the spec's own hides what the rootfs holds there" {
  busybox_bundle "$B" sh -c 'cat /etc/secret; ls -A /opt/hidden | wc -l'
  echo top-secret >"$B/rootfs/etc/secret"
  mkdir -p "$B/rootfs/opt/hidden" && touch "$B/rootfs/opt/hidden/a"
  edit_config "$B" '.linux.maskedPaths += ["/etc/secret", "/opt/hidden"]'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [[ $output != *top-secret* ]]
  [ "${lines[-1]}" = 0 ]
}

@test "read-only paths are read-only: /proc/sys and /proc/irq refuse writes" {
  busybox_bundle "$B" sh -c 'echo x >/proc/sys/kernel/hostname 2>&1; echo 1 >/proc/irq/default_smp_affinity 2>&1; echo end'
  edit_config "$B" 'del(.process.capabilities)'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "$(grep -c 'Read-only file system' <<<"$output")" -eq 2 ]
}

@test "/proc/sys is writable when the spec leaves it out of readonlyPaths" {
  busybox_bundle "$B" sh -c 'echo changed >/proc/sys/kernel/hostname && hostname'
  edit_config "$B" 'del(.process.capabilities) | .linux.readonlyPaths -= ["/proc/sys"]'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "$output" = changed ]
  [ "$(hostname)" != changed ]
}

@test "a read-only path of the spec's own is read-only in the container" {
  busybox_bundle "$B" sh -c 'touch /data/x 2>&1; echo end'
  mkdir -p "$B/rootfs/data"
  edit_config "$B" '.root.readonly = false | .linux.readonlyPaths += ["/data"]'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == *"Read-only file system"* ]]
  [ ! -e "$B/rootfs/data/x" ]
}

# --- process attributes -----------------------------------------------------------------------

@test "rlimits are read back inside; an unknown rlimit is an error" {
  busybox_bundle "$B" sh -c 'ulimit -n; ulimit -Hn; ulimit -s'
  edit_config "$B" '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 123, hard: 456},
                                         {type: "RLIMIT_STACK", soft: 4194304, hard: 8388608}]'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 123 ]
  [ "${lines[1]}" = 456 ]
  [ "${lines[2]}" = 4096 ]
  edit_config "$B" '.process.rlimits += [{type: "RLIMIT_FOO", soft: 1, hard: 1}]'
  run hippo run -b "$B" "$ID-2"
  [ "$status" -ne 0 ]
  [[ $output == *'unknown rlimit "RLIMIT_FOO"'* ]]
}

@test "noNewPrivileges is observed in /proc/self/status" {
  busybox_bundle "$B" grep NoNewPrivs /proc/self/status
  run hippo run -b "$B" "$ID"
  [ "$output" = "NoNewPrivs:	1" ]
  edit_config "$B" '.process.noNewPrivileges = false'
  run hippo run -b "$B" "$ID-2"
  [ "$output" = "NoNewPrivs:	0" ]
}

@test "oomScoreAdj is applied to the container's process" {
  busybox_bundle "$B" cat /proc/self/oom_score_adj
  edit_config "$B" '.process.oomScoreAdj = 500'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "$output" = 500 ]
}

@test "umask, scheduler policy and nice are applied" {
  busybox_bundle "$B" sh -c 'umask; grep -E "^policy" /proc/self/sched; cut -d" " -f19 /proc/self/stat'
  edit_config "$B" '.process.user.umask = 63 | .process.scheduler = {policy: "SCHED_BATCH", nice: 7}'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0077 ]
  [[ ${lines[1]} =~ :\ +3$ ]]  # SCHED_BATCH
  [ "${lines[2]}" = 7 ]
}

@test "ioPriority is applied to the container's process" {
  busybox_bundle "$B" sleep 1000
  edit_config "$B" '.process.ioPriority = {class: "IOPRIO_CLASS_BE", priority: 6}'
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  pid=$(hippo state "$ID" | jq .pid)
  run ionice -p "$pid"
  [ "$output" = "best-effort: prio 6" ]
  hippo delete --force "$ID"
}

@test "personality LINUX32 makes uname report a 32-bit machine" {
  [ "$(uname -m)" = x86_64 ] || skip "needs an x86_64 host to tell LINUX32 apart (host is $(uname -m))"
  busybox_bundle "$B" uname -m
  edit_config "$B" '.linux.personality = {domain: "LINUX32"}'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "$output" = i686 ]
}

@test "namespaced sysctls are applied; a host-level sysctl is refused" {
  busybox_bundle "$B" cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax
  edit_config "$B" '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "4242"}'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1 ]
  [ "${lines[1]}" = 4242 ]
  edit_config "$B" '.linux.sysctl = {"vm.swappiness": "10"}'
  run hippo run -b "$B" "$ID-2"
  [ "$status" -ne 0 ]
  [[ $output == *'vm.swappiness'*'not a namespaced sysctl'* ]]
  assert_no_leaks "$ID-2" "$B"
}

@test "time namespace offsets shift the container's boottime clock" {
  busybox_bundle "$B" cut -d. -f1 /proc/uptime
  edit_config "$B" '.linux.namespaces += [{type: "time"}] | .linux.timeOffsets = {boottime: {secs: 864000}}'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  host=$(cut -d. -f1 /proc/uptime)
  [ "$output" -ge $((host + 864000 - 5)) ]
}

# --- user namespaces ----------------------------------------------------------------------------

userns_config() {
  edit_config "$B" '.linux.namespaces += [{type: "user"}]
    | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
    | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
    | .mounts |= map(select(.type != "cgroup"))
    | .mounts |= map(if .destination == "/sys" then {destination: "/sys", type: "none", source: "/sys", options: ["rbind","nosuid","noexec","nodev","ro"]} else . end)
    | .mounts |= map(if .destination == "/dev/pts" then .options -= ["gid=5"] else . end)'
  # The container's root is uid 100000 on the host: it must own and reach the rootfs, as with runc.
  chown -R 100000:100000 "$B/rootfs"
  local d=$B
  while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
}

@test "user namespace: the maps are seen inside and a file created in a host dir is owned by 100000" {
  busybox_bundle "$B" sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /shared/made-inside'
  mkdir -p "$BATS_TEST_TMPDIR/shared"
  chmod 777 "$BATS_TEST_TMPDIR/shared"
  userns_config
  edit_config "$B" '.mounts += [{destination: "/shared", type: "bind", source: $src, options: ["rbind", "rw"]}]' \
    --arg src "$BATS_TEST_TMPDIR/shared"
  run hippo run -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(echo ${lines[0]})" = "0 100000 65536" ]
  [ "$(echo ${lines[1]})" = "0 100000 65536" ]
  [ "${lines[2]}" = 0 ]
  [ "$(stat -c %u:%g "$BATS_TEST_TMPDIR/shared/made-inside")" = 100000:100000 ]
}

@test "user namespace: devices are bound from the host, not created with mknod" {
  busybox_bundle "$B" sh -c 'echo x >/dev/null && echo null-ok; head -c 4 /dev/zero | wc -c; grep " /dev/null " /proc/self/mountinfo | wc -l'
  userns_config
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = null-ok ]
  [ "${lines[1]}" = 4 ]
  [ "${lines[2]}" -ge 1 ]
}

# --- AppArmor and SELinux -------------------------------------------------------------------

@test "apparmorProfile: applied where AppArmor runs, ignored silently where it does not" {
  busybox_bundle "$B" sh -c 'cat /proc/self/attr/current 2>/dev/null; echo ran'
  edit_config "$B" '.process.apparmorProfile = "unconfined"'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = ran ]
  if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then
    [[ ${lines[0]} == unconfined* ]]
  else
    # nothing said about it: the process's output only
    [ "$output" = ran ]
  fi
}

@test "selinuxLabel: a label the host cannot apply is an error naming it, and nothing is left" {
  if [ -e /sys/fs/selinux/enforce ]; then
    skip "SELinux is enabled on this host: the refusal path cannot be exercised"
  fi
  busybox_bundle "$B" true
  edit_config "$B" '.process.selinuxLabel = "system_u:system_r:container_t:s0"'
  run hippo run -b "$B" "$ID"
  [ "$status" -ne 0 ]
  [[ $output == *'process.selinuxLabel'*'system_u:system_r:container_t:s0'*'SELinux is not enabled'* ]]
  assert_no_leaks "$ID" "$B"
}

@test "mountLabel is ignored without SELinux; exec --apparmor is accepted, exec --process-label refused" {
  if [ -e /sys/fs/selinux/enforce ]; then
    skip "SELinux is enabled on this host: the no-SELinux path cannot be exercised"
  fi
  busybox_bundle "$B" sleep 1000
  edit_config "$B" '.linux.mountLabel = "system_u:object_r:container_file_t:s0"'
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  run hippo exec --apparmor some-profile "$ID" echo fine
  [ "$status" -eq 0 ]
  [ "$output" = fine ]
  run hippo exec --process-label "system_u:system_r:container_t:s0" "$ID" true
  [ "$status" -ne 0 ]
  [[ $output == *'SELinux is not enabled'* ]]
  hippo delete --force "$ID"
}

@test "idmapped bind mount: host root's files are the container root's, and files it makes are host root's" {
  busybox_bundle "$B" sh -c 'stat -c %u:%g /idm/by-host-root; touch /idm/made-inside && echo made; stat -c %u /plain/by-host-root'
  mkdir -p "$BATS_TEST_TMPDIR/idm"
  touch "$BATS_TEST_TMPDIR/idm/by-host-root"
  chmod 755 "$BATS_TEST_TMPDIR/idm"
  userns_config
  edit_config "$B" '.mounts += [
      {destination: "/idm", type: "bind", source: $src, options: ["rbind", "rw"],
       uidMappings: [{containerID: 0, hostID: 100000, size: 65536}],
       gidMappings: [{containerID: 0, hostID: 100000, size: 65536}]},
      {destination: "/plain", type: "bind", source: $src, options: ["rbind", "ro"]}]' \
    --arg src "$BATS_TEST_TMPDIR/idm"
  run hippo run -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0:0 ]
  [ "${lines[1]}" = made ]
  # without the idmap the same file belongs to nobody inside
  [ "${lines[2]}" = 65534 ]
  [ "$(stat -c %u:%g "$BATS_TEST_TMPDIR/idm/made-inside")" = 0:0 ]
}

@test "uidMappings on a mount that is not a bind is refused clearly" {
  busybox_bundle "$B" true
  edit_config "$B" '.mounts += [{destination: "/t", type: "tmpfs", source: "tmpfs",
       uidMappings: [{containerID: 0, hostID: 100000, size: 1}], gidMappings: [{containerID: 0, hostID: 100000, size: 1}]}]'
  run hippo run -b "$B" "$ID"
  [ "$status" -ne 0 ]
  [[ $output == *'mounts: /t: uidMappings and gidMappings need a bind mount'* ]]
  assert_no_leaks "$ID" "$B"
}

@test "the idmap mount option without maps of its own takes the container's user namespace maps" {
  busybox_bundle "$B" stat -c %u:%g /idm/by-host-root
  mkdir -p "$BATS_TEST_TMPDIR/idm"
  touch "$BATS_TEST_TMPDIR/idm/by-host-root"
  userns_config
  edit_config "$B" '.mounts += [{destination: "/idm", type: "bind", source: $src, options: ["rbind", "idmap"]}]' \
    --arg src "$BATS_TEST_TMPDIR/idm"
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "$output" = 0:0 ]
}

@test "user namespace without a network namespace of its own: /sys is the host's, bound read-only" {
  busybox_bundle "$B" sh -c 'ls /sys/class/net | grep -c .; touch /sys/x 2>&1; echo end'
  userns_config
  edit_config "$B" '.linux.namespaces |= map(select(.type != "network"))
    | .mounts |= map(if .destination == "/sys" then {destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid","noexec","nodev","ro"]} else . end)'
  run hippo run -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  # the host's interfaces, not a fresh namespace's lone lo
  [ "${lines[0]}" -eq "$(ls /sys/class/net | grep -c .)" ]
  [[ ${lines[1]} == *"Read-only file system"* ]]
}

@test "user namespace: exec joins it, with the container's capabilities and no extra fds" {
  busybox_bundle "$B" sleep 1000
  userns_config
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  run hippo exec "$ID" sh -c 'id -u; cat /proc/self/uid_map; grep CapEff /proc/self/status; ls /proc/self/fd | tr "\n" " "'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0 ]
  [ "$(echo ${lines[1]})" = "0 100000 65536" ]
  [[ ${lines[2]} == *0000000020000420 ]]
  [ "${lines[3]}" = "0 1 2 3 " ]
  pid=$(hippo state "$ID" | jq .pid)
  [ "$(stat -c %u /proc/$pid)" = 100000 ]
  hippo delete --force "$ID"
}
