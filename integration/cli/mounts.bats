#!/usr/bin/env bats
# Mounts where hippo must behave as runc 1.1.5 does (issue 15): bind sources the container's user
# namespace cannot reach, a read-only /dev with devpts below it, --no-pivot and a fresh procfs,
# /dev/core, the name=systemd hierarchy. Real kernel, as root.

load ../helpers

setup_file() {
  build_busybox_rootfs
}

setup() {
  B=$BATS_TEST_TMPDIR/bundle
  ID=$(test_name)
  SUBS=()
}

teardown() {
  # Sub-cgroups a test made inside its container: delete leaves a cgroup with children.
  local d
  for d in "${SUBS[@]}"; do [ ! -d "$d" ] || rmdir "$d"; done
  cleanup_containers
  if mountpoint -q "$BATS_TEST_TMPDIR/ro-host"; then umount "$BATS_TEST_TMPDIR/ro-host"; fi
}

# A user namespace mapping the container's ids to 100000/200000 on the host (runc's userns.bats):
# the container's root has no privilege over the host's root-owned files. /sys is the host's
# (no network namespace of its own would be needed otherwise) and devpts takes no gid.
userns_bundle() {
  busybox_bundle "$B" "$@"
  edit_config "$B" '.linux.namespaces += [{"type":"user"}]
    | .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65534}]
    | .linux.gidMappings = [{"containerID":0,"hostID":200000,"size":65534}]
    | .mounts |= map(select(.destination != "/sys/fs/cgroup"))
    | .mounts |= map(if .destination == "/sys" then {destination: "/sys", type: "none", source: "/sys", options: ["rbind","nosuid","noexec","nodev","ro"]} else . end)
    | .mounts |= map(if .destination == "/dev/pts" then .options -= ["gid=5"] else . end)'
  chown -R 100000:200000 "$B/rootfs"
  # The container's root is uid 100000 on the host: it must reach its rootfs, as with runc.
  local d=$B
  while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
}

@test "userns: a bind source under a directory only the host's root may enter is mounted (item 6)" {
  # runc opens bind sources as the host's root in the container's mount namespace and mounts
  # them by fd; the container's root (uid 100000 here) could not even look the path up.
  local src=$BATS_TEST_TMPDIR/source-inaccessible
  mkdir -p "$src/dir" "$BATS_TEST_TMPDIR/source-accessible/dir"
  echo secret-ok >"$src/dir/foo.txt"
  echo open-ok >"$BATS_TEST_TMPDIR/source-accessible/dir/bar.txt"
  chmod 700 "$src"
  userns_bundle sh -c 'cat /tmp/mount-1/foo.txt /tmp/mount-2/bar.txt /tmp/mount-3/foo.txt; grep -o " /tmp/mount-3 r[ow]," /proc/self/mountinfo'
  edit_config "$B" '.mounts += [
      {destination: "/tmp/mount-1", type: "bind", source: ($s + "/dir"), options: ["bind"]},
      {destination: "/tmp/mount-2", type: "bind", source: $a, options: ["rbind", "ro"]},
      {destination: "/tmp/mount-3", type: "bind", source: ($s + "/dir"), options: ["bind", "ro"]}]' \
    --arg s "$src" --arg a "$BATS_TEST_TMPDIR/source-accessible/dir"
  run hippo run -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = secret-ok ]
  [ "${lines[1]}" = open-ok ]
  [ "${lines[2]}" = secret-ok ]
  [ "${lines[3]}" = " /tmp/mount-3 ro," ]
  assert_no_leaks "$ID" "$B"
}

