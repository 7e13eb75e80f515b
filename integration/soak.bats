#!/usr/bin/env bats
# The churn soak's short version (hack/soak.sh --short, docs/reliability.md): 30 container
# lifecycles through a private containerd (plain, terminal, binary:// logger and OOM-killed, in
# the grouped shim and in shims of their own) leave nothing behind; and the soak's accounting
# fails when something does leak (--inject-leak), so a PASS means something.

load helpers

setup_file() {
  if [[ ! -f ${HIPPO_TEST_IMAGES:-/nonexistent}/busybox-oci.tar ]]; then
    "$REPO_ROOT/hack/make-test-images.sh" "$BATS_FILE_TMPDIR/images" >/dev/null
    export HIPPO_TEST_IMAGES=$BATS_FILE_TMPDIR/images
  fi
}

# soak ARGS...: hack/soak.sh against this build, its table in $BATS_TEST_TMPDIR/report.md.
soak() {
  run env SOAK_SETTLE_SECONDS="${SETTLE:-15}" "$REPO_ROOT/hack/soak.sh" "$HIPPO_BUILD" \
    --report "$BATS_TEST_TMPDIR/report.md" "$@"
  echo "$output"
}

# The run removed its namespace's cgroups, mounts and directory, whatever it found.
assert_soak_cleaned_up() {
  local ns dir
  ns=$(sed -n 's/^- containerd namespace `\([^`]*\)`.*/\1/p' "$BATS_TEST_TMPDIR/report.md")
  dir=$(sed -n 's/.*state under `\([^`]*\)`.*/\1/p' "$BATS_TEST_TMPDIR/report.md")
  [ -n "$ns" ] && [ -n "$dir" ]
  ! ls -d /sys/fs/cgroup/*/"$ns" 2>/dev/null
  ! grep -e "$dir" -e "/$ns/" /proc/self/mountinfo
  [ ! -e "$dir" ]
  ! pgrep -f "containerd-shim-hippo-v2 -namespace $ns "
}

@test "short soak: 30 lifecycles of every kind, grouped and separate shims, leak nothing" {
  soak --short
  [ "$status" -eq 0 ]
  grep -qF 'Verdict: **PASS**' "$BATS_TEST_TMPDIR/report.md"
  assert_soak_cleaned_up
}

@test "the soak fails when a process is left in a cgroup of its namespace, or a mount in its dir" {
  SETTLE=2 soak --iterations 2 --inject-leak process,mount
  [ "$status" -eq 1 ]
  local r=$BATS_TEST_TMPDIR/report.md
  grep -qF 'Verdict: **FAIL**' "$r"
  grep -qE '^- container_procs: 1 before the loop, 2 after' "$r"
  grep -qE '^- cgroups: [0-9]+ left after the last container' "$r"
  grep -qE '^- mounts: 1 before the loop, 2 after' "$r"
  grep -qE '^- mounts: 1 left after the last container' "$r"
  assert_soak_cleaned_up
}
