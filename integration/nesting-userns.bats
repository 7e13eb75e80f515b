#!/usr/bin/env bats
# Nesting, the userns variant (issue 16: "the same with a user namespace and no host
# capabilities"; docs/nesting.md sections 2, 3.3, 3.9, 3.10, 7): the outer of
# nesting_helpers.bash with a user namespace mapping container 0..65535 to host 100000.., the
# annotation io.hippo.nesting=true and no nesting_privileged in the host hippo's config. Host,
# v1 hybrid, cgroupfs. Every test ends by deleting the outer and checking that nothing of it is
# left on the host.

load helpers
load nesting_helpers

MIB=1048576
SLEEPER='["tini","--","sleep","infinity"]'

export NEST_VARIANT=userns

setup_file() {
  nest_setup_file
}

setup() {
  [[ $(stat -fc %T /sys/fs/cgroup/memory 2>/dev/null) == cgroupfs ]] ||
    skip "these tests read v1 hierarchies (/sys/fs/cgroup/memory); the v2 lane has nesting-v2.bats"
  nest_setup
}

teardown() {
  nest_teardown
}

# host_uid PATH: the host uid owning PATH.
host_uid() {
  stat -c %u "$1"
}

@test "userns: hippo in hippo, the inner's limit read inside and on the host, the outer's own limit not writable" {
  nest_outer outer $((64 * MIB)) "$SLEEPER"
  run nest_sh outer '
    nest_busybox_bundle "$HIPPO" /tmp/in in '$((32 * MIB))' sleep 1000
    ih create -b /tmp/in in </dev/null >/tmp/create.out 2>&1 || { cat /tmp/create.out; exit 1; }
    ih start in
    ih state in | jq -r .status
    cat /sys/fs/cgroup/memory/in/memory.limit_in_bytes
    cat /sys/fs/cgroup/memory/memory.limit_in_bytes
    echo '$((128 * MIB))' 2>&1 >/sys/fs/cgroup/memory/memory.limit_in_bytes || true'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = running ]
  [ "${lines[1]}" = $((32 * MIB)) ]
  [ "${lines[2]}" = $((64 * MIB)) ]
  [[ ${lines[3]} == *"Permission denied"* || ${lines[3]} == *"Operation not permitted"* ]]
  [ "$(cat "$(nest_host_cgroup outer memory in)/memory.limit_in_bytes")" = $((32 * MIB)) ]
  [ "$(cat "$(nest_host_cgroup outer memory)/memory.limit_in_bytes")" = $((64 * MIB)) ]
  # The inner's cgroup is the mapped root's (made by it), the outer's limit file host root's.
  [ "$(host_uid "$(nest_host_cgroup outer memory in)")" = "$NEST_USERNS_BASE" ]
  [ "$(host_uid "$(nest_host_cgroup outer memory)/memory.limit_in_bytes")" = 0 ]
  [ -n "$(cat "$(nest_host_cgroup outer memory in)/cgroup.procs")" ]
  run nest_sh outer 'ih delete -f in; [ ! -d /sys/fs/cgroup/memory/in ]'
  [ "$status" -eq 0 ]
  nest_delete_outer outer
  nest_assert_no_leaks outer
}

