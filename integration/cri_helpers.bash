# Helpers for the CRI suites: each file runs one private environment (hack/cri-env.sh: its own
# network namespace, a loopback registry, containerd with the CRI plugin) and drives it with our
# CRI client, build/tests/hippo-cri. Every test names its own pods (test_name) and records them,
# so teardown can remove them and prove nothing of them is left.

load helpers

CRI_CLIENT=$HIPPO_BUILD/tests/hippo-cri

# cri_env_up DIR [RUNNER...]: the environment in DIR (images in DIR/images), started through
# RUNNER (e.g. `sd` for the systemd sandbox; HIPPO_CRI_DRIVER and HIPPO_CRI_BACKEND pass
# through), its exports in this shell, busybox pulled.
cri_env_up() {
  export CRI_DIR=$1
  shift
  mkdir -p "$CRI_DIR/logs"
  HIPPO_PAUSE=$HIPPO_BUILD/tests/hippo-pause \
    "$REPO_ROOT/hack/make-cri-images.sh" "$CRI_DIR/images" >/dev/null
  "$@" env HIPPO_BUILD="$HIPPO_BUILD" HIPPO_CRI_IMAGES="$CRI_DIR/images" \
    HIPPO_CRI_DRIVER="${HIPPO_CRI_DRIVER:-cgroupfs}" HIPPO_CRI_BACKEND="${HIPPO_CRI_BACKEND:-native}" \
    HIPPO_CRI_GROUPING="${HIPPO_CRI_GROUPING:-pod}" \
    "$REPO_ROOT/hack/cri-env.sh" start "$CRI_DIR" >/dev/null
  eval "$("$REPO_ROOT/hack/cri-env.sh" env "$CRI_DIR")"
  export CRI_ENDPOINT CONTAINERD_ADDRESS HIPPO_CRI_NETNS HIPPO_CRI_CGROUP_PARENT
  cri PullImage '{"image":{"image":"docker.io/library/busybox:latest"}}' >/dev/null
}

# cri_env_down LOG_NAME [RUNNER...]: stops the environment; containerd's log (with the shims'
# lines in it) outlives the run as build/test-logs/LOG_NAME-containerd.log.
cri_env_down() {
  local name=$1
  shift
  "$@" env HIPPO_BUILD="$HIPPO_BUILD" HIPPO_CRI_DRIVER="${HIPPO_CRI_DRIVER:-cgroupfs}" \
    "$REPO_ROOT/hack/cri-env.sh" stop "$CRI_DIR" || true
  mkdir -p "$HIPPO_BUILD/test-logs"
  cp "$CRI_DIR/ctrd/containerd.log" "$HIPPO_BUILD/test-logs/$name-containerd.log" 2>/dev/null || true
}

cri_setup_file() {
  # cri-runc.bats is a link to cri.bats: by its name, hippo's shim drives an external runc
  [[ $BATS_TEST_FILENAME != */cri-runc.bats ]] || export HIPPO_CRI_BACKEND=runc
  # cri-node.bats: config.yaml `grouping: node`, one shim daemon for every pod
  [[ $BATS_TEST_FILENAME != */cri-node.bats ]] || export HIPPO_CRI_GROUPING=node
  # Short: containerd's ttrpc socket path under it must fit in 107 bytes.
  rm -rf "/tmp/hippo-cri-$$-${1:?suite tag}"
  cri_env_up "/tmp/hippo-cri-$$-$1"
}

cri_teardown_file() {
  cri_env_down "${CRI_DIR#/tmp/hippo-cri-$$-}"
  rm -rf --one-file-system "$CRI_DIR"
}

cri() {
  "$CRI_CLIENT" --timeout 60 "$@"
}

