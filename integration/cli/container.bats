#!/usr/bin/env bats
# What the container's process sees: namespaces, rootfs and mounts, devices, process settings,
# cgroups and in-place updates. Real kernel, as root.

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
  if mountpoint -q "$BATS_TEST_TMPDIR/vol"; then umount -R "$BATS_TEST_TMPDIR/vol"; fi
}

@test "pid namespace: the container's process is pid 1" {
  busybox_bundle "$B" sh -c 'echo $$'
  run hippo run -b "$B" "$ID"
  [ "$output" = 1 ]
}

@test "network, ipc, uts, mount namespaces differ from the host's" {
  busybox_bundle "$B" sh -c 'for n in net ipc uts mnt pid; do readlink /proc/self/ns/$n; done'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  for n in net ipc uts mnt pid; do
    host=$(readlink /proc/self/ns/$n)
    [[ $output != *"$host"* ]]
  done
  [ "${#lines[@]}" -eq 5 ]
}

@test "joining a namespace by path shares it with its owner" {
  busybox_bundle "$B" sleep 1000
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  pid=$(hippo state "$ID" | jq .pid)
  B2=$BATS_TEST_TMPDIR/bundle2
  busybox_bundle "$B2" readlink /proc/self/ns/net
  edit_config "$B2" '(.linux.namespaces[] | select(.type == "network")) |= {type: "network", path: $p}' \
    --arg p "/proc/$pid/ns/net"
  run hippo run -b "$B2" "$ID-2"
  [ "$status" -eq 0 ]
  [ "$output" = "$(readlink /proc/$pid/ns/net)" ]
  hippo delete --force "$ID"
}

@test "hostname and domainname come from the config" {
  busybox_bundle "$B" sh -c 'hostname; cat /proc/sys/kernel/domainname'
  edit_config "$B" '.hostname = "box-7" | .domainname = "example.org"'
  run hippo run -b "$B" "$ID"
  [ "${lines[0]}" = box-7 ]
  [ "${lines[1]}" = example.org ]
}

@test "user namespace: the parent writes the uid and gid maps" {
  busybox_bundle "$B" sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u'
  edit_config "$B" '.linux.namespaces += [{"type":"user"}]
    | .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
    | .linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
    | .mounts |= map(select(.destination != "/sys/fs/cgroup"))
    | .mounts |= map(if .destination == "/sys" then {destination: "/sys", type: "none", source: "/sys", options: ["rbind","nosuid","noexec","nodev","ro"]} else . end)
    | .mounts |= map(if .destination == "/dev/pts" then .options -= ["gid=5"] else . end)'
  chown -R 100000:100000 "$B/rootfs"
  # The container's root is uid 100000 on the host: it must reach the rootfs, as with runc.
  d=$B; while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} =~ ^\ +0\ +100000\ +65536$ ]]
  [[ ${lines[1]} =~ ^\ +0\ +100000\ +65536$ ]]
  [ "${lines[2]}" = 0 ]
}

@test "cgroup namespace: the container sees its cgroup as the root" {
  busybox_bundle "$B" cat /proc/self/cgroup
  edit_config "$B" '.linux.namespaces += [{"type":"cgroup"}]'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  if cgroup_v2; then
    [ "$output" = "0::/" ]
  else
    [[ $output == *":memory:/"$'\n'* || $output == *":memory:/" ]]
  fi
  cg=$(cgroup_path_of "$B")
  [[ $output != *"$cg"* ]]
}

@test "the program runs in the container's cgroup in every hierarchy" {
  busybox_bundle "$B" cat /proc/self/cgroup
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  cg=$(cgroup_path_of "$B")
  [ "${#lines[@]}" -eq "$(wc -l </proc/self/cgroup)" ]
  for l in "${lines[@]}"; do
    [[ $l == *":$cg" ]] || { echo "outside its cgroup: $l"; return 1; }
  done
}

