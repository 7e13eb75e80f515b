#!/usr/bin/env bats
# CRI with the systemd cgroup driver: the whole CRI environment (hack/cri-env.sh with
# HIPPO_CRI_DRIVER=systemd) runs inside a real systemd (hack/systemd-sandbox.sh), pods get
# kubelet-style slices, containerd's CRI passes slice:cri-containerd:<id> cgroup paths, hippo
# makes a transient scope per container. Our CRI client talks to it from outside through the
# socket under /var/tmp, which both sides see.

load systemd_helpers
load cri_helpers

setup_file() {
  sd_setup_file cri
  export HIPPO_CRI_DRIVER=systemd
  cri_env_up "$SD_DIR/cri" sd
}

teardown_file() {
  cri_env_down cri-systemd sd
  sd_teardown_file
}

setup() {
  N=$(test_name)
}

teardown() {
  local id name
  [ -f "$BATS_TEST_TMPDIR/pods" ] || return 0
  while read -r id name; do
    cri StopPodSandbox "{\"pod_sandbox_id\":\"$id\"}" >/dev/null || true
    cri RemovePodSandbox "{\"pod_sandbox_id\":\"$id\"}" >/dev/null || true
    eventually no_shim_of_pod "$id"
  done <"$BATS_TEST_TMPDIR/pods"
}

# The container's scope and its cgroup below the pod's slice (paths as seen inside).
scope_of() { echo "cri-containerd-$1.scope"; }
slice_path() {  # "a-b.slice" -> /a.slice/a-b.slice
  local slice=$1 prefix=${1%.slice}
  echo "/${prefix%%-*}.slice/$slice"
}
cgroup_of() { echo "$(slice_path "$(pod_cgroup_parent "$1")")/$(scope_of "$2")"; }

@test "cri systemd: each container is a transient scope in its pod's slice, limits in the unit and the file" {
  pod=$(run_pod "$N")
  cfg=$(container_config c1 sleep 1000 | jq -c '.linux.resources.memory_limit_in_bytes = 67108864')
  c=$(create_container "$pod" "$N" "$cfg")
  cri StartContainer "{\"container_id\":\"$c\"}" >/dev/null
  unit=$(scope_of "$c")
  [ "$(unit_prop "$unit" ActiveState)" = active ]
  [ "$(unit_prop "$unit" Slice)" = "$(pod_cgroup_parent "$N")" ]
  [ "$(unit_prop "$unit" ControlGroup)" = "$(cgroup_of "$N" "$c")" ]
  [ "$(unit_prop "$unit" "$(prop_name memory)")" = 67108864 ]
  [ "$(cg_value memory "$(cgroup_of "$N" "$c")")" = 67108864 ]
  [ "$(shims_of_pod "$pod" | wc -l)" -eq 1 ]
  cri StopPodSandbox "{\"pod_sandbox_id\":\"$pod\"}" >/dev/null
  cri RemovePodSandbox "{\"pod_sandbox_id\":\"$pod\"}" >/dev/null
  eventually assert_no_unit "$unit"
  eventually assert_no_unit "$(scope_of "$pod")"
  [ -z "$(cg_dirs "$(cgroup_of "$N" "$c")")" ]
}

@test "cri systemd: UpdateContainerResources changes the unit and the cgroup in place" {
  pod=$(run_pod "$N")
  c=$(start_container "$pod" "$N" c1 sleep 1000)
  unit=$(scope_of "$c")
  cri UpdateContainerResources "{\"container_id\":\"$c\",\"linux\":{\"memory_limit_in_bytes\":134217728,\"cpu_quota\":50000,\"cpu_period\":100000}}" >/dev/null
  [ "$(unit_prop "$unit" "$(prop_name memory)")" = 134217728 ]
  [ "$(cg_value memory "$(cgroup_of "$N" "$c")")" = 134217728 ]
  [ "$(cg_value quota "$(cgroup_of "$N" "$c")")" = 50000 ]
  [ "$(unit_prop "$unit" CPUQuotaPerSecUSec)" = 500ms ]
  [ "$(container_status "$c" | jq -r .status.state)" = CONTAINER_RUNNING ]
}

@test "cri systemd: a container over its memory limit exits 137 with reason OOMKilled" {
  pod=$(run_pod "$N")
  st=$(oom_hog_status "$pod" "$N")
  [ "$(jq -r .status.exit_code <<<"$st")" -eq 137 ]
  [ "$(jq -r .status.reason <<<"$st")" = OOMKilled ]
}

@test "cri systemd: ContainerStats come from the scope's cgroup; ExecSync runs in it" {
  pod=$(run_pod "$N")
  c=$(start_container "$pod" "$N" c1 sleep 1000)
  # On v1 the exec's cgroup paths name the scope; on v2 CRI gives the container a cgroup
  # namespace rooted at its scope, so the exec must be at that root ("0::/", not "/../x").
  cg=$(cri exec-sync "$c" -- cat /proc/self/cgroup)
  if [ "$SD_V2" = 1 ] && [ "$cg" = "0::/" ]; then :; else
    [ "$(grep -c "$(scope_of "$c")" <<<"$cg")" -gt 0 ]
  fi
  st=$(cri ContainerStats "{\"container_id\":\"$c\"}")
  [ "$(jq -r '.stats.memory.usage_bytes.value' <<<"$st")" -gt 0 ]
  [ "$(jq -r '.stats.cpu.usage_core_nano_seconds.value' <<<"$st")" -gt 0 ]
}

@test "cri systemd: runc's handler (SystemdCgroup = true) makes the same kind of scope" {
  pod=$(run_pod "$N" runc)
  c=$(start_container "$pod" "$N" c1 sleep 1000)
  [ "$(unit_prop "$(scope_of "$c")" ActiveState)" = active ]
  [ "$(unit_prop "$(scope_of "$c")" Slice)" = "$(pod_cgroup_parent "$N")" ]
}