# pod_config NAME [JQ_FILTER]: a PodSandboxConfig for pod NAME, its logs under CRI_DIR/logs/NAME,
# its cgroup parent HIPPO_CRI_CGROUP_PARENT/NAME (cgroupfs) as a kubelet gives each pod one.
# As the kubelet does, each container gets its own pid namespace (CONTAINER) unless a test
# asks for shareProcessNamespace (POD, the proto's zero value).
pod_config() {
  local name=$1 filter=${2:-.}
  jq -n -c --arg name "$name" --arg logs "$CRI_DIR/logs/$name" \
    --arg parent "$(pod_cgroup_parent "$name")" \
    '{metadata: {name: $name, uid: $name, namespace: "hippo-test"}, hostname: $name,
      log_directory: $logs,
      linux: {cgroup_parent: $parent, security_context: {namespace_options: {pid: "CONTAINER"}}}}' |
    jq -c "$filter"
}

pod_cgroup_parent() {
  if [[ $HIPPO_CRI_CGROUP_PARENT == *.slice ]]; then
    # systemd: a slice per pod below the environment's slice, named as systemd nests them
    echo "${HIPPO_CRI_CGROUP_PARENT%.slice}-${1//-/_}.slice"
  else
    echo "$HIPPO_CRI_CGROUP_PARENT/$1"
  fi
}

# run_pod NAME [HANDLER] [JQ_FILTER]: prints the pod id; the pod is removed by cri_teardown.
run_pod() {
  local name=$1 handler=${2:-hippo} filter=${3:-.} out
  out=$(cri RunPodSandbox "$(jq -n -c --argjson c "$(pod_config "$name" "$filter")" \
    --arg h "$handler" '{config: $c, runtime_handler: $h}')") || return 1
  local id
  id=$(jq -r .pod_sandbox_id <<<"$out")
  echo "$id $name" >>"$BATS_TEST_TMPDIR/pods"
  echo "$id"
}

# container_config NAME CMD...: a busybox ContainerConfig logging to NAME.log.
container_config() {
  local name=$1
  shift
  local cmd a
  # (not jq --args: jq would take a "-c" among them for its own option)
  cmd=$(for a in "$@"; do jq -n --arg a "$a" '$a'; done | jq -s -c .)
  jq -n -c --arg name "$name" --argjson cmd "$cmd" \
    '{metadata: {name: $name}, image: {image: "docker.io/library/busybox:latest"},
      command: $cmd, log_path: ($name + ".log"),
      linux: {security_context: {namespace_options: {pid: "CONTAINER"}}}}'
}

# create_container POD_ID POD_NAME CONFIG_JSON [POD_JQ_FILTER]: prints the container id.
create_container() {
  local pod=$1 name=$2 config=$3 filter=${4:-.}
  cri CreateContainer "$(jq -n -c --arg pod "$pod" --argjson c "$config" \
    --argjson s "$(pod_config "$name" "$filter")" \
    '{pod_sandbox_id: $pod, config: $c, sandbox_config: $s}')" | jq -r .container_id
}

# start_container POD_ID POD_NAME CTR_NAME CMD...: created and started; prints its id.
start_container() {
  local pod=$1 pod_name=$2 name=$3 id
  shift 3
  id=$(create_container "$pod" "$pod_name" "$(container_config "$name" "$@")") || return 1
  [ -n "$id" ] || return 1
  cri StartContainer "{\"container_id\":\"$id\"}" >/dev/null || return 1
  echo "$id"
}

container_status() {
  cri ContainerStatus "{\"container_id\":\"$1\"}"
}

container_state_is() {
  [ "$(container_status "$1" | jq -r .status.state)" = "$2" ]
}

pod_status() {
  cri PodSandboxStatus "{\"pod_sandbox_id\":\"$1\",\"verbose\":true}"
}

