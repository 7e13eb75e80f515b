#!/usr/bin/env bats
# Nesting (issue 16, docs/nesting.md section 7): hippo, containerd, Docker and systemd inside an
# outer hippo container on the host (v1 hybrid, cgroupfs). The fixture is nesting_helpers.bash:
# with NESTING_BY_HAND=1 (default) the outer gets by hand what the nesting mode will give it;
# NESTING_BY_HAND=0 leaves only the annotation io.hippo.nesting=true. Every test ends by
# deleting the outer and checking that nothing of it is left on the host.

load helpers
load nesting_helpers

MIB=1048576

setup_file() {
  build_busybox_rootfs
}

setup() {
  nest_setup
}

teardown() {
  nest_teardown
}

# An outer whose init only waits; tini reaps what `hippo exec`'d daemons leave behind.
SLEEPER='["tini","--","sleep","infinity"]'

@test "hippo in hippo: the inner's memory limit sits below the outer's, read inside and on the host" {
  nest_outer outer $((64 * MIB)) "$SLEEPER"
  run nest_sh outer '
    nest_busybox_bundle "$HIPPO" /tmp/in in '$((32 * MIB))' sleep 1000
    ih create -b /tmp/in in >/dev/null 2>&1 </dev/null
    ih start in
    cat /sys/fs/cgroup/memory/in/memory.limit_in_bytes
    cat /sys/fs/cgroup/memory/memory.limit_in_bytes'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = $((32 * MIB)) ]
  [ "${lines[1]}" = $((64 * MIB)) ]
  [ "$(cat "$(nest_host_cgroup outer memory in)/memory.limit_in_bytes")" = $((32 * MIB)) ]
  [ "$(cat "$(nest_host_cgroup outer memory)/memory.limit_in_bytes")" = $((64 * MIB)) ]
  # The inner's init is in the inner cgroup, as the host sees it.
  [ -n "$(cat "$(nest_host_cgroup outer memory in)/cgroup.procs")" ]
  run nest_sh outer 'ih delete -f in; [ ! -d /sys/fs/cgroup/memory/in ]'
  [ "$status" -eq 0 ]
  nest_delete_outer outer
  nest_assert_no_leaks outer
}

@test "hippo in hippo: the inner OOMs at the outer's limit when its own is higher" {
  nest_outer outer $((64 * MIB)) "$SLEEPER"
  # v1 counts an OOM kill (memory.oom_control's oom_kill) only in the victim's own memcg, gone
  # with the inner; the outer's failcnt counts the charges its limit refused.
  local before
  before=$(cat "$(nest_host_cgroup outer memory)/memory.failcnt")
  # ash keeps a command substitution's output in its own (anonymous) memory: ~100 MiB.
  run nest_sh outer '
    nest_busybox_bundle "$HIPPO" /tmp/in in '$((256 * MIB))' \
      sh -c "x=\$(head -c 104857600 /dev/zero | tr \"\\\\0\" a); echo survived \${#x}"
    rc=0; ih run -b /tmp/in in </dev/null || rc=$?
    echo "inner exit $rc"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"inner exit 137"* ]]
  [[ $output != *survived* ]]
  [ "$(cat "$(nest_host_cgroup outer memory)/memory.failcnt")" -gt "$before" ]
  run hippo state "$(nest_id outer)"
  [ "$(jq -r .status <<<"$output")" = running ]
  nest_delete_outer outer
  nest_assert_no_leaks outer
}

@test "hippo update of the outer while the inner runs changes the outer's files only" {
  nest_outer outer $((64 * MIB)) "$SLEEPER"
  run nest_sh outer '
    nest_busybox_bundle "$HIPPO" /tmp/in in '$((32 * MIB))' sleep 1000
    ih create -b /tmp/in in >/dev/null 2>&1 </dev/null
    ih start in'
  [ "$status" -eq 0 ]
  local inner_pids_before
  inner_pids_before=$(cat "$(nest_host_cgroup outer pids in)/pids.max")
  hippo update --memory 96M --pids-limit 20 "$(nest_id outer)"
  [ "$(cat "$(nest_host_cgroup outer memory)/memory.limit_in_bytes")" = $((96 * MIB)) ]
  [ "$(cat "$(nest_host_cgroup outer pids)/pids.max")" = 20 ]
  [ "$(cat "$(nest_host_cgroup outer memory in)/memory.limit_in_bytes")" = $((32 * MIB)) ]
  [ "$(cat "$(nest_host_cgroup outer pids in)/pids.max")" = "$inner_pids_before" ]
  run nest_sh outer 'ih state in | jq -r .status'
  [ "$output" = running ]
  # The outer's pids limit binds the inner: 30 more processes in it cannot all start.
  run nest_sh outer 'ih exec in sh -c "for i in \$(seq 30); do sleep 100 & done 2>&1; echo all started"'
  echo "$output"
  [[ $output == *"can't fork"* ]]
  [[ $output != *"all started"* ]]
  [ "$(cat "$(nest_host_cgroup outer pids)/pids.current")" -le 20 ]
  nest_delete_outer outer
  nest_assert_no_leaks outer
}

@test "three levels: hippo in hippo in hippo" {
  nest_outer outer "" "$SLEEPER"
  # The middle is an outer again, made by the outer's hippo with this fixture, its rootfs an
  # overlay of the outer's / with the upper layer in the outer's /tmp.
  run nest_sh outer '
    mid=/tmp/mid
    mkdir -p $mid && (cd $mid && HIPPO_CONFIG=/dev/null "$HIPPO" spec)
    nest_overlay_rootfs $mid
    nest_config $mid/config.json /mid "" '"'$SLEEPER'"'
    nest_binds $mid $NEST_SHARE/images "$(dirname "$(dirname "$NEST_HELPERS")")" "$(dirname "$HIPPO")"
    ih create -b $mid mid >/dev/null 2>&1 </dev/null
    ih start mid
    ih exec mid env HIPPO="$HIPPO" NEST_HELPERS="$NEST_HELPERS" bash -c "set -eu; source \$NEST_HELPERS
      nest_busybox_bundle \$HIPPO /tmp/in in '$((32 * MIB))' sleep 1000
      HIPPO_CONFIG=/dev/null \$HIPPO --root /run/hippo create -b /tmp/in in >/dev/null 2>&1 </dev/null
      HIPPO_CONFIG=/dev/null \$HIPPO --root /run/hippo start in
      cat /sys/fs/cgroup/memory/in/memory.limit_in_bytes"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = $((32 * MIB)) ]
  [ "$(cat "$(nest_host_cgroup outer memory mid/in)/memory.limit_in_bytes")" = $((32 * MIB)) ]
  [ -n "$(cat "$(nest_host_cgroup outer pids mid/in)/cgroup.procs")" ]
  nest_delete_outer outer
  nest_assert_no_leaks outer
}

@test "deleting the outer while inner containers run leaves nothing in any hierarchy" {
  nest_outer outer "" "$SLEEPER"
  run nest_sh outer '
    for n in in1 in2; do
      nest_busybox_bundle "$HIPPO" /tmp/$n $n '$((32 * MIB))' sleep 1000
      ih create -b /tmp/$n $n >/dev/null 2>&1 </dev/null
      ih start $n
    done'
  [ "$status" -eq 0 ]
  [ -d "$(nest_host_cgroup outer freezer in2)" ]
  run nest_delete_outer outer
  echo "$output"
  [ "$status" -eq 0 ]
  nest_assert_no_leaks outer
}
