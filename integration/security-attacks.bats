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

# --- 1. the host binary is never reachable (CVE-2019-5736) ----------------------------------

# Copies of the binaries under attack: an attack that works corrupts a copy, never the build.
victim_copies() {
  VICTIM=$BATS_FILE_TMPDIR/victim
  [ -x "$VICTIM/hippo" ] && return
  mkdir -p "$VICTIM"
  cp "$HIPPO_BIN" "$VICTIM/hippo"
  cp "$HIPPO_SHIM" "$VICTIM/containerd-shim-hippo-v2"
  sha256sum "$VICTIM/hippo" "$VICTIM/containerd-shim-hippo-v2" >"$BATS_FILE_TMPDIR/victim.sha256"
}

# attack_bundle DIR ARGS...: busybox plus what the host's binaries need to run inside (their
# loader and libraries, as an attacker's image would carry them), the payload as /evil.so
# (integration/tools/exe_attack.c) and /bin/evil, a script whose interpreter is /proc/self/exe.
attack_bundle() {
  local dir=$1 lib
  shift
  busybox_bundle "$dir" "$@"
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
  local log=$1/rootfs/attack.log victim_ids
  victim_ids=$(stat -c '%d:%i' "$VICTIM/hippo" "$VICTIM/containerd-shim-hippo-v2")
  if [ -e "$log" ]; then
    # It ran: give its writer the bounded time it takes to finish, then show what it did.
    eventually grep -qE '^(wrote|write:|open for writing:)' "$log" || true
    echo "payload log:"
    cat "$log"
    local id
    for id in $victim_ids; do
      ! grep -q "^exe $id\$" "$log"
    done
    ! grep -q '^wrote' "$log"
  fi
  sha256sum --check --quiet "$BATS_FILE_TMPDIR/victim.sha256"
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
  eventually bash -c "[ \"\$(HIPPO_CONFIG=/dev/null $VICTIM/hippo --root $BATS_TEST_TMPDIR/state state $id | jq -r .status)\" = stopped ]"
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
  [ "$status" -eq 126 ]
  [[ $output == *"exec trampoline runs only as hippo starts"* ]]
  # The exec's payload, had it run, keeps the container alive for its writer: give it that time.
  sleep 1
  assert_binary_unreached "$b"
  hippo kill "$id" KILL
  hippo delete -f "$id"
}

# The shim's half: a private containerd whose PATH holds the victim copy of the shim.
shim_up() {
  victim_copies
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
  [ "$status" -eq 126 ]
  [[ $output == *"exec trampoline runs only as hippo starts"* ]]
  assert_binary_unreached "$b"

  # Exec: ctr's exec takes the container's process (and so its LD_PRELOAD) with new args.
  ctr -n "$NS" run -d --env LD_PRELOAD=/evil.so --runtime io.containerd.hippo.v2 \
    --fifo-dir "$BATS_TEST_TMPDIR/fifo" --rootfs "$b/rootfs" "$id-2" sleep 60
  run ctr -n "$NS" task exec --exec-id evil --fifo-dir "$BATS_TEST_TMPDIR/fifo" "$id-2" /bin/evil
  echo "exec: status $status: $output"
  [ "$status" -eq 126 ]
  sleep 1
  assert_binary_unreached "$b"
  ctr_remove_all "$NS"
}


# --- 2, 3, 5. ids, corrupt or partial state, private state ----------------------------------

# The state root is $BATS_TEST_TMPDIR/state (helpers' `hippo`); a canary directory sits next to
# it, so an id that walked out of the root (`..`, `../canary`) would reach it.
st_canary() {
  mkdir -p "$BATS_TEST_TMPDIR/canary/inner"
  echo alive >"$BATS_TEST_TMPDIR/canary/inner/file"
}

st_canary_alive() {
  [ "$(cat "$BATS_TEST_TMPDIR/canary/inner/file" 2>/dev/null)" = alive ] || {
    echo "the canary next to the state root is gone" >&2
    return 1
  }
}

# The bad ids of issue 12: a path, the root itself, its parent, a way out, empty, too long.
st_bad_ids() {
  printf '%s\n' . .. ../canary a/b "" "$(head -c 1024 /dev/zero | tr '\0' x)"
}