@test "mounts: proc, sysfs, tmpfs with size, devpts, mqueue, shm are in place" {
  busybox_bundle "$B" sh -c 'cat /proc/mounts'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [[ $output == *"proc /proc proc"* ]]
  [[ $output == *"sysfs /sys sysfs ro,"* ]]
  [[ $output == *"tmpfs /dev tmpfs"*"size=65536k"* ]]
  [[ $output == *"devpts /dev/pts devpts"* ]]
  [[ $output == *"mqueue /dev/mqueue mqueue"* ]]
  [[ $output == *"shm /dev/shm tmpfs"* ]]
}

@test "a read-only bind mount is readable and not writable" {
  mkdir -p "$BATS_TEST_TMPDIR/data" && echo payload >"$BATS_TEST_TMPDIR/data/file"
  busybox_bundle "$B" sh -c 'cat /data/file; touch /data/new && echo WROTE || echo refused'
  edit_config "$B" '.mounts += [{"destination":"/data","type":"bind","source":$s,"options":["rbind","ro"]}]' \
    --arg s "$BATS_TEST_TMPDIR/data"
  run hippo run -b "$B" "$ID"
  [ "${lines[0]}" = payload ]
  [ "${lines[-1]}" = refused ]
  [ ! -e "$BATS_TEST_TMPDIR/data/new" ]
}

@test "a bind-mounted file and a tmpfs with mode and size" {
  echo single >"$BATS_TEST_TMPDIR/one-file"
  busybox_bundle "$B" sh -c 'cat /etc/one; stat -c %a /scratch; grep " /scratch " /proc/mounts'
  edit_config "$B" '.mounts += [
      {"destination":"/etc/one","type":"bind","source":$s,"options":["bind","ro"]},
      {"destination":"/scratch","type":"tmpfs","source":"tmpfs","options":["mode=1770","size=1m","nosuid"]}]' \
    --arg s "$BATS_TEST_TMPDIR/one-file"
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = single ]
  [ "${lines[1]}" = 1770 ]
  [[ ${lines[2]} == *"nosuid"*"size=1024k"* ]]
}

@test "rshared rootfs propagation: a mount made in a shared volume reaches the host" {
  # A tmpfs of the test's own, shared (the host's / may be private), as a bidirectional volume.
  vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol"
  mount -t tmpfs "$ID-vol" "$vol"
  mount --make-shared "$vol"
  busybox_bundle "$B" sh -c 'mkdir /vol/sub && mount -t tmpfs "$0" /vol/sub && echo mounted' "$ID-sub"
  edit_config "$B" '.linux.rootfsPropagation = "rshared"
    | .process.capabilities.bounding += ["CAP_SYS_ADMIN"]
    | .process.capabilities.effective += ["CAP_SYS_ADMIN"]
    | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]
    | .mounts += [{"destination":"/vol","type":"bind","source":$s,"options":["rbind","rshared"]}]' \
    --arg s "$vol"
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "$output" = mounted ]
  grep -q " $vol/sub .* - tmpfs $ID-sub " /proc/self/mountinfo
  # The other way round as well: a mount made on the host appears in a running container.
  B2=$BATS_TEST_TMPDIR/bundle2
  busybox_bundle "$B2" sh -c 'while ! grep -q " /vol/later " /proc/self/mountinfo; do sleep 0.1; done'
  edit_config "$B2" '.linux.rootfsPropagation = "rshared"
    | .mounts += [{"destination":"/vol","type":"bind","source":$s,"options":["rbind","rshared"]}]' \
    --arg s "$vol"
  hippo_create -b "$B2" "$ID-2"
  hippo start "$ID-2"
  mkdir "$vol/later"
  mount -t tmpfs "$ID-later" "$vol/later"
  wait_status "$ID-2" stopped
  [ "$(hippo state "$ID-2" | jq -r .status)" = stopped ]
}