# The shim daemons serving pod ID (containerd starts them with -id <sandbox id>).
shims_of_pod() {
  local d cmdline address
  # Node mode: the node daemon serving the pod, by the address containerd keeps for the pod's
  # task and the pid file beside that socket (its command line names the first pod it served).
  if [[ ${HIPPO_CRI_GROUPING:-pod} == node ]]; then
    address=$(cat "$CRI_DIR/ctrd/state/io.containerd.runtime.v2.task/k8s.io/$1/address" 2>/dev/null) || return 0
    address=${address#unix://}
    [[ ! -e ${address%.sock}.pid ]] || cat "${address%.sock}.pid"
    return 0
  fi
  for d in /proc/[0-9]*; do
    cmdline=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline") || continue
    [[ $cmdline == *containerd-shim-*" -address $CRI_DIR/ctrd/containerd.sock "*"-id $1 "* ]] || continue
    grep -q '^State:.*Z' "$d/status" 2>/dev/null || echo "${d#/proc/}"
  done
}

# oom_hog_status POD_ID POD_NAME: a container limited to 32 MiB that allocates without end
# (this machine has no swap: the limit alone makes the kernel kill); waits for its exit and
# prints its ContainerStatus.
oom_hog_status() {
  local cfg c
  cfg=$(container_config hog sh -c 'tail /dev/zero' | jq -c '.linux.resources.memory_limit_in_bytes = 33554432')
  c=$(create_container "$1" "$2" "$cfg")
  cri StartContainer "{\"container_id\":\"$c\"}" >/dev/null
  eventually container_state_is "$c" CONTAINER_EXITED
  container_status "$c"
}

# The IPv4 address of eth0 as container ID sees it.
pod_ip_seen_by() {
  cri exec-sync "$1" -- ip -o -4 addr show dev eth0 | awk '{print $4}' | cut -d/ -f1
}

# The pod's network namespace path, from CRI's verbose status.
pod_netns() {
  pod_status "$1" | jq -r '.info.info | fromjson | .runtimeSpec.linux.namespaces[] | select(.type == "network") | .path'
}

# The cgroup dir of a container in the memory hierarchy (cgroupfs layout: parent/<id>).
container_cgroup() {
  echo "/sys/fs/cgroup/memory$(pod_cgroup_parent "$1")/$2"
}

# remove_pod ID NAME: stop and remove, then prove nothing is left: no shim, no mount naming the
# pod or its containers, no container cgroup, no network namespace, no hippo state.
remove_pod() {
  local id=$1 name=$2 netns ctrs c
  netns=$(pod_netns "$id" 2>/dev/null || true)
  ctrs=$(cri ListContainers "{\"filter\":{\"pod_sandbox_id\":\"$id\"}}" | jq -r '.containers[].id')
  cri StopPodSandbox "{\"pod_sandbox_id\":\"$id\"}" >/dev/null
  cri RemovePodSandbox "{\"pod_sandbox_id\":\"$id\"}" >/dev/null
  eventually no_shim_of_pod "$id"
  for c in $id $ctrs; do
    if grep -q "$c" /proc/self/mountinfo; then
      echo "leak: mount of $c: $(grep "$c" /proc/self/mountinfo)" >&2
      return 1
    fi
    if [ -e "$CRI_DIR/hippo-state/containerd/k8s.io/$c" ]; then
      echo "leak: hippo state of $c" >&2
      return 1
    fi
  done
  local parent dirs
  parent=$(pod_cgroup_parent "$name")
  # (v1 hierarchies, the hybrid's unified one, or a pure v2 root)
  dirs=$(find /sys/fs/cgroup/*"$parent" /sys/fs/cgroup"$parent" -mindepth 1 -type d 2>/dev/null || true)
  if [ -n "$dirs" ]; then
    echo "leak: cgroups $dirs" >&2
    return 1
  fi
  if [ -n "$netns" ] && [ -e "$netns" ]; then
    echo "leak: network namespace $netns" >&2
    return 1
  fi
  # the pod's own parent cgroup is the kubelet's to remove; here, the test's
  find /sys/fs/cgroup/*"$parent" /sys/fs/cgroup"$parent" -depth -type d -exec rmdir {} + 2>/dev/null || true
  sed -i "/^$id /d" "$BATS_TEST_TMPDIR/pods"
}

no_shim_of_pod() {
  [ -z "$(shims_of_pod "$1")" ]
}

# teardown: every pod the test made is removed and proven gone.
cri_teardown() {
  local id name rc=0
  [ -f "$BATS_TEST_TMPDIR/pods" ] || return 0
  while read -r id name; do
    remove_pod "$id" "$name" || rc=1
  done < <(cat "$BATS_TEST_TMPDIR/pods")
  return "$rc"
}