# Live (not zombie) processes whose cgroup, in any hierarchy, is $1.
st_processes_in_cgroup() {
  local cg=$1 f pid
  for f in $(grep -lE ":${cg}\$" /proc/[0-9]*/cgroup 2>/dev/null); do
    pid=${f#/proc/}
    pid=${pid%/cgroup}
    grep -qE '^State:[[:space:]]+[^Z]' "/proc/$pid/status" 2>/dev/null && echo "$pid"
  done
  return 0
}

# Processes holding a file under directory $1 open (an init blocked on its exec.fifo does).
st_processes_holding() {
  find /proc/[0-9]*/fd -lname "$1/*" 2>/dev/null | cut -d/ -f3 | sort -u
  return 0
}

# Nothing of container $1 (cgroupsPath $2, bundle $3) is left: state dir, live process in its
# cgroup, process holding its state dir's files, cgroup directory in any hierarchy, mount.
st_nothing_left() {
  local id=$1 cg=$2 bundle=$3 h left=0
  if [ -e "$BATS_TEST_TMPDIR/state/$id" ]; then
    echo "left: state dir of $id: $(ls -la "$BATS_TEST_TMPDIR/state/$id")" >&2
    left=1
  fi
  if [ -n "$(st_processes_in_cgroup "$cg")" ]; then
    echo "left: processes in cgroup $cg: $(st_processes_in_cgroup "$cg")" >&2
    left=1
  fi
  if [ -n "$(st_processes_holding "$BATS_TEST_TMPDIR/state/$id")" ]; then
    echo "left: processes holding $id's exec.fifo: $(st_processes_holding "$BATS_TEST_TMPDIR/state/$id")" >&2
    left=1
  fi
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    if [ -d "$h${cg#/}" ]; then
      echo "left: cgroup $h${cg#/}" >&2
      left=1
    fi
  done
  if grep -qF -e "$bundle/" -e "$BATS_TEST_TMPDIR/state/$id" /proc/self/mountinfo; then
    echo "left: mounts: $(grep -F -e "$bundle/" -e "$BATS_TEST_TMPDIR/state/$id" /proc/self/mountinfo)" >&2
    left=1
  fi
  return $left
}

@test "every command refuses a bad id before touching the state root (runc's message)" {
  st_canary
  B=$BATS_TEST_TMPDIR/bundle
  busybox_bundle "$B" sleep 100
  # A live container in the root: `.` must not reach it either.
  OTHER=$(test_name other)
  hippo_create -b "$B" "$OTHER"
  local id cmd
  while IFS= read -r id; do
    for cmd in "create -b $B" "run -b $B" "run -d -b $B" start state "kill" "kill --all" \
      delete "delete -f" pause resume ps "update --memory 100000000" "events --stats"; do
      # shellcheck disable=SC2086
      run hippo $cmd "$id"
      [ "$status" -eq 1 ] || { echo "hippo $cmd '$id': status $status: $output" >&2; false; }
      [[ $output == "hippo: invalid container ID format: \""* ]] ||
        { echo "hippo $cmd '$id': $output" >&2; false; }
    done
    run hippo exec "$id" true
    [ "$status" -eq 1 ]
    [[ $output == "hippo: invalid container ID format: \""* ]]
  done < <(st_bad_ids)
  st_canary_alive
  [ "$(hippo state "$OTHER" | jq -r .status)" = created ]
  [ "$(ls "$BATS_TEST_TMPDIR/state")" = "$OTHER" ]
  hippo delete -f "$OTHER"
}

@test "delete never removes what it did not prove to be a container directory" {
  st_canary
  mkdir -p "$BATS_TEST_TMPDIR/state"
  # A symlink planted in the root is not followed.
  ln -s "$BATS_TEST_TMPDIR/canary" "$BATS_TEST_TMPDIR/state/planted"
  run hippo delete -f planted
  [ "$status" -eq 0 ]
  run hippo delete planted
  [ "$status" -eq 1 ]
  [ "$output" = 'hippo: container "planted" does not exist' ]
  # A directory holding what hippo never writes is left whole.
  mkdir "$BATS_TEST_TMPDIR/state/foreign"
  echo precious >"$BATS_TEST_TMPDIR/state/foreign/data"
  run hippo delete -f foreign
  [ "$status" -eq 1 ]
  [[ $output == *"$BATS_TEST_TMPDIR/state/foreign holds \"data\", which hippo does not write"* ]]
  [ "$(cat "$BATS_TEST_TMPDIR/state/foreign/data")" = precious ]
  st_canary_alive
}

@test "container state is private: root 0700, container dir 0700, state files 0600" {
  B=$BATS_TEST_TMPDIR/bundle
  busybox_bundle "$B" sleep 100
  ID=$(test_name)
  (umask 000 && hippo_create -b "$B" "$ID")
  [ "$(stat -c %a "$BATS_TEST_TMPDIR/state")" = 700 ]
  [ "$(stat -c %a "$BATS_TEST_TMPDIR/state/$ID")" = 700 ]
  [ "$(stat -c %a "$BATS_TEST_TMPDIR/state/$ID/state.json")" = 600 ]
  [ "$(stat -c %a "$BATS_TEST_TMPDIR/state/$ID/cleanup.json")" = 600 ]
  # Another user cannot read the annotations.
  run setpriv --reuid=65534 --regid=65534 --clear-groups cat "$BATS_TEST_TMPDIR/state/$ID/state.json"
  [ "$status" -ne 0 ]
  hippo start "$ID"
  wait_status "$ID" running
  [ "$(stat -c %a "$BATS_TEST_TMPDIR/state/$ID/state.json")" = 600 ]
  hippo delete -f "$ID"
}

@test "a corrupt state.json is listed, kept by delete, and cleaned up by delete -f" {
  B=$BATS_TEST_TMPDIR/bundle
  busybox_bundle "$B" sleep 100
  ID=$(test_name)
  CG=$(cgroup_path_of "$B")
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  wait_status "$ID" running
  PID=$(hippo state "$ID" | jq -r .pid)
  echo '{"id": "'"$ID"'", "pid": ' >"$BATS_TEST_TMPDIR/state/$ID/state.json"

  hippo list >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
  grep -E "^$ID +[0-9]+ +corrupt " "$BATS_TEST_TMPDIR/out"
  grep -F "level=warning" "$BATS_TEST_TMPDIR/err" | grep -F "container \\\"$ID\\\"" | grep -F state.json
  [ "$(hippo list --format json 2>/dev/null | jq -r --arg id "$ID" '.[] | select(.id == $id) | .status')" = corrupt ]
  [ "$(hippo state "$ID" 2>/dev/null | jq -r .status)" = corrupt ]
  run hippo kill "$ID" KILL
  [ "$status" -eq 1 ]
  [[ $output == *"state.json"* ]]

  run hippo delete "$ID"
  [ "$status" -eq 1 ]
  [[ $output == "hippo: container \"$ID\": "*"state.json"*": kept; \`hippo delete -f $ID\` removes what it left" ]]
  [ -d "$BATS_TEST_TMPDIR/state/$ID" ]
  kill -0 "$PID"

  hippo delete -f "$ID"
  ! kill -0 "$PID" 2>/dev/null || [ "$(sed -n 's/^State:\t\(.\).*/\1/p' "/proc/$PID/status")" = Z ]
  st_nothing_left "$ID" "$CG" "$B"
}

@test "a create that did not finish (no init recorded) is reported and delete -f ends it by its cgroup" {
  B=$BATS_TEST_TMPDIR/bundle
  busybox_bundle "$B" sleep 100
  ID=$(test_name)
  CG=$(cgroup_path_of "$B")
  hippo_create -b "$B" "$ID"
  PID=$(hippo state "$ID" | jq -r .pid)
  # What a create killed between its first record and the init's pid leaves: an init in the
  # cgroup, blocked on exec.fifo, that no record names.
  for f in state.json cleanup.json; do
    jq -c '.pid = 0 | .pid_start = 0' "$BATS_TEST_TMPDIR/state/$ID/$f" >"$BATS_TEST_TMPDIR/f"
    cat "$BATS_TEST_TMPDIR/f" >"$BATS_TEST_TMPDIR/state/$ID/$f"
  done
  run hippo state "$ID"
  [ "$status" -eq 0 ]
  [[ $output == *"create did not finish"* ]]
  [ "$(hippo state "$ID" 2>/dev/null | jq -r .status)" = incomplete ]
  hippo list 2>/dev/null | grep -E "^$ID +0 +incomplete "
  run hippo delete "$ID"
  [ "$status" -eq 1 ]
  [[ $output == *"its create did not finish"*": kept;"* ]]
  kill -0 "$PID"
  hippo delete -f "$ID"
  st_nothing_left "$ID" "$CG" "$B"
}

@test "hippo create SIGKILLed at any point leaves what delete -f cleans completely" {
  B=$BATS_TEST_TMPDIR/bundle
  busybox_bundle "$B" sleep 100
  local i delay pid partial=0 none=0 whole=0
  for i in $(seq 0 19); do
    ID=$(test_name "k$i")
    CG=/$ID
    edit_config "$B" '.linux.cgroupsPath = $cg' --arg cg "$CG"
    delay=$(printf '0.%03d' $((i * 3 / 2)))
    HIPPO_CONFIG=/dev/null "$HIPPO_BIN" --root "$BATS_TEST_TMPDIR/state" create -b "$B" "$ID" \
      </dev/null >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" || true
    if [ -d "$BATS_TEST_TMPDIR/state/$ID" ]; then
      # Whatever is left is a container `state` reports (never "does not exist").
      run hippo state "$ID"
      [ "$status" -eq 0 ] || { echo "state after kill at ${delay}s: $output" >&2; false; }
      case $(echo "$output" | grep -v '^time=' | jq -r .status) in
        incomplete) partial=$((partial + 1)) ;;
        *) whole=$((whole + 1)) ;;
      esac
    else
      none=$((none + 1))
    fi
    run hippo delete -f "$ID"
    [ "$status" -eq 0 ] || { echo "delete -f after kill at ${delay}s: $output" >&2; false; }
    st_nothing_left "$ID" "$CG" "$B" || { echo "after kill at ${delay}s" >&2; false; }
  done
  echo "# killed before the state dir: $none, with an incomplete record: $partial, later: $whole" >&3
}

