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
  # containerd places ctr's containers under /<namespace>/<id>: the namespace's dir is ours.
  rmdir /sys/fs/cgroup/*/"$NS" 2>/dev/null || true
  # The shim's state root for the namespace (the default one, as runc's root, stays otherwise).
  rmdir "/run/hippo/containerd/$NS" 2>/dev/null || true
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
    [ "$status" -eq 255 ]  # exec's runtime errors are 255, as runc's
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
  # Gone, or a zombie not yet reaped; /proc/PID can vanish between the two reads (the cgroup2
  # lane once saw "can't read /proc/PID/status" here), which also means gone.
  local st
  st=$(sed -n 's/^State:\t\(.\).*/\1/p' "/proc/$PID/status" 2>/dev/null || true)
  [ -z "$st" ] || [ "$st" = Z ]
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
    "$root/containerd/$ns/$id/cleanup.json 600" "$bundle/hippo-backend 600" "$bundle/address 600"; do
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

# sec_bundle NAME [ARGS...]: a busybox bundle $SB (ARGS as busybox_bundle) and an id $SID.
# The file has no teardown of its own yet: tests that leave a container running remove it
# before they assert anything.
sec_bundle() {
  SB=$BATS_TEST_TMPDIR/$1
  SID=$(test_name "$1")
  shift
  busybox_bundle "$SB" "$@"
}

# sec_try hippo create ... ID: as `run`, but with the output in a file and stdin from /dev/null:
# a create that wrongly succeeds leaves an init holding no pipe of bats' (`run` would wait for
# it forever), and that container is removed at once (the test fails on its status).
sec_try() {
  status=0
  "$@" </dev/null >"$BATS_TEST_TMPDIR/try.out" 2>&1 || status=$?
  output=$(cat "$BATS_TEST_TMPDIR/try.out")
  if [ "$status" -eq 0 ]; then hippo delete -f "${@: -1}" >/dev/null 2>&1 || true; fi
}

# A script trying, for each "name type major minor", mknod in /dev and an open for reading;
# prints "open NAME: ok" or the shell's error, then the same for the null device.
mknod_script() {
  local s='' d
  for d in "$@"; do
    set -- $d
    s+="mknod /dev/x-$1 $2 $3 $4 || echo 'mknod $1 failed'; (exec 3</dev/x-$1 && echo ok) 2>&1 | sed 's/^/open $1: /'; "
  done
  s+='mknod /dev/x-null c 1 3 && echo hi >/dev/x-null && echo "null: ok"'
  echo "$s"
}

# Each of these opens, for reading, for a root without capabilities on this machine once the
# device cgroup lets it (checked by the second half of the test), so an EPERM is the cgroup's:
# the host's console, a loop device, fuse. /dev/mem (ENXIO or CAP_SYS_RAWIO without a cgroup)
# is only checked to be refused.
@test "4. default devices: with CAP_MKNOD a container makes but cannot open the host's console, a loop device, fuse, mem" {
  local d devices=("console c 5 1" "loop b 7 0" "fuse c 10 229")
  sec_bundle dev sh -c "$(mknod_script "${devices[@]}" "mem c 1 1")"
  edit_config "$SB" '.process.capabilities |= with_entries(.value += ["CAP_MKNOD"])'
  run hippo run -b "$SB" "$SID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"null: ok"* ]]  # mknod works and allowed devices open
  for d in console loop fuse mem; do
    [[ $output != *"mknod $d failed"* ]]
    [[ $output == *"open $d: sh: can't open /dev/x-$d: Operation not permitted"* ]]
  done
  assert_no_leaks "$SID" "$SB"

  # The same nodes open once the spec allows them: the refusals above were the cgroup's.
  sec_bundle allowed sh -c "$(mknod_script "${devices[@]}")"
  edit_config "$SB" '.process.capabilities |= with_entries(.value += ["CAP_MKNOD"])'
  edit_config "$SB" '.linux.resources.devices += [
    {allow: true, type: "c", major: 5, minor: 1, access: "r"},
    {allow: true, type: "b", major: 7, minor: 0, access: "r"},
    {allow: true, type: "c", major: 10, minor: 229, access: "r"}]'
  run hippo run -b "$SB" "$SID"
  echo "$output"
  [ "$status" -eq 0 ]
  for d in console loop fuse; do
    [[ $output == *"open $d: ok"* ]]
  done
}