@test "masked paths are unreadable and read-only paths refuse writes" {
  busybox_bundle "$B" sh -c 'wc -c < /proc/timer_list; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/ns_last_pid && echo WROTE || echo refused'
  run hippo run -b "$B" "$ID"
  [ "${lines[0]}" = 0 ]
  [ "${lines[1]}" = 0 ]
  [ "${lines[-1]}" = refused ]
}

@test "a read-only root refuses writes; a writable one accepts them" {
  busybox_bundle "$B" sh -c 'touch /probe && echo WROTE || echo refused'
  run hippo run -b "$B" "$ID"
  [ "${lines[-1]}" = refused ]
  edit_config "$B" '.root.readonly = false'
  run hippo run -b "$B" "$ID"
  [ "${lines[-1]}" = WROTE ]
  [ -e "$B/rootfs/probe" ]
}

@test "default devices, spec devices and /dev symlinks" {
  busybox_bundle "$B" sh -c 'stat -c "%n %t:%T %a" /dev/null /dev/zero /dev/urandom /dev/tty /dev/mynull; for l in fd stdin ptmx; do readlink /dev/$l; done; echo x > /dev/null && echo ok'
  edit_config "$B" '.linux.devices = [{"type":"c","path":"/dev/mynull","major":1,"minor":3,"fileMode":384}]
    | .linux.resources.devices += [{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"}]'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "/dev/null 1:3 666" ]
  [ "${lines[1]}" = "/dev/zero 1:5 666" ]
  [ "${lines[2]}" = "/dev/urandom 1:9 666" ]
  [ "${lines[3]}" = "/dev/tty 5:0 666" ]
  [ "${lines[4]}" = "/dev/mynull 1:3 600" ]
  [ "${lines[5]}" = /proc/self/fd ]
  [ "${lines[6]}" = /proc/self/fd/0 ]
  [ "${lines[7]}" = pts/ptmx ]
  [ "${lines[8]}" = ok ]
}

@test "device cgroup denies devices the config does not allow" {
  busybox_bundle "$B" sh -c 'mknod /tmp/sda b 8 0 && head -c1 /tmp/sda >/dev/null && echo READ || echo denied'
  edit_config "$B" '.root.readonly = false | .process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]'
  run hippo run -b "$B" "$ID"
  [ "${lines[-1]}" = denied ]
}

@test "a symlink in the rootfs cannot redirect a mount outside it" {
  outside=$BATS_TEST_TMPDIR/outside
  mkdir -p "$outside"
  busybox_bundle "$B" sh -c "grep -c ' $outside/mnt ' /proc/mounts"
  ln -s "$outside" "$B/rootfs/escape"
  edit_config "$B" '.mounts += [{"destination":"/escape/mnt","type":"tmpfs","source":"tmpfs"}]'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "$output" = 1 ]
  # The target was created inside the rootfs (the symlink resolved in it), not on the host.
  [ ! -e "$outside/mnt" ]
  [ -d "$B/rootfs$outside/mnt" ]
}

@test "env, cwd, uid, gid, additional gids and umask are applied" {
  busybox_bundle "$B" sh -c 'echo $FOO; pwd; id -u; id -g; id -G; umask'
  edit_config "$B" '.process.env += ["FOO=bar baz"] | .process.cwd = "/tmp"
    | .process.user = {"uid": 1000, "gid": 1001, "additionalGids": [5, 7], "umask": 63}'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "bar baz" ]
  [ "${lines[1]}" = /tmp ]
  [ "${lines[2]}" = 1000 ]
  [ "${lines[3]}" = 1001 ]
  [ "${lines[4]}" = "1001 5 7" ]
  [ "${lines[5]}" = 0077 ]
}

@test "HOME, when process.env lacks it, is the user's home in the rootfs's /etc/passwd, else /" {
  # runc's rule (issue 15 item 3): Docker's spec env holds no HOME.
  busybox_bundle "$B" sh -c 'echo "$HOME"'
  echo 'app:x:1000:1000::/home/app:/bin/sh' >>"$B/rootfs/etc/passwd"
  run hippo run -b "$B" "$ID-root"
  [ "$output" = /root ]
  edit_config "$B" '.process.user = {"uid": 1000, "gid": 1000}'
  run hippo run -b "$B" "$ID-app"
  [ "$output" = /home/app ]
  edit_config "$B" '.process.user = {"uid": 4242, "gid": 4242}'
  run hippo run -b "$B" "$ID-none"
  [ "$output" = / ]
  edit_config "$B" '.process.env += ["HOME=/given"]'
  run hippo run -b "$B" "$ID-given"
  [ "$output" = /given ]
  # An /etc/passwd that is a symlink is read inside the rootfs, never the host's file.
  mv "$B/rootfs/etc/passwd" "$B/rootfs/passwd.real"
  ln -s /passwd.real "$B/rootfs/etc/passwd"
  edit_config "$B" '.process.env = ["PATH=/bin"] | .process.user = {"uid": 1000, "gid": 1000}'
  run hippo run -b "$B" "$ID-link"
  [ "$output" = /home/app ]
}

@test "rlimits and noNewPrivileges are applied" {
  busybox_bundle "$B" sh -c 'ulimit -n; ulimit -Hn; grep NoNewPrivs /proc/self/status'
  edit_config "$B" '.process.rlimits = [{"type":"RLIMIT_NOFILE","soft":512,"hard":2048}]'
  run hippo run -b "$B" "$ID"
  [ "${lines[0]}" = 512 ]
  [ "${lines[1]}" = 2048 ]
  [[ ${lines[2]} == *1 ]]
}

@test "namespaced sysctls are written inside the container" {
  busybox_bundle "$B" cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni
  edit_config "$B" '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"}'
  run hippo run -b "$B" "$ID"
  [ "${lines[0]}" = 1 ]
  [ "${lines[1]}" = 1234 ]
}

@test "--no-pivot runs the container with chroot" {
  busybox_bundle "$B" sh -c 'ls / | grep -c bin'
  run hippo run --no-pivot -b "$B" "$ID"
  [ "$status" -eq 0 ]
}

@test "memory limit from config.json, then update --memory, read back from the cgroup" {
  busybox_bundle "$B" sleep 1000
  edit_config "$B" '.linux.resources.memory = {"limit": 67108864}'
  hippo_create -b "$B" "$ID"
  limit=$(cgroup_file "$B" memory memory.limit_in_bytes)
  cgroup_v2 && limit=$(cgroup_file "$B" memory memory.max)
  [ "$(cat "$limit")" = 67108864 ]
  hippo start "$ID"
  hippo update --memory 128m "$ID"
  [ "$(cat "$limit")" = 134217728 ]
  echo '{"memory": {"limit": 100663296}}' | hippo update -r - "$ID"
  [ "$(cat "$limit")" = 100663296 ]
  hippo delete --force "$ID"
  assert_no_leaks "$ID" "$B"
}

@test "a blkio weight reaches its cgroup file, or is refused naming the field and the files" {
  # Whether this kernel has a weight file at all: a container without a weight shows it.
  busybox_bundle "$B-probe" sleep 1000
  hippo_create -b "$B-probe" "$ID-probe"
  has_weight=1
  blkio_weight_file "$B-probe" >/dev/null || has_weight=0
  hippo delete --force "$ID-probe"
  busybox_bundle "$B" sleep 1000
  edit_config "$B" '.linux.resources.blockIO = {"weight": 300}'
  cg=$(cgroup_path_of "$B")
  if cgroup_v2; then
    files="neither io.bfq.weight nor io.weight" last=/sys/fs/cgroup$cg/io.weight
  else
    files="neither blkio.weight nor blkio.bfq.weight" last=/sys/fs/cgroup/blkio$cg/blkio.bfq.weight
  fi
  if [ "$has_weight" = 1 ]; then
    echo "# host has a blkio weight file: checking the values written" >&3
    hippo_create -b "$B" "$ID"
    f=$(blkio_weight_file "$B")
    blkio_weight_is "$f" 300 <"$f"
    hippo update --blkio-weight 500 "$ID"
    blkio_weight_is "$f" 500 <"$f"
    hippo delete --force "$ID"
  else
    echo "# host has no blkio weight file: checking the clear error" >&3
    # (to a file: a create that wrongly succeeded would hold bats' pipes with its init)
    status=0
    hippo create -b "$B" "$ID" </dev/null >"$BATS_TEST_TMPDIR/create.out" 2>&1 || status=$?
    output=$(cat "$BATS_TEST_TMPDIR/create.out")
    [ "$status" -eq 1 ]
    # The line names the container, the step and the cgroup.
    [[ $output == "hippo: create $ID: cgroup /"*": linux.resources.blockIO.weight: the cgroup has $files (write $last \"300\": No such file or directory)" ]]
    assert_no_leaks "$ID" "$B"
    # The same for an update of a running container, which keeps running.
    edit_config "$B" 'del(.linux.resources.blockIO)'
    hippo_create -b "$B" "$ID"
    hippo start "$ID"
    run hippo update --blkio-weight 500 "$ID"
    [ "$status" -eq 1 ]
    [ "$output" = "hippo: linux.resources.blockIO.weight: the cgroup has $files (write $last \"500\": No such file or directory)" ]
    [ "$(hippo state "$ID" | jq -r .status)" = running ]
    hippo delete --force "$ID"
  fi
  assert_no_leaks "$ID" "$B"
}

@test "update of pids, cpu shares, quota and period reaches the cgroup files" {
  busybox_bundle "$B" sleep 1000
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  hippo update --pids-limit 42 --cpu-shares 512 --cpu-period 100000 --cpu-quota 50000 "$ID"
  [ "$(cat "$(cgroup_file "$B" pids pids.max)")" = 42 ]
  if cgroup_v2; then
    [ "$(cat "$(cgroup_file "$B" cpu cpu.weight)")" = 20 ] # runc's map of 512 shares
    [ "$(cat "$(cgroup_file "$B" cpu cpu.max)")" = "50000 100000" ]
  else
    [ "$(cat "$(cgroup_file "$B" cpu cpu.shares)")" = 512 ]
    [ "$(cat "$(cgroup_file "$B" cpu cpu.cfs_period_us)")" = 100000 ]
    [ "$(cat "$(cgroup_file "$B" cpu cpu.cfs_quota_us)")" = 50000 ]
  fi
  run hippo update --memory 1x "$ID"
  [ "$status" -eq 1 ]
  [[ $output == *'--memory: invalid size "1x"'* ]]
  hippo delete --force "$ID"
}

@test "the pids limit holds inside the container" {
  busybox_bundle "$B" sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do sleep 100 >/dev/null 2>&1 & done 2>&1 | grep -c "Resource temporarily unavailable\|fork"; true'
  edit_config "$B" '.linux.resources.pids = {"limit": 5}'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "$output" -ge 1 ]
}

