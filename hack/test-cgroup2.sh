#!/usr/bin/env bash
# `make test-cgroup2`: hippo's cgroup Bats suites on a pure cgroup v2 host, which this CI machine
# (v1 hybrid) cannot be: a QEMU VM booted with cgroup_no_v1=all (hack/cg2vm-*.sh). The worktree
# is shared into the guest, so the suites run the binaries just built here. Prints one line
#   cgroup2: N passed, M failed
# and exits non-zero if any test failed or the VM gave no result.
#
# Usage: hack/test-cgroup2.sh [BUILD_DIR]             (host; builds the image if missing)
#        hack/test-cgroup2.sh --in-vm BUILD_DIR       (what runs inside the guest)
# Env:   CG2VM_DIR, CG2VM_TIMEOUT (default here 1500 s: the lane takes ~13 min alone; see
#        hack/cg2vm-run.sh)
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

# The suites and, for the host suites, which of their tests touch cgroups. Emulation makes every
# test 5-10x slower, so only those run here; integration/cgroup2.bats is v2 specific and whole.
suites=(
  "integration/cgroup2.bats|"
  "integration/cli/container.bats|memory|pids|cpu|pause|events|cgroup|device"
  "integration/cli/lifecycle.bats|create, start|kill --all|delete --force|program missing|failing mount|list and ps|inner cgroups"
  # The systemd driver on v2, against the VM's own systemd (HIPPO_SD_HOST=1), and the shim with it.
  "integration/systemd.bats|starts|64 MiB|update --memory|daemon-reload|cpu |pids limit|blkio weight|cpuset|annotations become|OOM|pause|delete|stats under"
  "integration/systemd-shim.bats|"
  # Device rules changed in place: v2's eBPF program replaced, systemd's DeviceAllow in step.
  "integration/cli/device-update.bats|"
  # CDI devices: the eBPF program lets in exactly the requested nodes.
  "integration/cli/cdi.bats|"
  "integration/systemd-device-update.bats|"
  # CRI through containerd with both drivers: OOMKilled and in-place updates on v2.
  "integration/cri-systemd.bats|"
  "integration/cri.bats|exactly one hippo shim|ExecSync returns|OOMKilled"
  # Nesting on v2 (docs/nesting.md 3.4): the leaf L/init, controllers for inner cgroups.
  "integration/nesting-v2.bats|"
  # Attacks whose defence involves cgroups (v2's eBPF device program, v2 cleanup) or the exec path.
  "integration/security-attacks.bats|CVE-2019-5736 create|CVE-2019-5736 exec|default devices|SIGKILLed|did not finish|corrupt state"
)

in_vm() {
  local build=$1 log=$1/test-logs/cgroup2.log entry file filter
  mkdir -p "$build/test-logs"
  : >"$log"
  if [[ $(stat -fc %T /sys/fs/cgroup) != cgroup2fs ]]; then
    echo "not ok 1 /sys/fs/cgroup is not a cgroup2 mount in the VM" | tee -a "$log"
    return 1
  fi
  # hippo runs from the guest's own disk: executed from the 9p share, every command would page
  # the binary in over 9p again (the share is not cached), which under emulation costs seconds.
  mkdir -p /tmp/hippo-bin
  cp "$build/bin/hippo" /tmp/hippo-bin/hippo
  cp "$build/bin/containerd-shim-hippo-v2" /tmp/hippo-bin/
  export HIPPO_BUILD=$build HIPPO_BIN=/tmp/hippo-bin/hippo HIPPO_SHIM=/tmp/hippo-bin/containerd-shim-hippo-v2
  export HIPPO_SD_HOST=1
  # one busybox image for all files (the guest's /tmp is its own disk, gone with the VM)
  export HIPPO_TEST_IMAGES=/tmp/hippo-test-images
  if ! "$root/hack/make-test-images.sh" "$HIPPO_TEST_IMAGES" >/dev/null; then
    echo "not ok 1 hack/make-test-images.sh failed in the VM" | tee -a "$log"
    return 1
  fi
  local status=0
  for entry in "${suites[@]}"; do
    file=${entry%%|*} filter=${entry#*|}
    echo "# $file" | tee -a "$log"
    bats --tap --timing ${filter:+--filter "$filter"} "$root/$file" 2>&1 | tee -a "$log"
    [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
  done
  return $status
}

if [[ ${1:-} == --in-vm ]]; then
  in_vm "$(cd "$2" && pwd)"
  exit
fi

build=$(cd "${1:-$root/build}" && pwd)
[[ -x $build/bin/hippo ]] || { echo "test-cgroup2: $build/bin/hippo missing (make build)" >&2; exit 2; }
log=$build/test-logs/cgroup2.log
mkdir -p "$build/test-logs"
rm -f "$log"
started=$SECONDS
"$root/hack/cg2vm-image.sh" || { echo "cgroup2: 0 passed, 1 failed (no VM image)"; exit 1; }
# The build dir must be inside the shared tree for the guest to see it at the same path.
[[ $build == "$root"/* ]] || { echo "test-cgroup2: $build is not under $root" >&2; exit 2; }
"$root/hack/cg2vm-run.sh" -t "${CG2VM_TIMEOUT:-1500}" "$root" "hack/test-cgroup2.sh --in-vm '$build'"
rc=$?

passed=0 failed=0 skipped=0
if [[ -f $log ]]; then
  skipped=$(grep -cE '^ok [0-9]+ .*# skip' "$log")
  passed=$(($(grep -cE '^ok [0-9]+' "$log") - skipped))
  failed=$(grep -cE '^not ok [0-9]+' "$log")
fi
# A test that cannot run in the VM is a failure, not a pass.
failed=$((failed + skipped))
[[ $rc -ne 0 && $failed -eq 0 ]] && failed=1
echo
echo "test-cgroup2: $((SECONDS - started)) s"
echo "cgroup2: $passed passed, $failed failed"
[[ $rc -eq 0 && $failed -eq 0 ]]