@test "userns: a bind of a host mount that is read-only cannot be made writable inside (item 6)" {
  # The source is opened in init's mount namespace, whose copies of the host's mounts the kernel
  # locks: a bind from there keeps the host's read-only flag, as runc's does (a tree cloned in
  # the host's namespace would carry no lock).
  mkdir -p "$BATS_TEST_TMPDIR/ro-host"
  mount --bind "$BATS_FILE_TMPDIR/images" "$BATS_TEST_TMPDIR/ro-host"
  mount -o remount,ro,bind "$BATS_TEST_TMPDIR/ro-host"
  userns_bundle sh -c 'mount -o remount,rw,bind /ro && echo REMOUNTED-RW || echo kept-ro'
  edit_config "$B" '.mounts += [{destination: "/ro", type: "bind", source: $s, options: ["rbind"]}]
    | .process.capabilities.bounding += ["CAP_SYS_ADMIN"]
    | .process.capabilities.effective += ["CAP_SYS_ADMIN"]
    | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]' --arg s "$BATS_TEST_TMPDIR/ro-host"
  run hippo run -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *kept-ro* ]]
  [[ $output != *REMOUNTED-RW* ]]
}

@test "a read-only /dev still takes devpts, devices and links below it, then is read-only (item 7)" {
  # runc mounts /dev (and every tmpfs) writable and remounts it read-only at the end.
  busybox_bundle "$B" sh -c 'grep -E "^(tmpfs /dev |devpts /dev/pts )" /proc/mounts; test -c /dev/null && echo null; test -L /dev/ptmx && echo ptmx; touch /dev/x 2>/dev/null && echo WROTE || echo refused'
  edit_config "$B" '.mounts |= map(if .destination == "/dev" then .options += ["ro"] else . end)'
  run hippo run -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == "tmpfs /dev tmpfs ro,"* ]]
  [[ ${lines[1]} == "devpts /dev/pts devpts rw,"* ]]
  [ "${lines[2]}" = null ]
  [ "${lines[3]}" = ptmx ]
  [ "${lines[4]}" = refused ]
}

@test "a read-only tmpfs elsewhere is read-only, with its mount options kept (item 7)" {
  busybox_bundle "$B" sh -c 'grep "^tmpfs /scratch " /proc/mounts; mkdir /scratch/d 2>/dev/null && echo WROTE || echo refused'
  edit_config "$B" '.mounts += [{destination: "/scratch", type: "tmpfs", source: "tmpfs", options: ["ro", "nosuid", "nodev", "mode=700"]}]'
  run hippo run -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == "tmpfs /scratch tmpfs ro,nosuid,nodev,"*"mode=700"* ]]
  [ "${lines[1]}" = refused ]
}

@test "--no-pivot: a user namespace made in the container cannot mount a fresh procfs (item 8)" {
  # runc's no_pivot.bats: with the host's /proc left reachable beside the chroot, the kernel
  # would allow it (mnt_too_revealing); runc detaches the host's proc and sysfs first.
  busybox_bundle "$B" unshare -mrpf sh -c 'mount -t proc none /proc && echo MOUNTED'
  edit_config "$B" '.process.capabilities.bounding += ["CAP_SETFCAP"]
    | .process.capabilities.permitted += ["CAP_SETFCAP"]'
  run hippo run --no-pivot -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"mount: permission denied"* ]]
  [[ $output != *MOUNTED* ]]
  # The host's own /proc and /sys are untouched (the detach was the container's alone).
  [ -e /proc/self/mountinfo ]
  [ -d /sys/fs/cgroup ]
  assert_no_leaks "$ID" "$B"
}

@test "--no-pivot: the container still has its own /proc and /sys (item 8)" {
  busybox_bundle "$B" sh -c 'awk "\$5 == \"/proc\" || \$5 == \"/sys\"" /proc/self/mountinfo | wc -l; echo $$'
  run hippo run --no-pivot -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 2 ]
  [ "${lines[1]}" = 1 ]
}

@test "/dev/core links to /proc/kcore only when the host has /proc/kcore (item 10)" {
  busybox_bundle "$B" sh -c 'test -L /dev/core && echo link || echo none'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  if [ -e /proc/kcore ]; then
    echo "# host has /proc/kcore"
    [ "$output" = link ]
  else
    echo "# host has no /proc/kcore"
    [ "$output" = none ]
  fi
}