@test "pause and resume freeze and thaw the container" {
  busybox_bundle "$B" sleep 1000
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  hippo pause "$ID"
  [ "$(hippo state "$ID" | jq -r .status)" = paused ]
  if cgroup_v2; then
    [ "$(cat "$(cgroup_file "$B" "" cgroup.freeze)")" = 1 ]
    grep -qx 'frozen 1' "$(cgroup_file "$B" "" cgroup.events)"
  else
    [ "$(cat "$(cgroup_file "$B" freezer freezer.state)")" = FROZEN ]
  fi
  run hippo pause "$ID"
  [ "$status" -eq 1 ]
  hippo resume "$ID"
  [ "$(hippo state "$ID" | jq -r .status)" = running ]
  if cgroup_v2; then
    [ "$(cat "$(cgroup_file "$B" "" cgroup.freeze)")" = 0 ]
    grep -qx 'frozen 0' "$(cgroup_file "$B" "" cgroup.events)"
  else
    [ "$(cat "$(cgroup_file "$B" freezer freezer.state)")" = THAWED ]
  fi
  hippo delete --force "$ID"
  assert_no_leaks "$ID" "$B"
}

@test "events --stats prints runc-style stats JSON" {
  busybox_bundle "$B" sleep 1000
  edit_config "$B" '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 50}'
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  run hippo events --stats "$ID"
  [ "$status" -eq 0 ]
  echo "$output" | jq -e --arg id "$ID" '.type == "stats" and .id == $id'
  echo "$output" | jq -e '.data.memory.usage.limit == 67108864 and .data.memory.usage.usage > 0'
  echo "$output" | jq -e '.data.pids.current == 1 and .data.pids.limit == 50'
  hippo delete --force "$ID"
}