@test "userns: the outer cannot write any cgroup file above its own" {
  nest_outer outer $((64 * MIB)) "$SLEEPER"
  # Inside, each hierarchy's `..` is the read-only tmpfs holding the binds. Every cgroup mount's
  # root is the outer's own cgroup (mountinfo's root field "/", the cgroup namespace's root),
  # also a v1 hierarchy mounted afresh (the kernel lets a cgroup namespace's owner mount an
  # existing hierarchy, rooted at the namespace's root): its limit is the outer's, not writable.
  run nest_sh outer '
    for h in /sys/fs/cgroup/*/; do
      case $(stat -fc %T "$h") in cgroupfs | cgroup2fs) ;; *) continue ;; esac
      echo "${h}.. $(stat -fc %T "$h..")"
      ( : >"$h../cgroup.procs" ) 2>/dev/null && echo "wrote $h../cgroup.procs"
      ( : >"$h../x" ) 2>/dev/null && echo "wrote $h../x"
    done
    mkdir /sys/fs/cgroup/x 2>&1 || true
    mkdir -p /tmp/cg
    mount -t cgroup -o memory cgroup /tmp/cg
    grep -E " - cgroup2? " /proc/self/mountinfo | cut -d" " -f4 | sort -u | sed "s/^/root /"
    echo "fresh $(cat /tmp/cg/memory.limit_in_bytes) $(stat -fc %T /tmp/cg/..)"
    echo 1 2>&1 >/tmp/cg/memory.limit_in_bytes || true
    echo done'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"/sys/fs/cgroup/memory/.. tmpfs"* ]]
  [[ $output == *"/sys/fs/cgroup/pids/.. tmpfs"* ]]
  [ -z "$(grep -E '\.\. ' <<<"$output" | grep -v ' tmpfs$')" ]
  [ "$(grep ^root <<<"$output")" = "root /" ]
  [[ $output != *wrote* ]]
  [[ $output == *"/sys/fs/cgroup/x"*"Read-only file system"* ]]
  [[ $output == *"fresh $((64 * MIB)) tmpfs"* ]]
  [[ $output == *"/tmp/cg/memory.limit_in_bytes: Permission denied"* ]]
  [ "${lines[-1]}" = done ]
  [ "$(cat "$(nest_host_cgroup outer memory)/memory.limit_in_bytes")" = $((64 * MIB)) ]
  nest_delete_outer outer
  nest_assert_no_leaks outer
}

@test "userns: a mount made inside the outer stays inside; the outer cannot mount on the host" {
  nest_outer outer "" "$SLEEPER"
  local probe
  probe=nest-probe-$(nest_id outer)
  # A tmpfs and a bind onto a path of the host's / (through the overlay): both in the outer's
  # mount namespace only. Block devices cannot be made (mknod in a user namespace), so no host
  # filesystem can be mounted.
  run nest_sh outer '
    mkdir -p /tmp/m
    mount -t tmpfs '"$probe"' /tmp/m
    mount --bind /tmp/m /usr/share
    grep -c '"$probe"' /proc/self/mountinfo
    mknod /tmp/disk b 8 0 2>&1 || true'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 2 ]
  [[ ${lines[1]} == *"Operation not permitted"* ]]
  ! grep -q "$probe" /proc/self/mountinfo
  ! grep -qE '^[0-9]+ [0-9]+ [^ ]+ [^ ]+ /usr/share ' /proc/self/mountinfo
  nest_delete_outer outer
  nest_assert_no_leaks outer
}

@test "userns: host root reads as nobody inside; all capabilities inside, none over the host" {
  nest_outer outer "" "$SLEEPER"
  # Full capabilities, but in the outer's user namespace: a host root's file (through the
  # overlay) cannot be written or chowned, a negative nice (CAP_SYS_NICE over the initial
  # namespace) is refused.
  run nest_sh outer '
    ls -ln /etc/passwd | awk "{ print \$3, \$4 }"
    grep ^CapEff /proc/self/status | cut -f2
    ( : >>/etc/passwd ) 2>&1 || true
    chown 0:0 /etc/passwd 2>&1 || true
    nice -n -5 true 2>&1 || true'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "65534 65534" ]
  [ $((0x${lines[1]})) -eq $(((1 << ($(cat /proc/sys/kernel/cap_last_cap) + 1)) - 1)) ]
  [[ ${lines[2]} == *"/etc/passwd: Permission denied"* ]]
  [[ ${lines[3]} == *"Operation not permitted"* ]]
  [[ ${lines[4]} == *"cannot set niceness: Permission denied"* ]]
  # On the host: uid 100000 in a user namespace that is not the host's; /proc/<pid>/status
  # prints the capability sets as they are, relative to that namespace.
  local pid
  pid=$(hippo state "$(nest_id outer)" | jq -r .pid)
  grep -E '^(Uid|Gid|CapEff):' "/proc/$pid/status"
  [ "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")" = "$NEST_USERNS_BASE $NEST_USERNS_BASE $NEST_USERNS_BASE $NEST_USERNS_BASE" ]
  [ "$(awk '/^Gid:/ { print $2 }' "/proc/$pid/status")" = "$NEST_USERNS_BASE" ]
  [ "$(readlink "/proc/$pid/ns/user")" != "$(readlink /proc/self/ns/user)" ]
  [ "$(cat "/proc/$pid/uid_map" | tr -s ' ' | sed 's/^ //')" = "0 $NEST_USERNS_BASE 65536" ]
  nest_delete_outer outer
  nest_assert_no_leaks outer
}

@test "userns: deleting the outer while an inner container runs leaves nothing" {
  nest_outer outer "" "$SLEEPER"
  run nest_sh outer '
    for n in in1 in2; do
      nest_busybox_bundle "$HIPPO" /tmp/$n $n '$((32 * MIB))' sleep 1000
      ih create -b /tmp/$n $n </dev/null >/tmp/create.out 2>&1 || { cat /tmp/create.out; exit 1; }
      ih start $n
    done'
  echo "$output"
  [ "$status" -eq 0 ]
  [ -n "$(cat "$(nest_host_cgroup outer freezer in2)/cgroup.procs")" ]
  run nest_delete_outer outer
  echo "$output"
  [ "$status" -eq 0 ]
  nest_assert_no_leaks outer
}

@test "userns: Docker inside (the CI agent): a private dockerd with hippo as its runtime runs docker run" {
  # The issue's "by hand, the CI-agent case with a user namespace", as a test.
  nest_check_docker
}