@test "shim start and delete refuse a bad id or namespace before touching anything" {
  st_canary
  local bundle=$BATS_TEST_TMPDIR/bundle id
  busybox_bundle "$bundle"
  # The shim's state root for namespace "ns": the canary sits next to it, so `-id ..`,
  # `-id ../canary` or `-namespace ..` would reach it.
  local root=$BATS_TEST_TMPDIR/state
  mkdir -p "$root"
  while IFS= read -r id; do
    for action in start delete; do
      echo "$root" >"$bundle/hippo-state-root"
      run bash -c 'cd "$1" && exec "$HIPPO_SHIM" -namespace ns -address /nonexistent.sock -id "$2" "$3" </dev/null' \
        _ "$bundle" "$id" "$action"
      [ "$status" -eq 1 ] || { echo "$action -id '$id': status $status: $output" >&2; false; }
      [[ $output == "containerd-shim-hippo-v2: invalid container ID format: \""* ]] ||
        { echo "$action -id '$id': $output" >&2; false; }
    done
  done < <(st_bad_ids)
  for ns in .. . a/b; do
    run bash -c 'cd "$1" && exec "$HIPPO_SHIM" -namespace "$2" -address /nonexistent.sock -id ok delete </dev/null' \
      _ "$bundle" "$ns"
    [ "$status" -eq 1 ]
    [ "$output" = "containerd-shim-hippo-v2: invalid namespace \"$ns\"" ]
  done
  [ ! -e "$bundle/address" ]
  [ -d "$root" ]
  st_canary_alive
}