@test "events streams an OOM notification when the memory limit kills a process" {
  busybox_bundle "$B" sh -c 'sleep 0.5; tail /dev/zero; sleep 1000'
  edit_config "$B" '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
  hippo_create -b "$B" "$ID"
  hippo events --interval 100ms "$ID" >"$BATS_TEST_TMPDIR/events.out" 2>&1 &
  events_pid=$!
  hippo start "$ID"
  for i in $(seq 200); do grep -q '"type":"oom"' "$BATS_TEST_TMPDIR/events.out" && break; sleep 0.1; done
  hippo delete --force "$ID"
  wait "$events_pid" || true
  grep -q "{\"id\":\"$ID\",\"type\":\"oom\"}\|{\"type\":\"oom\",\"id\":\"$ID\"}" "$BATS_TEST_TMPDIR/events.out"
  grep -q '"type":"stats"' "$BATS_TEST_TMPDIR/events.out"
  [ "$(grep -c '"type":"oom"' "$BATS_TEST_TMPDIR/events.out")" -eq 1 ]
}

@test "time namespace: boottime and monotonic offsets apply inside the container only" {
  busybox_bundle "$B" cut -d. -f1 /proc/uptime
  edit_config "$B" '.linux.namespaces += [{"type":"time"}]
    | .linux.timeOffsets = {"boottime": {"secs": 1000000, "nanosecs": 0}, "monotonic": {"secs": 500}}'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  host=$(cut -d. -f1 /proc/uptime)
  [ "$output" -ge $((host + 1000000 - 5)) ]
}

