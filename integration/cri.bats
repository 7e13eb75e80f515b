#!/usr/bin/env bats
# Kubernetes' path to hippo: containerd's CRI plugin, runtime handler `hippo`
# (io.containerd.hippo.v2), one shim per pod, driven by our CRI client (hippo-cri) in a private
# environment (hack/cri-env.sh): its own network namespace with a CNI bridge, a loopback
# registry holding our pause and busybox images, cgroupfs driver. integration/cri-runc.bats is a
# link to this file: there hippo's shim runs the same tests through its runc backend;
# integration/cri-node.bats another, with config.yaml `grouping: node` (one shim daemon).

load cri_helpers

setup_file() {
  local file=${BATS_TEST_FILENAME##*/}
  cri_setup_file "${file%.bats}"
}

teardown_file() {
  cri_teardown_file
}

setup() {
  N=$(test_name)
}

teardown() {
  cri_teardown
}

@test "cri: Version answers runtime.v1 through containerd's CRI plugin" {
  run cri Version
  [ "$status" -eq 0 ]
  [ "$(jq -r .runtime_api_version <<<"$output")" = v1 ]
  [ "$(jq -r .runtime_name <<<"$output")" = containerd ]
}

@test "cri: images come from the loopback registry through containerd's mirror configuration" {
  cri PullImage '{"image":{"image":"registry.k8s.io/pause:3.6"}}' >/dev/null
  run cri ListImages
  [ "$status" -eq 0 ]
  jq -e '[.images[].repo_tags[]] | index("registry.k8s.io/pause:3.6")' <<<"$output"
  jq -e '[.images[].repo_tags[]] | index("docker.io/library/busybox:latest")' <<<"$output"
  # the registry in the environment's namespace served them
  grep -q 'pause' "$CRI_DIR/registry/registry.log" ||
    ls "$CRI_DIR/registry/data/docker/registry/v2/repositories/pause" >/dev/null
}

@test "cri: a pod sandbox with handler hippo is READY, served by exactly one hippo shim, and removed without a trace" {
  pod=$(run_pod "$N")
  status=$(pod_status "$pod")
  [ "$(jq -r .status.state <<<"$status")" = SANDBOX_READY ]
  [ "$(jq -r .status.runtime_handler <<<"$status")" = hippo ]
  [ "$(shims_of_pod "$pod" | wc -l)" -eq 1 ]
  # the pause container is our own pause program, pid 1 of the pod
  spec=$(jq -r '.info.info' <<<"$status")
  [ "$(jq -r '.runtimeSpec.process.args[0]' <<<"$spec")" = /pause ]
  [ "$(jq -r '.runtimeType' <<<"$spec")" = io.containerd.hippo.v2 ]
  # the backend this file asked for holds the pod's container
  if [[ $BATS_TEST_FILENAME == */cri-runc.bats ]]; then
    runc --root "$CRI_DIR/hippo-runc/k8s.io" list -q | grep -qx "$pod"
  else
    [ -d "$CRI_DIR/hippo-state/containerd/k8s.io/$pod" ]
  fi
  cri StopPodSandbox "{\"pod_sandbox_id\":\"$pod\"}" >/dev/null
  [ "$(pod_status "$pod" | jq -r .status.state)" = SANDBOX_NOTREADY ]
  remove_pod "$pod" "$N"
  run cri PodSandboxStatus "{\"pod_sandbox_id\":\"$pod\"}"
  [ "$status" -ne 0 ]
  [[ $output == *NOT_FOUND* ]]
}

@test "cri: a container starts, runs, stops and is removed" {
  pod=$(run_pod "$N")
  c=$(start_container "$pod" "$N" c1 sh -c 'trap "exit 0" TERM; while true; do sleep 1; done')
  [ "$(container_status "$c" | jq -r .status.state)" = CONTAINER_RUNNING ]
  [ "$(cri ListContainers "{\"filter\":{\"pod_sandbox_id\":\"$pod\"}}" | jq '.containers | length')" -eq 1 ]
  cri StopContainer "{\"container_id\":\"$c\",\"timeout\":10}" >/dev/null
  st=$(container_status "$c")
  [ "$(jq -r .status.state <<<"$st")" = CONTAINER_EXITED ]
  # SIGTERM reached the container's init, whose trap ended it well within the timeout
  [ "$(jq -r .status.exit_code <<<"$st")" -eq 0 ]
  cri RemoveContainer "{\"container_id\":\"$c\"}" >/dev/null
  [ "$(cri ListContainers "{\"filter\":{\"pod_sandbox_id\":\"$pod\"}}" | jq '.containers | length')" -eq 0 ]
  [ ! -e "$CRI_DIR/hippo-state/containerd/k8s.io/$c" ]
}

@test "cri: exit codes and reasons: 0 is Completed, 7 is Error" {
  pod=$(run_pod "$N")
  ok=$(start_container "$pod" "$N" ok sh -c 'exit 0')
  bad=$(start_container "$pod" "$N" bad sh -c 'exit 7')
  eventually container_state_is "$ok" CONTAINER_EXITED
  eventually container_state_is "$bad" CONTAINER_EXITED
  [ "$(container_status "$ok" | jq -r '.status.exit_code, .status.reason' | xargs)" = "0 Completed" ]
  [ "$(container_status "$bad" | jq -r '.status.exit_code, .status.reason' | xargs)" = "7 Error" ]
  # (the exit may be stamped before containerd stamps the start: only both being set is sure)
  [ "$(container_status "$bad" | jq -r '.status.finished_at')" -gt 0 ]
  [ "$(container_status "$bad" | jq -r '.status.started_at')" -gt 0 ]
}

@test "cri: ExecSync returns the command's stdout, stderr and exit code" {
  pod=$(run_pod "$N")
  c=$(start_container "$pod" "$N" c1 sleep 1000)
  run cri exec-sync "$c" -- sh -c 'echo out; echo err >&2; exit 3'
  [ "$status" -eq 3 ]
  [ "${lines[0]}" = out ]
  [[ $output == *err* ]]
  run cri ExecSync "{\"container_id\":\"$c\",\"cmd\":[\"cat\",\"/etc/hostname\"]}"
  [ "$status" -eq 0 ]
  [ "$(jq -r .stdout <<<"$output" | base64 -d)" = "$N" ]
  [ "$(jq -r .exit_code <<<"$output")" -eq 0 ]
  # the exec ran in the container: same pid namespace, same cgroup
  [ "$(cri exec-sync "$c" -- cat /proc/1/cmdline | tr '\0' ' ')" = "sleep 1000 " ]
}

@test "cri: ExecSync with a timeout ends a command that outlives it" {
  pod=$(run_pod "$N")
  c=$(start_container "$pod" "$N" c1 sleep 1000)
  run cri exec-sync "$c" --timeout 1 -- sleep 30
  [ "$status" -ne 0 ]
  [[ $output == *"timeout"* || $output == *"DeadlineExceeded"* || $output == *"deadline"* ]]
  # the container is unharmed
  [ "$(cri exec-sync "$c" -- echo still)" = still ]
}

@test "cri: a shared pid namespace pod sees the pause process, and a container's leftovers die with its init" {
  filter='.linux.security_context.namespace_options.pid = "POD"'
  pod=$(run_pod "$N" hippo "$filter")
  cfg=$(container_config c1 sh -c 'sleep 777 & sleep 2; exit 5' | jq -c "$filter")
  c=$(create_container "$pod" "$N" "$cfg" "$filter")
  keep=$(create_container "$pod" "$N" "$(container_config keep sleep 1000 | jq -c "$filter")" "$filter")
  cri StartContainer "{\"container_id\":\"$keep\"}" >/dev/null
  cri StartContainer "{\"container_id\":\"$c\"}" >/dev/null
  # pid 1 of the shared namespace is the pod's pause
  run cri exec-sync "$keep" -- cat /proc/1/cmdline
  [ "$output" = /pause ]
  cri exec-sync "$keep" -- ps -o pid,args | grep -q 'sleep 777'
  eventually container_state_is "$c" CONTAINER_EXITED
  [ "$(container_status "$c" | jq -r .status.exit_code)" -eq 5 ]
  # the init's orphan was killed before the exit was reported
  run cri exec-sync "$keep" -- ps -o args
  [[ $output != *"sleep 777"* ]]
}

@test "cri: without a shared pid namespace the container's command is its pid 1" {
  pod=$(run_pod "$N")
  c=$(start_container "$pod" "$N" c1 sleep 1000)
  [ "$(cri exec-sync "$c" -- cat /proc/1/cmdline | tr '\0' ' ')" = "sleep 1000 " ]
  run cri exec-sync "$c" -- ps -o args
  [[ $output != */pause* ]]
}

@test "cri: UpdateContainerResources changes memory and cpu in place, read back from the cgroup" {
  pod=$(run_pod "$N")
  c=$(start_container "$pod" "$N" c1 sleep 1000)
  cg=$(container_cgroup "$N" "$c")
  [ -d "$cg" ]
  cri UpdateContainerResources "{\"container_id\":\"$c\",\"linux\":{\"memory_limit_in_bytes\":67108864,\"cpu_quota\":50000,\"cpu_period\":100000,\"cpu_shares\":512}}" >/dev/null
  [ "$(cat "$cg/memory.limit_in_bytes")" = 67108864 ]
  cpu=/sys/fs/cgroup/cpu$(pod_cgroup_parent "$N")/$c
  [ "$(cat "$cpu/cpu.cfs_quota_us")" = 50000 ]
  [ "$(cat "$cpu/cpu.cfs_period_us")" = 100000 ]
  [ "$(cat "$cpu/cpu.shares")" = 512 ]
  # CRI reports what it set; the container kept running
  [ "$(container_status "$c" | jq -r .status.resources.linux.memory_limit_in_bytes)" = 67108864 ]
  [ "$(container_status "$c" | jq -r .status.state)" = CONTAINER_RUNNING ]
  cri UpdateContainerResources "{\"container_id\":\"$c\",\"linux\":{\"memory_limit_in_bytes\":134217728}}" >/dev/null
  [ "$(cat "$cg/memory.limit_in_bytes")" = 134217728 ]
}

@test "cri: an invalid resource update is refused and the old limit stays" {
  pod=$(run_pod "$N")
  c=$(start_container "$pod" "$N" c1 sleep 1000)
  cg=$(container_cgroup "$N" "$c")
  cri UpdateContainerResources "{\"container_id\":\"$c\",\"linux\":{\"memory_limit_in_bytes\":67108864}}" >/dev/null
  run cri UpdateContainerResources "{\"container_id\":\"$c\",\"linux\":{\"cpuset_cpus\":\"9999\"}}"
  [ "$status" -ne 0 ]
  [ "$(cat "$cg/memory.limit_in_bytes")" = 67108864 ]
  [ "$(container_status "$c" | jq -r .status.state)" = CONTAINER_RUNNING ]
}

@test "cri: ContainerStats reports the container's cpu and memory" {
  pod=$(run_pod "$N")
  c=$(start_container "$pod" "$N" c1 sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 1000')
  has_cpu() {
    [ "$(cri ContainerStats "{\"container_id\":\"$c\"}" | jq -r '.stats.cpu.usage_core_nano_seconds.value // 0')" -gt 0 ]
  }
  eventually has_cpu
  st=$(cri ContainerStats "{\"container_id\":\"$c\"}")
  [ "$(jq -r .stats.attributes.id <<<"$st")" = "$c" ]
  [ "$(jq -r '.stats.memory.working_set_bytes.value' <<<"$st")" -gt 0 ]
  [ "$(jq -r '.stats.memory.usage_bytes.value' <<<"$st")" -gt 0 ]
}

@test "cri: a container over its memory limit exits 137 with reason OOMKilled" {
  pod=$(run_pod "$N")
  st=$(oom_hog_status "$pod" "$N")
  [ "$(jq -r .status.exit_code <<<"$st")" -eq 137 ]
  [ "$(jq -r .status.reason <<<"$st")" = OOMKilled ]
}

@test "cri: the container's stdout and stderr land in the log file CRI asked for" {
  pod=$(run_pod "$N")
  c=$(start_container "$pod" "$N" c1 sh -c 'echo to-out; echo to-err >&2; echo -n partial')
  eventually container_state_is "$c" CONTAINER_EXITED
  log=$CRI_DIR/logs/$N/c1.log
  [ "$(container_status "$c" | jq -r .status.log_path)" = "$log" ]
  grep -E '^[0-9T:.Z-]+ stdout F to-out$' "$log"
  grep -E '^[0-9T:.Z-]+ stderr F to-err$' "$log"
  grep -E '^[0-9T:.Z-]+ stdout P partial$' "$log"
}

@test "cri: a pod with 3 containers: one shim, three cgroups, each container on its own" {
  pod=$(run_pod "$N")
  a=$(start_container "$pod" "$N" a sleep 1000)
  b=$(start_container "$pod" "$N" b sleep 1000)
  c=$(start_container "$pod" "$N" c sh -c 'echo c > /tmp/mine; sleep 1000')
  for x in "$a" "$b" "$c"; do
    [ "$(container_status "$x" | jq -r .status.state)" = CONTAINER_RUNNING ]
    [ -d "$(container_cgroup "$N" "$x")" ]
  done
  [ "$(shims_of_pod "$pod" | wc -l)" -eq 1 ]
  # separate root filesystems, one network (the pod's)
  run cri exec-sync "$a" -- cat /tmp/mine
  [ "$status" -ne 0 ]
  [ -n "$(pod_ip_seen_by "$a")" ]
  [ "$(pod_ip_seen_by "$a")" = "$(pod_ip_seen_by "$b")" ]
  cri StopContainer "{\"container_id\":\"$b\",\"timeout\":5}" >/dev/null
  [ "$(container_status "$a" | jq -r .status.state)" = CONTAINER_RUNNING ]
  [ "$(container_status "$b" | jq -r .status.state)" = CONTAINER_EXITED ]
}

@test "cri: two pods are served by two shims (by one in node mode)" {
  p1=$(run_pod "$N-1")
  p2=$(run_pod "$N-2")
  start_container "$p1" "$N-1" c sleep 1000 >/dev/null
  start_container "$p2" "$N-2" c sleep 1000 >/dev/null
  s1=$(shims_of_pod "$p1")
  s2=$(shims_of_pod "$p2")
  [ "$(wc -w <<<"$s1")" -eq 1 ]
  [ "$(wc -w <<<"$s2")" -eq 1 ]
  if [[ ${HIPPO_CRI_GROUPING:-pod} == node ]]; then
    [ "$s1" = "$s2" ]  # cri-node.bats: one daemon serves the node
  else
    [ "$s1" != "$s2" ]
  fi
}

@test "cri: an unknown runtime handler is a clear CRI error and leaves nothing behind" {
  before=$(ls /run/netns 2>/dev/null | sort)
  run cri RunPodSandbox "$(jq -n -c --argjson c "$(pod_config "$N")" '{config: $c, runtime_handler: "no-such-handler"}')"
  [ "$status" -ne 0 ]
  [[ $output == *"no-such-handler"* ]]
  [ "$(cri ListPodSandbox | jq --arg n "$N" '[.items[] | select(.metadata.name == $n)] | length')" -eq 0 ]
  [ "$(ls /run/netns 2>/dev/null | sort)" = "$before" ]
}

@test "cri: pods get addresses on the CNI bridge inside the environment's namespace and reach each other" {
  p1=$(run_pod "$N-1")
  p2=$(run_pod "$N-2")
  srv=$(start_container "$p1" "$N-1" srv sh -c 'echo hello-from-pod | nc -l -p 8080')
  cli=$(start_container "$p2" "$N-2" cli sleep 1000)
  ip1=$(pod_status "$p1" | jq -r .status.network.ip)
  [[ $ip1 == 10.88.* ]]
  [ "$(pod_ip_seen_by "$srv")" = "$ip1" ]
  # the bridge is not in the host's namespace
  ! ip link show cni0 >/dev/null 2>&1 || ! ip link show cni0 | grep -q "$ip1"
  ip netns exec "$HIPPO_CRI_NETNS" ip link show cni0 >/dev/null
  got() { [ "$(cri exec-sync "$cli" -- nc "$ip1" 8080 2>/dev/null)" = hello-from-pod ]; }
  eventually got
}

@test "cri: run_as_user, env and working dir from the container config" {
  pod=$(run_pod "$N")
  cfg=$(container_config c1 sleep 1000 |
    jq -c '.envs = [{key: "HELLO", value: "d29ybGQ="}] | .working_dir = "/tmp" | .linux.security_context.run_as_user.value = 1234')
  c=$(create_container "$pod" "$N" "$cfg")
  cri StartContainer "{\"container_id\":\"$c\"}" >/dev/null
  [ "$(cri exec-sync "$c" -- id -u)" = 1234 ]
  [ "$(cri exec-sync "$c" -- pwd)" = /tmp ]
  [ "$(cri exec-sync "$c" -- sh -c 'echo $HELLO')" = world ]
}

@test "cri: a container's cdi.k8s.io/ annotation (as a device plugin sets it) gets the CDI device" {
  # kmsg's numbers (c 1:11): no default rule allows them; opened write-only, nothing written.
  mknod -m 666 "$BATS_TEST_TMPDIR/gpu-$N" c 1 11
  jq -n --arg n "$BATS_TEST_TMPDIR/gpu-$N" --arg name "$N" '{cdiVersion: "0.6.0", kind: "example.com/gpu",
    devices: [{name: $name, containerEdits: {env: ["FAKE_GPU=cri"], deviceNodes: [{path: "/dev/gpu0", hostPath: $n}]}}]}' \
    >"$CRI_DIR/cdi/$N.json"
  pod=$(run_pod "$N")
  cfg=$(container_config c1 sleep 1000 | jq -c --arg d "example.com/gpu=$N" '.annotations = {"cdi.k8s.io/test": $d}')
  c=$(create_container "$pod" "$N" "$cfg")
  if [[ $BATS_TEST_FILENAME == */cri-runc.bats ]]; then
    # The runc backend refuses a CDI request rather than run the container without the device.
    run cri StartContainer "{\"container_id\":\"$c\"}"
    [ "$status" -ne 0 ]
    [[ "$output" == *"CDI devices need hippo's native backend"* ]]
    rm -f "$CRI_DIR/cdi/$N.json"
    return
  fi
  cri StartContainer "{\"container_id\":\"$c\"}" >/dev/null
  [ "$(cri exec-sync "$c" -- sh -c ': >/dev/gpu0 && echo opened')" = opened ]
  [ "$(cri exec-sync "$c" -- sh -c "tr '\\0' '\\n' </proc/1/environ | grep ^FAKE_GPU=")" = FAKE_GPU=cri ]
  # containerd's update carries the device rules of its own copy of the spec, without the CDI
  # device's: the device stays allowed all the same.
  cri UpdateContainerResources "{\"container_id\":\"$c\",\"linux\":{\"memory_limit_in_bytes\":67108864}}" >/dev/null
  [ "$(cri exec-sync "$c" -- sh -c ': >/dev/gpu0 && echo opened')" = opened ]
  # A container of the same pod that asked for nothing has no such device.
  c2=$(create_container "$pod" "$N" "$(container_config c2 sleep 1000)")
  cri StartContainer "{\"container_id\":\"$c2\"}" >/dev/null
  run cri exec-sync "$c2" -- ls /dev/gpu0
  [ "$status" -ne 0 ]
  # The same asked as a pod annotation (pod_annotations): every container of that pod gets it.
  pod2=$(run_pod "$N-p" hippo ".annotations = {\"cdi.k8s.io/test\": \"example.com/gpu=$N\"}")
  c3=$(create_container "$pod2" "$N-p" "$(container_config c3 sleep 1000)" \
    ".annotations = {\"cdi.k8s.io/test\": \"example.com/gpu=$N\"}")
  cri StartContainer "{\"container_id\":\"$c3\"}" >/dev/null
  [ "$(cri exec-sync "$c3" -- sh -c ': >/dev/gpu0 && echo opened')" = opened ]
  rm -f "$CRI_DIR/cdi/$N.json"
}

@test "cri: StopContainer kills a container that ignores SIGTERM once its timeout passes" {
  pod=$(run_pod "$N")
  c=$(start_container "$pod" "$N" c1 sh -c 'trap "" TERM; while true; do sleep 1; done')
  run cri StopContainer "{\"container_id\":\"$c\",\"timeout\":1}"
  [ "$status" -eq 0 ]
  [ "$(container_status "$c" | jq -r '.status.state, .status.exit_code' | xargs)" = "CONTAINER_EXITED 137" ]
}

@test "cri: a container SIGKILLed at stop while writing: its log keeps every line, containerd's copy ends cleanly" {
  pod=$(run_pod "$N")
  # It ignores SIGTERM and still writes when StopContainer's SIGKILL comes: the FIFO is full
  # then, and the exit must not reach containerd before containerd has read it (containerd
  # closes its end as it handles the exit).
  c=$(start_container "$pod" "$N" c1 sh -c "trap '' TERM; seq 1 200000; echo last-line-$N; yes filler-$N")
  run cri StopContainer "{\"container_id\":\"$c\",\"timeout\":1}"
  [ "$status" -eq 0 ]
  [ "$(container_status "$c" | jq -r '.status.state, .status.exit_code' | xargs)" = "CONTAINER_EXITED 137" ]
  log=$CRI_DIR/logs/$N/c1.log
  cut -d' ' -f4- "$log" | head -200001 | cmp - <(seq 1 200000; echo "last-line-$N")
  if grep "Failed to pipe.*$c" "$CRI_DIR/ctrd/containerd.log"; then
    echo "containerd's copy of $c's output was cut off" >&2
    return 1
  fi
}

@test "cri: containerd restarts: the pod keeps running, exec still works, a later exit is seen" {
  pod=$(run_pod "$N")
  # (pid 1 ignores a signal it has no handler for: the trap makes `kill 1` end it)
  c=$(start_container "$pod" "$N" c1 sh -c 'trap "exit 3" TERM; while true; do sleep 1; done')
  shim=$(shims_of_pod "$pod")
  HIPPO_BUILD=$HIPPO_BUILD "$REPO_ROOT/hack/cri-env.sh" restart "$CRI_DIR"
  ready() { cri Version >/dev/null 2>&1; }
  eventually ready
  [ "$(shims_of_pod "$pod")" = "$shim" ]
  [ "$(container_status "$c" | jq -r .status.state)" = CONTAINER_RUNNING ]
  [ "$(cri exec-sync "$c" -- echo alive)" = alive ]
  cri exec-sync "$c" -- kill 1
  eventually container_state_is "$c" CONTAINER_EXITED
  [ "$(container_status "$c" | jq -r .status.exit_code)" -eq 3 ]
}

@test "cri: the same pod and container run under runc's handler beside hippo's" {
  pod=$(run_pod "$N" runc)
  c=$(start_container "$pod" "$N" c1 sleep 1000)
  [ "$(pod_status "$pod" | jq -r .status.runtime_handler)" = runc ]
  [ "$(cri exec-sync "$c" -- echo hi)" = hi ]
  [ -z "$(shims_of_pod "$pod" | xargs -r -I{} grep -l hippo /proc/{}/cmdline)" ]
}