@test "a cgroup mount on a v1 host shows the name=systemd hierarchy as /sys/fs/cgroup/systemd (item 11)" {
  if cgroup_v2; then
    skip "host is pure cgroup v2: it has no named v1 hierarchy"
  fi
  if ! grep -q ' - cgroup .*[ ,]name=systemd\b' /proc/self/mountinfo; then
    skip "host has no name=systemd v1 hierarchy mounted (/proc/self/mountinfo)"
  fi
  busybox_bundle "$B" sh -c 'grep " /sys/fs/cgroup/systemd " /proc/self/mountinfo; cat /sys/fs/cgroup/systemd/cgroup.procs'
  run hippo run -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  # The container's own cgroup of that hierarchy, read-only as the spec's cgroup mount asks.
  [[ ${lines[0]} == *" $(cgroup_path_of "$B") /sys/fs/cgroup/systemd ro,"*" - cgroup cgroup rw,name=systemd"* ]]
  [ "${lines[1]}" = 1 ]
}

@test "a writable cgroup mount on a v1 host: writable binds of the container's cgroups in a read-only tmpfs, unified too" {
  if cgroup_v2; then
    skip "host is pure cgroup v2: integration/cgroup2.bats covers its cgroup mount"
  fi
  local cg c
  # An inner runtime's view: it makes a cgroup below its own, sets a limit there, and finds
  # its cgroup at the root of every hierarchy (the cgroup namespace: / in mountinfo and
  # /proc/self/cgroup). Nothing can be made beside the binds, nor reached above them.
  local script='mkdir /sys/fs/cgroup/memory/sub && echo 67108864 >/sys/fs/cgroup/memory/sub/memory.limit_in_bytes && echo "limit $(cat /sys/fs/cgroup/memory/sub/memory.limit_in_bytes)"
    mkdir /sys/fs/cgroup/x 2>/dev/null && echo "made x"
    echo "up $(stat -f -c %t /sys/fs/cgroup/memory/..)"
    echo "unified $(stat -f -c %t /sys/fs/cgroup/unified 2>&1)"
    awk "\$5 ~ \"^/sys/fs/cgroup/\" && \$4 != \"/\" {print \"root \" \$4 \" \" \$5}" /proc/self/mountinfo
    awk -F: "\$3 != \"/\" {print \"cgroup \" \$0}" /proc/self/cgroup
    awk "\$5 ~ \"^/sys/fs/cgroup/\" && \$6 !~ /^rw,nosuid,nodev,noexec/ {print \"not rw \" \$5}" /proc/self/mountinfo
    echo end; exec sleep 1000'
  busybox_bundle "$B"
  edit_config "$B" '.process.args = ["sh", "-c", $script]
    | .linux.namespaces += [{"type": "cgroup"}]
    | .mounts |= map(if .type == "cgroup" then .options -= ["ro"] else . end)
    | .process.capabilities |= with_entries(.value += ["CAP_SYS_ADMIN"])' --arg script "$script"
  cg=$(cgroup_path_of "$B")
  for c in /sys/fs/cgroup/*/; do SUBS+=("$c${cg#/}/sub"); done
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  eventually grep -qx end "$BATS_TEST_TMPDIR/create.out" || { cat "$BATS_TEST_TMPDIR/create.out"; false; }
  run cat "$BATS_TEST_TMPDIR/create.out"
  echo "$output"
  [ "${lines[0]}" = "limit 67108864" ]
  [ "${lines[1]}" = "up 1021994" ] # TMPFS_MAGIC: `..` of a bind is the tmpfs
  if [ -d /sys/fs/cgroup/unified ]; then
    [ "${lines[2]}" = "unified 63677270" ] # CGROUP2_SUPER_MAGIC: the hybrid host's cgroup2
  else
    echo "# host is not hybrid: no unified to bind"
    [[ ${lines[2]} == "unified "*"No such file"* ]]
  fi
  # No line "root …", "cgroup …" or "not rw …": every bind writable, at its namespace's root.
  [ "${lines[3]}" = end ]
  # The kernel made it below the container's cgroup on the host.
  [ "$(cat "/sys/fs/cgroup/memory$cg/sub/memory.limit_in_bytes")" = 67108864 ]
  hippo kill "$ID" KILL
  wait_status "$ID" stopped
  rmdir "/sys/fs/cgroup/memory$cg/sub"
  hippo delete "$ID"
  assert_no_leaks "$ID" "$B"
}