@test "update of cpuset, memory reservation and swap reaches the cgroup files" {
  busybox_bundle "$B" sleep 1000
  edit_config "$B" '.linux.resources.memory = {"limit": 67108864, "swap": 67108864}'
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  hippo update --cpuset-cpus 0 --cpuset-mems 0 --memory-reservation 32m "$ID"
  [ "$(cat "$(cgroup_file "$B" cpuset cpuset.cpus)")" = 0 ]
  [ "$(cat "$(cgroup_file "$B" cpuset cpuset.mems)")" = 0 ]
  if cgroup_v2; then
    [ "$(cat "$(cgroup_file "$B" memory memory.low)")" = 33554432 ]
  else
    [ "$(cat "$(cgroup_file "$B" memory memory.soft_limit_in_bytes)")" = 33554432 ]
  fi
  # Raising limit and memory+swap together needs memsw first: hippo orders the writes.
  hippo update --memory 256m --memory-swap 512m "$ID"
  if cgroup_v2; then
    [ "$(cat "$(cgroup_file "$B" memory memory.max)")" = 268435456 ]
    [ "$(cat "$(cgroup_file "$B" memory memory.swap.max)")" = 268435456 ] # swap = memsw - memory
  else
    [ "$(cat "$(cgroup_file "$B" memory memory.limit_in_bytes)")" = 268435456 ]
    [ "$(cat "$(cgroup_file "$B" memory memory.memsw.limit_in_bytes)")" = 536870912 ]
  fi
  run hippo update --cpuset-cpus 0-a "$ID"
  [ "$status" -eq 1 ]
  [ "$output" = 'hippo: update: linux.resources.cpu.cpus: invalid CPU list "0-a"' ]
  hippo delete --force "$ID"
  assert_no_leaks "$ID" "$B"
}