# 10 MB of '[' and ']' (or only '[' when $2 is "unbalanced") as $1.
ten_mb_of_brackets() {
  if [ "${2:-}" = unbalanced ]; then
    head -c 10485760 /dev/zero | tr '\0' '[' >"$1"
  else
    { printf '{"a":'; head -c 5242877 /dev/zero | tr '\0' '['; head -c 5242877 /dev/zero | tr '\0' ']'; printf '}'; } >"$1"
  fi
}

# assert_no_leaks for a bundle whose config.json was replaced by junk: the cgroup path is read
# from the copy sec_keep_config made.
sec_keep_config() { cp "$SB/config.json" "$SB/config.orig"; }
sec_no_leaks() { cp "$SB/config.orig" "$SB/config.json" && assert_no_leaks "$SID" "$SB"; }

@test "6. bounded JSON: a 10 MB config.json, nested or unbalanced, is refused by its size; nothing is left" {
  sec_bundle big
  sec_keep_config
  for kind in nested unbalanced; do
    ten_mb_of_brackets "$SB/config.json" "$kind"
    [ "$(stat -c %s "$SB/config.json")" -eq 10485760 ]
    sec_try hippo create -b "$SB" "$SID"
    echo "$output"
    [ "$status" -ne 0 ]
    [ "$output" = "hippo: config.json: 10485760 bytes is over the 4 MiB limit" ]
    run hippo run -b "$SB" "$SID"
    [ "$output" = "hippo: config.json: 10485760 bytes is over the 4 MiB limit" ]
    sec_no_leaks
  done
}

@test "6. bounded JSON: nesting deeper than 1000 levels is refused below the size limit" {
  sec_bundle deep
  sec_keep_config
  local config
  config=$(cat "$SB/config.json")
  # 1001 levels (the object is the first) in a property hippo would otherwise ignore; then
  # 3 MB never closed.
  { printf '{"x":'; head -c 1001 /dev/zero | tr '\0' '['; head -c 1001 /dev/zero | tr '\0' ']'
    printf ',%s' "${config#\{}"; } >"$SB/config.json"
  sec_try hippo create -b "$SB" "$SID"
  [ "$status" -ne 0 ]
  [ "$output" = "hippo: config.json: nesting deeper than 1000 levels at line 1, column 1005" ]
  sec_no_leaks
  head -c 3000000 /dev/zero | tr '\0' '[' >"$SB/config.json"
  sec_try hippo create -b "$SB" "$SID"
  [ "$output" = "hippo: config.json: nesting deeper than 1000 levels at line 1, column 1001" ]
  sec_no_leaks
}

@test "6. bounded JSON: hippo exec --process refuses a 10 MB or too deep process.json" {
  sec_bundle exec sleep 1000
  hippo_create -b "$SB" "$SID"
  local big deep procs
  ten_mb_of_brackets "$BATS_TEST_TMPDIR/big.json" unbalanced
  big=$(hippo exec --process "$BATS_TEST_TMPDIR/big.json" "$SID" 2>&1) && big="accepted: $big"
  { printf '{"args":["true"],"cwd":"/","user":{"uid":0,"gid":0},"x":'
    head -c 2000 /dev/zero | tr '\0' '{'; } >"$BATS_TEST_TMPDIR/deep.json"
  deep=$(hippo exec --process "$BATS_TEST_TMPDIR/deep.json" "$SID" 2>&1) && deep="accepted: $deep"
  procs=$(hippo ps --format json "$SID" | jq length)
  hippo delete -f "$SID"
  [ "$big" = "hippo: $BATS_TEST_TMPDIR/big.json: 10485760 bytes is over the 4 MiB limit" ]
  [ "$deep" = "hippo: $BATS_TEST_TMPDIR/deep.json: nesting deeper than 1000 levels at line 1, column 1056" ]
  [ "$procs" -eq 1 ]  # nothing was started: init is the container's only process
  assert_no_leaks "$SID" "$SB"
}

