#!/usr/bin/env bats
# Nesting (issue 16, docs/nesting.md section 7): hippo, containerd, Docker and systemd inside an
# outer hippo container on the host (v1 hybrid, cgroupfs). The fixture is nesting_helpers.bash:
# the outer carries only the annotation io.hippo.nesting=true; the mode gives it the rest. Here
# the privileged variant; NEST_VARIANT=userns runs the same tests in the user namespace one
# (hack/run-tests.sh does, after the whole suite)
# (nesting-userns.bats has that variant's own tests). Every test ends by deleting the outer and
# checking that nothing of it is left on the host.

load helpers
load nesting_helpers

MIB=1048576

setup_file() {
  nest_setup_file
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
  run nest_sh outer 'ih exec in sh -c "for i in \$(seq 30); do sleep 100 </dev/null >/dev/null 2>&1 & done 2>&1; echo all started"'
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

@test "deleting the outer while an inner container is paused (frozen) leaves nothing" {
  nest_outer outer "" "$SLEEPER"
  run nest_sh outer '
    for n in in1 in2; do
      nest_busybox_bundle "$HIPPO" /tmp/$n $n "" sleep 1000
      ih create -b /tmp/$n $n >/dev/null 2>&1 </dev/null
      ih start $n
    done
    ih pause in2
    cat /sys/fs/cgroup/freezer/in2/freezer.state'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = FROZEN ]
  # A frozen task does not die of SIGKILL until thawed: the outer's pid namespace cannot end.
  run timeout 60 env HIPPO_CONFIG="${HIPPO_TEST_CONFIG:-/dev/null}" \
    "$HIPPO_BIN" --root "$BATS_TEST_TMPDIR/state" delete --force "$(nest_id outer)"
  echo "delete: $status $output"
  [ "$status" -eq 0 ]
  umount "$BATS_TEST_TMPDIR/outer/rootfs"
  nest_assert_no_leaks outer
}

@test "containerd and containerd-shim-hippo-v2 inside: ctr run works, its limit lands below the outer's cgroup" {
  nest_outer outer "" "$SLEEPER"
  # A private containerd under the outer's /run (its shim sockets go to /run/containerd/s, the
  # outer's tmpfs too); containerd finds the shim on its PATH; the native snapshotter, as the
  # outer's /var/lib is tmpfs and the rootfs an overlay.
  run nest_sh outer '
    PATH=$(dirname "$HIPPO"):$PATH "$(dirname "$(dirname "$NEST_HELPERS")")/hack/private-containerd.sh" start /run/ctrd
    export CONTAINERD_ADDRESS=/run/ctrd/containerd.sock
    ctr -n nt images import --snapshotter native $NEST_SHARE/images/busybox-oci.tar
    ctr -n nt run -d --snapshotter native --runtime io.containerd.hippo.v2 \
      --memory-limit '$((32 * MIB))' docker.io/hippo/busybox:latest c1 sleep 1000
    ctr -n nt task ls
    cat /sys/fs/cgroup/memory/nt/c1/memory.limit_in_bytes'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = $((32 * MIB)) ]
  [ "$(cat "$(nest_host_cgroup outer memory nt/c1)/memory.limit_in_bytes")" = $((32 * MIB)) ]
  # ctr 1.6 has no `task update` (systemd-shim.bats says so too): the shim's Update is driven
  # through CRI in the next test. Here: exec and kill through the shim.
  run nest_sh outer '
    export CONTAINERD_ADDRESS=/run/ctrd/containerd.sock
    ctr -n nt task exec --exec-id e1 c1 grep :memory: /proc/self/cgroup
    ctr -n nt task kill -s KILL c1
    for i in $(seq 100); do ctr -n nt task ls | grep -q "c1.*STOPPED" && break; sleep 0.1; done
    ctr -n nt task ls'
  echo "$output"
  [ "$status" -eq 0 ]
  # ctr's default spec has no /sys/fs/cgroup mount; its cgroup, as the outer's namespace shows it.
  [[ ${lines[0]} == *:memory:/nt/c1 ]]
  [[ ${lines[-1]} == *STOPPED* ]]
  # Stopping containerd through its script removes its tasks first; then the outer goes.
  run nest_sh outer '"$(dirname "$(dirname "$NEST_HELPERS")")/hack/private-containerd.sh" stop /run/ctrd'
  echo "$output"
  [ "$status" -eq 0 ]
  [ ! -d "$(nest_host_cgroup outer memory nt/c1)" ]
  nest_delete_outer outer
  nest_assert_no_leaks outer
}

@test "CRI inside: UpdateContainerResources through containerd-shim-hippo-v2 reaches the inner cgroup" {
  nest_outer outer "" "$SLEEPER"
  # hack/cri-env.sh inside the outer (its network namespace, loopback registry, containerd with
  # the CRI plugin and the hippo handler all live in the outer), driven by hippo-cri. The
  # update path ctr 1.6 lacks.
  run nest_sh outer '
    repo=$(dirname "$(dirname "$NEST_HELPERS")"); build=$(dirname "$(dirname "$HIPPO")")
    HIPPO_PAUSE=$build/tests/hippo-pause "$repo/hack/make-cri-images.sh" /tmp/cri-images >/dev/null
    HIPPO_BUILD=$build HIPPO_CRI_IMAGES=/tmp/cri-images "$repo/hack/cri-env.sh" start /run/cri >/dev/null
    eval "$("$repo/hack/cri-env.sh" env /run/cri)"
    cri() { "$build/tests/hippo-cri" --endpoint "$CRI_ENDPOINT" --timeout 60 "$@"; }
    cri PullImage "{\"image\":{\"image\":\"docker.io/library/busybox:latest\"}}" >/dev/null
    podcfg=$(jq -n -c --arg parent "$HIPPO_CRI_CGROUP_PARENT/p" "{metadata: {name: \"p\", uid: \"p\", namespace: \"n\"},
      log_directory: \"/run/cri/logs\", linux: {cgroup_parent: \$parent}}")
    pod=$(cri RunPodSandbox "{\"config\": $podcfg, \"runtime_handler\": \"hippo\"}" | jq -r .pod_sandbox_id)
    c=$(cri CreateContainer "$(jq -n -c --arg pod "$pod" --argjson s "$podcfg" "{pod_sandbox_id: \$pod, sandbox_config: \$s,
      config: {metadata: {name: \"c1\"}, image: {image: \"docker.io/library/busybox:latest\"},
        command: [\"sleep\", \"1000\"], log_path: \"c1.log\", linux: {resources: {memory_limit_in_bytes: '$((32 * MIB))'}}}}")" |
      jq -r .container_id)
    cri StartContainer "{\"container_id\":\"$c\"}" >/dev/null
    echo "$HIPPO_CRI_CGROUP_PARENT/p/$c"
    cri UpdateContainerResources "{\"container_id\":\"$c\",\"linux\":{\"memory_limit_in_bytes\":'$((48 * MIB))'}}" >/dev/null
    cri ContainerStatus "{\"container_id\":\"$c\"}" | jq -r .status.state'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = CONTAINER_RUNNING ]
  local cg=${lines[-2]}
  [ "$(cat "$(nest_host_cgroup outer memory "$cg")/memory.limit_in_bytes")" = $((48 * MIB)) ]
  run nest_sh outer 'HIPPO_BUILD=$(dirname "$(dirname "$HIPPO")") "$(dirname "$(dirname "$NEST_HELPERS")")/hack/cri-env.sh" stop /run/cri'
  echo "$output"
  [ "$status" -eq 0 ]
  [ ! -d "$(nest_host_cgroup outer memory "$cg")" ]
  nest_delete_outer outer
  nest_assert_no_leaks outer
}

@test "Docker inside (the CI agent): a private dockerd with hippo as its runtime runs docker run" {
  nest_check_docker
}

@test "systemd as PID 1 inside boots to running and puts a transient unit's memory limit below the outer's cgroup" {
  NEST_BEFORE_CREATE=nest_systemd_masks nest_outer outer "" "$SLEEPER" "$(nest_systemd_extra)"
  local id st="" i
  id=$(nest_id outer)
  for i in $(seq 150); do
    st=$(hippo exec "$id" systemctl is-system-running </dev/null 2>/dev/null || true)
    case $st in running | degraded) break ;; esac
    sleep 0.2
  done
  echo "state: $st"
  if [ "$st" = degraded ]; then
    hippo exec "$id" systemctl --failed --no-legend </dev/null
  fi
  [ "$st" = running ]
  run hippo exec "$id" systemd-run --unit nest-probe -p MemoryLimit=64M sleep 1000 </dev/null
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(cat "$(nest_host_cgroup outer memory system.slice/nest-probe.service)/memory.limit_in_bytes")" = $((64 * MIB)) ]
  nest_delete_outer outer
  nest_assert_no_leaks outer
}