# The shim's own checks run against a private containerd started for this test alone (stopped
# in the same test, so no other section's setup_file/teardown_file needs to know of it).
st_shim_private_state() {
  local ns=$1 id=$2 root=$3 bundle
  ctr -n "$ns" images import "$BATS_FILE_TMPDIR/images/busybox-oci.tar" >/dev/null || return 1
  ctr -n "$ns" run -d --runtime io.containerd.hippo.v2 docker.io/hippo/busybox:latest "$id" \
    sleep 100 >/dev/null || return 1
  bundle=$CTRD_DIR/state/io.containerd.runtime.v2.task/$ns/$id
  local want
  for want in "$root 700" "$root/containerd 700" "$root/containerd/$ns 700" \
    "$root/containerd/$ns/$id 700" "$root/containerd/$ns/$id/state.json 600" \
    "$root/containerd/$ns/$id/cleanup.json 600" "$bundle/hippo-state-root 600" "$bundle/address 600"; do
    [ "$(stat -c '%n %a' "${want% *}")" = "$want" ] || { echo "mode: $(stat -c '%n %a' "${want% *}"), want $want" >&2; return 1; }
  done
  ctr -n "$ns" task kill -s SIGKILL "$id" >/dev/null || return 1
  ctr -n "$ns" task delete "$id" >/dev/null 2>&1 || ctr -n "$ns" task delete -f "$id" >/dev/null || return 1
  ctr -n "$ns" containers delete "$id" >/dev/null || return 1
  [ ! -e "$root/containerd/$ns/$id" ] || { echo "left: $root/containerd/$ns/$id" >&2; return 1; }
}

@test "shim state is private: its state root 0700, state files 0600, bundle records 0600" {
  local ns=hippo-sec-state-$$ id=c$BATS_TEST_NUMBER
  local root=$BATS_TEST_TMPDIR/shim-state
  export CTRD_DIR=$BATS_TEST_TMPDIR/ctrd
  # A fresh state root (the shim inherits containerd's environment): modes are hippo's doing.
  printf 'state_root: %s\n' "$root" >"$BATS_TEST_TMPDIR/hippo.yaml"
  HIPPO_CONFIG=$BATS_TEST_TMPDIR/hippo.yaml PATH=$HIPPO_BUILD/bin:$PATH \
    "$REPO_ROOT/hack/private-containerd.sh" start "$CTRD_DIR" >/dev/null
  export CONTAINERD_ADDRESS=$CTRD_DIR/containerd.sock
  run st_shim_private_state "$ns" "$id" "$root"
  ctr_remove_all "$ns"
  "$REPO_ROOT/hack/private-containerd.sh" stop "$CTRD_DIR" >/dev/null || true
  rmdir /sys/fs/cgroup/*/"$ns" 2>/dev/null || true
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
}

# --- 4, 6, 7, 8. default devices, bounded JSON, proc/sys targets, clear errors --------------