@test "7. proc and sysfs must be mounted on an ordinary directory, not a symlink" {
  sec_bundle proclink
  rm -rf "$SB/rootfs/proc"
  ln -s /tmp/x "$SB/rootfs/proc"
  run hippo run -b "$SB" "$SID"
  echo "$output"
  [ "$status" -ne 0 ]
  [ "$output" = "hippo: mounts: /proc: proc must be mounted on an ordinary directory, but $SB/rootfs/proc is a symlink (-> /tmp/x)" ]
  [ ! -e "$SB/rootfs/tmp/x" ]  # the symlink was not followed to make its target
  assert_no_leaks "$SID" "$SB"

  # Even a symlink to a directory inside the rootfs.
  sec_bundle syslink
  mkdir "$SB/rootfs/elsewhere"
  rm -rf "$SB/rootfs/sys"
  ln -s elsewhere "$SB/rootfs/sys"
  run hippo run -b "$SB" "$SID"
  [ "$status" -ne 0 ]
  [ "$output" = "hippo: mounts: /sys: sysfs must be mounted on an ordinary directory, but $SB/rootfs/sys is a symlink (-> elsewhere)" ]
  assert_no_leaks "$SID" "$SB"
}

@test "8. overlapping uid maps are named as overlapping" {
  sec_bundle maps
  edit_config "$SB" '.linux.namespaces += [{type: "user"}]
    | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}, {containerID: 0, hostID: 300000, size: 1}]
    | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
  sec_try hippo create -b "$SB" "$SID"
  [ "$status" -ne 0 ]
  [ "$output" = "hippo: invalid configuration: config.json: linux.uidMappings[1]: container ids 0-0 overlap those of linux.uidMappings[0] (0-65535)" ]
  assert_no_leaks "$SID" "$SB"
}

@test "8. a hook that does not exist says so, in the runtime and in init" {
  for kind in prestart createRuntime createContainer; do
    sec_bundle "hook-$kind"
    edit_config "$SB" '.hooks[$k] = [{path: "/nonexistent-hippo/hook"}]' --arg k "$kind"
    run hippo run -b "$SB" "$SID"
    echo "$output"
    [ "$status" -ne 0 ]
    [[ $output == *"error running hook #0 ($kind, /nonexistent-hippo/hook): No such file or directory" ]]
    assert_no_leaks "$SID" "$SB"
  done
}

@test "8. a failing setrlimit names the rlimit; 2^64-1 is read as the integer it is" {
  sec_bundle nofile sh -c 'ulimit -n'
  edit_config "$SB" '.process.rlimits = [{type: "RLIMIT_NOFILE", hard: 1073741824, soft: 1024}]'
  run hippo run -b "$SB" "$SID"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ $output == *"setrlimit RLIMIT_NOFILE: Operation not permitted" ]]
  assert_no_leaks "$SID" "$SB"

  sec_bundle unlimited sh -c 'ulimit -c; ulimit -Hc'
  # jq would round 2^64-1 to a float: the rlimit goes in as text.
  sed -i 's/"rlimits": *\[/"rlimits":[{"type":"RLIMIT_CORE","hard":18446744073709551615,"soft":18446744073709551615},/' "$SB/config.json"
  grep -q '"hard":18446744073709551615' "$SB/config.json"
  run hippo run -b "$SB" "$SID"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'unlimited\nunlimited')" ]
}
