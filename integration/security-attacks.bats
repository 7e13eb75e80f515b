#!/usr/bin/env bats
# Attacks on hippo, tried as a container (or a careless caller) would, each of which runc 1.1.5
# withstands on this machine: hippo must hold on every one, through the CLI and through the
# shim. docs/security.md holds the threat model. Every test fails without the fix it guards.

load helpers
source "$REPO_ROOT/hack/lib-ctr.sh"

setup_file() {
  build_busybox_rootfs
  # The shim's tests start this private containerd on first use (shim_up).
  export NS=hippo-attack-$$ CTRD_DIR=$BATS_FILE_TMPDIR/ctrd
}

teardown_file() {
  if [ -S "$CTRD_DIR/containerd.sock" ]; then
    CONTAINERD_ADDRESS=$CTRD_DIR/containerd.sock ctr_remove_all "$NS"
    "$REPO_ROOT/hack/private-containerd.sh" stop "$CTRD_DIR" >/dev/null || true
  fi
}

# Whatever a test left running (a failed assertion skips its own cleanup): its containers,
# through the CLI's state root and the shim's namespace.
teardown() {
  local id
  for id in $(hippo list -q 2>/dev/null); do
    hippo delete -f "$id" >/dev/null 2>&1 || true
  done
  if [ -S "$CTRD_DIR/containerd.sock" ]; then
    CONTAINERD_ADDRESS=$CTRD_DIR/containerd.sock ctr_remove_all "$NS"
  fi
}

# --- 1. the host binary is never reachable (CVE-2019-5736) ----------------------------------

# Copies of the binaries under attack, one set per test: an attack that works corrupts a copy,
# never the build, and never another test's copy.
victim_copies() {
  VICTIM=$BATS_TEST_TMPDIR/victim
  mkdir -p "$VICTIM"
  cp "$HIPPO_BIN" "$VICTIM/hippo"
  cp "$HIPPO_SHIM" "$VICTIM/containerd-shim-hippo-v2"
  sha256sum "$VICTIM/hippo" "$VICTIM/containerd-shim-hippo-v2" >"$BATS_TEST_TMPDIR/victim.sha256"
}

# attack_bundle DIR ARGS...: busybox plus what the host's binaries need to run inside (their
# loader and libraries, as an attacker's image would carry them), the payload as /evil.so
# (integration/tools/exe_attack.c) and /bin/evil, a script whose interpreter is /proc/self/exe.
attack_bundle() {
  local dir=$1 lib
  shift
  busybox_bundle "$dir" "$@"
  # Writable only for the payload's log: the attack itself works on a read-only rootfs too.
  edit_config "$dir" '.root.readonly = false'
  for lib in $( (ldd "$HIPPO_BIN"; ldd "$HIPPO_SHIM") | grep -oE '/[^ ]+' | sort -u); do
    mkdir -p "$dir/rootfs$(dirname "$lib")"
    cp -L "$lib" "$dir/rootfs$lib"
  done
  cp "$HIPPO_BUILD/tests/exe-attack.so" "$dir/rootfs/evil.so"
  printf '#!/proc/self/exe\n' >"$dir/rootfs/bin/evil"
  chmod 755 "$dir/rootfs/bin/evil"
}

# The payload either never ran or ran in something other than the victim binary; the victim
# binaries are byte for byte what they were.
assert_binary_unreached() {
  local log=$1/rootfs/attack.log id
  if [ -e "$log" ]; then
    # It ran: give its writer the bounded time it takes to finish, then show what it did.
    eventually grep -qE '^(wrote|write:|open for writing:)' "$log" || true
    echo "payload log:"
    cat "$log"
    for id in $(stat -c '%d:%i' "$VICTIM/hippo" "$VICTIM/containerd-shim-hippo-v2"); do
      if grep -q "^exe $id\$" "$log"; then
        echo "the payload ran inside the victim binary ($id)"
        return 1
      fi
    done
    if grep -q '^wrote' "$log"; then return 1; fi
  fi
  sha256sum --check --quiet "$BATS_TEST_TMPDIR/victim.sha256"
}