@test "a cwd only root can enter works for a non-root user (chdir before and after the uid change)" {
  # runc changes directory before dropping privileges as well as after (issue 15 item 4).
  busybox_bundle "$B" sh -c 'pwd; id -u; ls . >/dev/null 2>&1 || echo cannot-list'
  mkdir -p "$B/rootfs/root"
  chmod 0700 "$B/rootfs/root"
  edit_config "$B" '.process.cwd = "/root" | .process.user = {"uid": 1000, "gid": 1000}'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = /root ]
  [ "${lines[1]}" = 1000 ]
  [ "${lines[2]}" = cannot-list ]
}

@test "a cwd that does not exist still fails, naming it" {
  busybox_bundle "$B" pwd
  edit_config "$B" '.process.cwd = "/no/such/dir" | .process.user = {"uid": 1000, "gid": 1000}'
  run hippo run -b "$B" "$ID"
  [ "$status" -ne 0 ]
  [[ $output == *"chdir to cwd /no/such/dir"*"No such file or directory"* ]]
  assert_no_leaks "$ID" "$B"
}

@test "a program that cannot run fails in Go's exec.LookPath words, as runc's (engines map them to 126/127)" {
  # issue 15 item 14: Docker answers 126 for "permission denied", 127 for "executable file not
  # found" and "no such file or directory".
  busybox_bundle "$B"
  # In PATH, /etc/passwd exists and is not executable: a search still says "not found".
  edit_config "$B" '.process.env = ["PATH=/etc"]'
  local args want
  while IFS='|' read -r args want; do
    edit_config "$B" '.process.args = $a' --argjson a "$args"
    run hippo run -b "$B" "$ID"
    [ "$status" -ne 0 ]
    [[ $output == *"$want" ]] || { echo "$args: got '$output', want '$want'" >&2; return 1; }
  done <<'CASES'
["/etc/passwd"]|exec: "/etc/passwd": permission denied
["/etc"]|exec: "/etc": permission denied
["/no/such/program"]|exec: "/no/such/program": stat /no/such/program: no such file or directory
["/etc/passwd/x"]|exec: "/etc/passwd/x": stat /etc/passwd/x: not a directory
["no-such-program"]|exec: "no-such-program": executable file not found in $PATH
["passwd"]|exec: "passwd": executable file not found in $PATH
CASES
  assert_no_leaks "$ID" "$B"
}

@test "device rule access: r, w, m in any order and repeated as runc accepts; empty or missing refused before anything is made" {
  # issue 15 item 12: runc 1.1.5 takes "mrw" and "rrw"; it refuses an empty or missing access.
  busybox_bundle "$B" sh -c 'grep " 7:9[89] " /sys/fs/cgroup/devices/devices.list /sys/fs/cgroup/devices.list 2>/dev/null | sed "s/^[^:]*://" | sort'
  edit_config "$B" '.linux.resources.devices += [{allow: true, type: "c", major: 7, minor: 98, access: "mrw"},
                                                 {allow: true, type: "c", major: 7, minor: 99, access: "rrw"}]'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  # devices.list is cgroup v1's; on v2 the run succeeding is what can be seen.
  cgroup_v2 || [ "$output" = "$(printf 'c 7:98 rwm\nc 7:99 rw')" ]
  for access in '""' null; do
    edit_config "$B" '.linux.resources.devices[-1].access = $a' --argjson a "$access"
    run hippo run -b "$B" "$ID"
    [ "$status" -ne 0 ]
    [ "$output" = "hippo: invalid configuration: config.json: linux.resources.devices[$(($(jq '.linux.resources.devices | length' "$B/config.json") - 1))].access: must not be empty (letters r, w, m)" ]
    assert_no_leaks "$ID" "$B"
  done
}