@test "CVE-2019-5736 create/start: a #!/proc/self/exe entrypoint with LD_PRELOAD cannot reach hippo's binary" {
  victim_copies
  local b=$BATS_TEST_TMPDIR/b id
  id=$(test_name)
  attack_bundle "$b" /bin/evil
  edit_config "$b" '.process.env += ["LD_PRELOAD=/evil.so"]'
  HIPPO_BIN=$VICTIM/hippo hippo create --bundle "$b" "$id" 2>"$BATS_TEST_TMPDIR/stderr" \
    >"$BATS_TEST_TMPDIR/stdout"
  HIPPO_BIN=$VICTIM/hippo hippo start "$id"
  # Polled with the build's hippo: a running copy of the victim would keep it busy (ETXTBSY).
  eventually bash -c "[ \"\$(HIPPO_CONFIG=/dev/null $HIPPO_BIN --root $BATS_TEST_TMPDIR/state state $id | jq -r .status)\" = stopped ]"
  hippo delete -f "$id"
  cat "$BATS_TEST_TMPDIR/stderr" "$BATS_TEST_TMPDIR/stdout"
  assert_binary_unreached "$b"
  # What stopped it: the interpreter the kernel found was the trampoline, which refuses.
  grep -q 'exec trampoline runs only as hippo starts' "$BATS_TEST_TMPDIR/stdout" "$BATS_TEST_TMPDIR/stderr"
}

@test "CVE-2019-5736 exec: hippo exec of a #!/proc/self/exe script with LD_PRELOAD cannot reach hippo's binary" {
  victim_copies
  local b=$BATS_TEST_TMPDIR/b id
  id=$(test_name)
  attack_bundle "$b" sleep 60
  hippo run -d --bundle "$b" "$id" </dev/null >/dev/null 2>&1
  run env HIPPO_BIN="$VICTIM/hippo" bash -c "HIPPO_CONFIG=/dev/null $VICTIM/hippo --root $BATS_TEST_TMPDIR/state exec --env LD_PRELOAD=/evil.so $id /bin/evil 2>&1"
  echo "exec: status $status: $output"
  assert_binary_unreached "$b"
  [ "$status" -eq 126 ]
  [[ $output == *"exec trampoline runs only as hippo starts"* ]]
  hippo kill "$id" KILL
  hippo delete -f "$id"
}

# The shim's half: a private containerd whose PATH holds the victim copy of the shim.
shim_up() {
  victim_copies
  # One test uses it: the shim containerd runs is that test's victim copy.
  if [ ! -S "$CTRD_DIR/containerd.sock" ]; then
    PATH=$VICTIM:$PATH "$REPO_ROOT/hack/private-containerd.sh" start "$CTRD_DIR" >/dev/null
  fi
  export CONTAINERD_ADDRESS=$CTRD_DIR/containerd.sock
}

@test "CVE-2019-5736 through the shim: run and exec of a #!/proc/self/exe script with LD_PRELOAD cannot reach the shim's binary" {
  shim_up
  local b=$BATS_TEST_TMPDIR/b id
  id=$(test_name)
  attack_bundle "$b" sleep 60
  # --rootfs is a switch: the first argument is then the rootfs directory, not an image.
  run ctr -n "$NS" run --rm --env LD_PRELOAD=/evil.so --runtime io.containerd.hippo.v2 \
    --fifo-dir "$BATS_TEST_TMPDIR/fifo" --rootfs "$b/rootfs" "$id" /bin/evil
  echo "run: status $status: $output"
  assert_binary_unreached "$b"
  [ "$status" -eq 126 ]
  [[ $output == *"exec trampoline runs only as hippo starts"* ]]

  # Exec: ctr's exec takes the container's process (and so its LD_PRELOAD) with new args.
  ctr -n "$NS" run -d --env LD_PRELOAD=/evil.so --runtime io.containerd.hippo.v2 \
    --fifo-dir "$BATS_TEST_TMPDIR/fifo" --rootfs "$b/rootfs" "$id-2" sleep 60
  run ctr -n "$NS" task exec --exec-id evil --fifo-dir "$BATS_TEST_TMPDIR/fifo" "$id-2" /bin/evil
  echo "exec: status $status: $output"
  assert_binary_unreached "$b"
  [ "$status" -eq 126 ]
  ctr_remove_all "$NS"
}


# --- 2, 3, 5. ids, corrupt or partial state, private state ----------------------------------



# --- 4, 6, 7, 8. default devices, bounded JSON, proc/sys targets, clear errors --------------

