#!/usr/bin/env bats
# Faults (issue 18, item 3): the shim daemon SIGKILLed at random points of create, start, exec
# and delete; containerd restarted under many running containers; the state root out of space;
# the process out of file descriptors. After each: a clear error or a recovered container, and
# nothing half-created or left behind.
#
# Counts (defaults fit CI's budget; raise them by hand):
#   FAULTS_ITERATIONS (20)          shim SIGKILLs
#   FAULTS_SEED (random)            $RANDOM's seed, printed, to replay a run
#   FAULTS_PHASES (all)             the phases the SIGKILLs take turns at (see kill_during)
#   FAULTS_RESTART_CONTAINERS (10)  containers running through the containerd restarts
#   FAULTS_RESTARTS (5)             containerd restarts (issue 18 asks 20 x 10: 67 s here,
#                                   too long for CI; run it by hand with both set)

load helpers
load faults_helpers

setup_file() {
  export NS=hippo-faults-$$
  export CTRD_DIR=$BATS_FILE_TMPDIR/ctrd
  export IMAGE=docker.io/hippo/busybox:latest
  # The shims' state root is ours, so a leftover of this file is told from anyone else's.
  export HSTATE=$BATS_FILE_TMPDIR/hstate
  printf 'state_root: %s\n' "$HSTATE" >"$BATS_FILE_TMPDIR/hippo.yaml"
  export HIPPO_CONFIG=$BATS_FILE_TMPDIR/hippo.yaml
  start_private_containerd
}

teardown_file() {
  stop_private_containerd
}

setup() {
  ID=f$BATS_TEST_NUMBER
  FIFOS=$BATS_TEST_TMPDIR/fifo
  # A `sleep` argument no other test uses: a container process is found by it even outside
  # its cgroup (one killed between its clone and its cgroup).
  MARK=$((900000 + ($$ % 1000) * 100 + BATS_TEST_NUMBER))
}

teardown() {
  ctr_remove_all "$NS"
  local p
  for p in $(pgrep -f "containerd-shim-hippo-v2 -namespace $NS "); do kill -9 "$p" 2>/dev/null || true; done
  for p in $(pgrep -f "^sleep $MARK"); do kill -9 "$p" 2>/dev/null || true; done
  if [[ -n ${TINY:-} ]]; then umount "$TINY" 2>/dev/null || true; fi
}

# --- 1. SIGKILL of the shim daemon at random points ----------------------------------------

sleep_ms() {
  sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"
}

# kill_during PHASE ID DELAY_MS: runs PHASE of container ID's life in the background and
# SIGKILLs the shim daemon serving it DELAY_MS later. Phases:
#   run      `ctr run -d` with a shim of its own; the delay counts from the birth of the
#            daemon's socket (finding a new daemon takes ~100 ms here, as long as create and
#            start, so this one lands late; the next one covers the early points)
#   grouped  `ctr run -d` into the running daemon of ID-anchor's group (the delay counts from
#            ctr's launch): the daemon dies with one container running and one being made
#   exec     `ctr task exec` into a running container
#   delete   `ctr task delete -f` of a running container
#   delete-stopped  `ctr task delete` of a stopped one (only the Delete RPC is in flight)
kill_during() {
  local phase=$1 id=$2 delay=$3 daemon group=() cmd
  case $phase in
    grouped)
      group=(--annotation "io.containerd.hippo.v2.group=$id")
      hrun -d "${group[@]}" "$IMAGE" "$id-anchor" sleep "$MARK" >/dev/null
      ;&
    run)
      cmd=(run -d --runtime io.containerd.hippo.v2 --fifo-dir "$FIFOS" "${group[@]}" "$IMAGE" "$id" sleep "$MARK")
      ;;
    exec | delete | delete-stopped)
      hrun -d "$IMAGE" "$id" sleep "$MARK" >/dev/null
      cmd=(task exec --fifo-dir "$FIFOS" --exec-id e "$id" sleep "$MARK")
      [[ $phase != delete ]] || cmd=(task delete -f "$id")
      if [[ $phase == delete-stopped ]]; then
        hctr task kill -s SIGKILL "$id"
        wait_task "$id" STOPPED
        cmd=(task delete "$id")
      fi
      ;;
  esac
  if [[ $phase == grouped ]]; then daemon=$(wait_shim_daemon "$id-anchor"); fi
  if [[ $phase == exec || $phase == delete* ]]; then daemon=$(wait_shim_daemon "$id"); fi
  timeout 30 ctr -n "$NS" "${cmd[@]}" >"$BATS_TEST_TMPDIR/bg.out" 2>&1 &
  local bg=$!
  if [[ $phase == run ]]; then
    wait_socket "$(shim_socket_of "$id")"
    sleep_ms "$delay"
    for _ in $(seq 500); do
      find_shim_daemon "$id"
      [[ -n $DAEMON ]] && break
      sleep 0.002
    done
    daemon=$DAEMON
  else
    sleep_ms "$delay"
  fi
  kill -KILL "$daemon"
  wait "$bg" || true
  echo "  ctr ${cmd[0]}: $(head -c 300 "$BATS_TEST_TMPDIR/bg.out" | tr '\n' ' ')"
}

@test "SIGKILL of the shim daemon at random points of create/start/exec/delete leaves nothing" {
  local n=${FAULTS_ITERATIONS:-20} seed=${FAULTS_SEED:-$((SRANDOM % 32768))} i phase delay id
  RANDOM=$seed
  echo "# seed $seed, $n iterations" >&3
  local phases=(${FAULTS_PHASES:-run grouped exec delete run grouped exec delete-stopped})
  for ((i = 0; i < n; i++)); do
    phase=${phases[i % ${#phases[@]}]}
    # Measured here (load 5-8): a grouped `ctr run -d` takes 250-500 ms, `ctr task exec`
    # 130-230 ms and `ctr task delete -f` 150-480 ms, ~70 ms of each being ctr's own start.
    case $phase in
      run) delay=$((RANDOM % 60)) ;;
      grouped) delay=$((60 + RANDOM % 400)) ;;
      exec) delay=$((60 + RANDOM % 150)) ;;
      delete) delay=$((60 + RANDOM % 250)) ;;
      delete-stopped) delay=$((50 + RANDOM % 150)) ;;
    esac
    id=$ID-$i
    echo "iteration $i: SIGKILL $delay ms into $phase of $id"
    kill_during "$phase" "$id" "$delay"
    containerd_cleanup "$id"
    assert_nothing_left "$id" "$(shim_socket_of "$id")" "$MARK"
    if [[ $phase == grouped ]]; then
      containerd_cleanup "$id-anchor"
      assert_nothing_left "$id-anchor" "$(shim_socket_of "$id")" "$MARK"
    fi
  done
}

# --- 2. containerd restarts under running containers --------------------------------------

@test "containerd restarted repeatedly under running containers: all recovered, none killed, exits reported" {
  local n=${FAULTS_RESTART_CONTAINERS:-10} rounds=${FAULTS_RESTARTS:-5} k r id
  echo "# $n containers, $rounds restarts" >&3
  SECONDS=0
  declare -A init shim
  for ((k = 0; k < n; k++)); do
    # Exits with a status of its own on SIGTERM, so a reported exit is told from a kill.
    hrun -d "$IMAGE" "$ID-$k" sh -c "trap 'exit $((10 + k))' TERM; sleep $MARK & wait" &
  done
  wait
  for ((k = 0; k < n; k++)); do
    id=$ID-$k
    wait_task "$id" RUNNING
    init[$id]=$(hctr task ls | awk -v id="$id" '$1 == id {print $2}')
    shim[$id]=$(shim_daemon_of "$id")
    [[ -n ${init[$id]} && -n ${shim[$id]} ]]
  done
  echo "# started in $SECONDS s" >&3
  for ((r = 1; r <= rounds; r++)); do
    PATH=$HIPPO_BUILD/bin:$PATH "$REPO_ROOT/hack/private-containerd.sh" restart "$CTRD_DIR" >/dev/null
    # The same inits, running, and the same daemons: containerd reconnected, nothing was
    # restarted or killed. (One `task ls` per round: each ctr call costs ~150 ms here.)
    hctr task ls >"$BATS_TEST_TMPDIR/tasks"
    for ((k = 0; k < n; k++)); do
      id=$ID-$k
      grep -qE "^$id +${init[$id]} +RUNNING" "$BATS_TEST_TMPDIR/tasks" ||
        { echo "restart $r: $id was init ${init[$id]}, now:" >&2; cat "$BATS_TEST_TMPDIR/tasks" >&2; false; }
      stat_field "${shim[$id]}" 3 && [[ $FIELD != Z ]] || { echo "restart $r: shim of $id is gone" >&2; false; }
    done
    # Reachable: an exec in each, all at once, returns its own status.
    for ((k = 0; k < n; k++)); do
      (
        rc=0
        hctr task exec --fifo-dir "$FIFOS" --exec-id "r$r" "$ID-$k" sh -c "exit $(((r + k) % 100))" || rc=$?
        echo "$rc" >"$BATS_TEST_TMPDIR/exec-$k"
      ) &
    done
    wait
    for ((k = 0; k < n; k++)); do
      [[ $(cat "$BATS_TEST_TMPDIR/exec-$k") == $(((r + k) % 100)) ]] ||
        { echo "restart $r: exec in $ID-$k returned $(cat "$BATS_TEST_TMPDIR/exec-$k")" >&2; false; }
    done
  done
  echo "# restarts done at $SECONDS s" >&3
  # Exits after the restarts reach containerd: its events and each task's exit status.
  hctr events >"$BATS_TEST_TMPDIR/events" 2>&1 &
  local events=$!
  sleep 0.5
  local jobs=()
  for ((k = 0; k < n; k++)); do
    hctr task kill -s SIGTERM "$ID-$k" &
    jobs+=($!)
  done
  wait "${jobs[@]}"
  jobs=()
  for ((k = 0; k < n; k++)); do
    (
      wait_task "$ID-$k" STOPPED
      hctr task delete "$ID-$k" >"$BATS_TEST_TMPDIR/delete-$k" 2>&1
      hctr containers delete "$ID-$k"
    ) &
    jobs+=($!)
  done
  wait "${jobs[@]}"
  kill "$events"
  for ((k = 0; k < n; k++)); do
    [[ $(cat "$BATS_TEST_TMPDIR/delete-$k") == *"exit code $((10 + k))"* ]] ||
      { echo "$ID-$k: delete said: $(cat "$BATS_TEST_TMPDIR/delete-$k")" >&2; false; }
    grep "/tasks/exit" "$BATS_TEST_TMPDIR/events" |
      grep "\"container_id\":\"$ID-$k\"" | grep -q "\"exit_status\":$((10 + k))" ||
      { echo "no exit event of $ID-$k with status $((10 + k))" >&2; false; }
    assert_nothing_left "$ID-$k" "$(shim_socket_of "$ID-$k")" "$MARK"
  done
  echo "# $SECONDS s" >&3
}

# --- 3. the state root out of space (ENOSPC) -----------------------------------------------

# tiny_tmpfs DIR FREE_PAGES INODES: a tmpfs at DIR with FREE_PAGES pages left for data and
# INODES inodes in all (the root takes one): every write past them fails with ENOSPC.
tiny_tmpfs() {
  local dir=$1 free=$2 inodes=$3
  mkdir -p "$dir"
  mount -t tmpfs -o "size=64k,nr_inodes=$inodes,mode=0700" tmpfs "$dir"
  TINY=$dir
  # The filler takes all but FREE_PAGES pages (dd stops at ENOSPC).
  if ((inodes > 2)); then
    dd if=/dev/zero of="$dir/filler" bs=4k count=$((16 - free)) 2>/dev/null || true
  fi
}

# What a failed create must not leave: the state dir, a cgroup, a process, a mount.
assert_create_left_nothing() {
  local root=$1 id=$2 bundle=$3 cg=$4 d
  [[ ! -e $root/$id ]] || { echo "leak: state dir $root/$id: $(ls -la "$root/$id")" >&2; return 1; }
  for d in /sys/fs/cgroup/*/"${cg#/}" /sys/fs/cgroup/"${cg#/}"; do
    [[ ! -d $d ]] || { echo "leak: cgroup $d" >&2; return 1; }
  done
  ! pgrep -f "^sleep $MARK\$" || { echo "leak: container process" >&2; return 1; }
  ! grep -qF "$bundle" /proc/self/mountinfo || { echo "leak: mount under $bundle" >&2; return 1; }
}

@test "hippo create with its --root on a full tmpfs (ENOSPC): one clear line, nothing half-created" {
  build_busybox_rootfs
  local b=$BATS_TEST_TMPDIR/b root=$BATS_TEST_TMPDIR/tiny free inodes
  busybox_bundle "$b" sleep "$MARK"
  # No inode left (the state dir cannot be made), then no page left and one page left (the
  # dir is made, a record is not).
  for case in "0 1" "0 64" "1 64" "2 64"; do
    read -r free inodes <<<"$case"
    tiny_tmpfs "$root" "$free" "$inodes"
    run env HIPPO_CONFIG=/dev/null "$HIPPO_BIN" --root "$root" create --bundle "$b" "$ID" </dev/null
    echo "free pages $free, inodes $inodes: status $status: $output"
    if [[ $status -eq 0 ]]; then
      # The state fitted: it must then work, and delete must leave nothing.
      HIPPO_CONFIG=/dev/null "$HIPPO_BIN" --root "$root" delete --force "$ID"
    else
      [[ ${#lines[@]} -eq 1 && $output == "hippo: "*"No space left on device"* ]]
      [[ $output == *"$root"* ]]
    fi
    assert_create_left_nothing "$root" "$ID" "$b" "$(cgroup_path_of "$b")"
    umount "$root"
    TINY=
  done
}

@test "the shim's state root on a full tmpfs (ENOSPC): Create fails clearly, nothing half-created" {
  local root=$BATS_TEST_TMPDIR/tiny id
  tiny_tmpfs "$root" 0 64
  # config.yaml by runtime options ConfigPath: this container's daemon keeps state there.
  printf 'state_root: %s\n' "$root" >"$BATS_TEST_TMPDIR/tiny.yaml"
  for id in "$ID-a" "$ID-b"; do
    run hrun -d --runtime-config-path "$BATS_TEST_TMPDIR/tiny.yaml" "$IMAGE" "$id" sleep "$MARK"
    echo "$output"
    [[ $status -ne 0 ]]
    [[ $output == *"No space left on device"* && $output == *"$root"* ]]
    containerd_cleanup "$id"
    assert_nothing_left "$id" "$(shim_socket_of "$id")" "$MARK"
    [[ ! -e $root/containerd/$NS/$id ]]
    # The second one with no free inode: the state dir cannot even be made.
    umount "$root"
    tiny_tmpfs "$root" 0 1
  done
}

# --- 4. out of file descriptors (EMFILE) ---------------------------------------------------

# hippo_run_with_fd_limit LIMIT ROOT BUNDLE: `hippo run` with RLIMIT_NOFILE LIMIT (prlimit, not
# the shell's ulimit: the shell's own redirections would run out first). The loader's exit
# status 127 becomes 99 (bats warns about 127 as "command not found").
hippo_run_with_fd_limit() {
  local rc=0
  env HIPPO_CONFIG=/dev/null prlimit --nofile="$1:" "$HIPPO_BIN" --root "$2" run --bundle "$3" "$ID" </dev/null || rc=$?
  ((rc != 127)) || rc=99
  return "$rc"
}

@test "hippo run under a low ulimit -n (EMFILE at every step): one clear line or success, nothing half-created" {
  build_busybox_rootfs
  local b=$BATS_TEST_TMPDIR/b root=$BATS_TEST_TMPDIR/state limit failed=0
  busybox_bundle "$b" sh -c 'echo ran'
  # From too few to start at all up to enough: each limit runs out at a later step.
  for limit in $(seq 4 1 16); do
    run hippo_run_with_fd_limit "$limit" "$root" "$b"
    echo "ulimit -n $limit: status $status: $output"
    # Too low for the dynamic loader (libc, libm; bats holds fd 3): hippo never ran.
    [[ $status -eq 99 && $output == *"error while loading shared libraries"* ]] && continue
    if [[ $status -ne 0 ]]; then
      failed=$((failed + 1))
      [[ ${#lines[@]} -eq 1 && $output == "hippo: "*"Too many open files"* ]]
    else
      [[ $output == ran ]]
    fi
    assert_create_left_nothing "$root" "$ID" "$b" "$(cgroup_path_of "$b")"
    [[ -z $(ls -A "$root" 2>/dev/null) ]]
  done
  # Some limits must have failed, or the loop tested nothing.
  ((failed > 0))
}

@test "the shim daemon out of file descriptors (EMFILE): Create fails clearly, nothing half-created, the daemon serves on" {
  local group=(--annotation "io.containerd.hippo.v2.group=$ID") daemon open limit id failed=0 ok=0
  hrun -d "${group[@]}" "$IMAGE" "$ID-anchor" sleep "$MARK"
  daemon=$(wait_shim_daemon "$ID-anchor")
  open=$(ls "/proc/$daemon/fd" | wc -l)
  # From no fd to spare up to enough for a container: each limit runs out at a later step.
  for limit in $(seq "$open" 2 $((open + 18))); do
    prlimit --pid "$daemon" --nofile="$limit:"
    id=$ID-$limit
    run timeout 30 ctr -n "$NS" run -d --runtime io.containerd.hippo.v2 --fifo-dir "$FIFOS" \
      "${group[@]}" "$IMAGE" "$id" sleep "$MARK"
    echo "daemon fd limit $limit ($open open): status $status: $output"
    if [[ $status -ne 0 ]]; then
      failed=$((failed + 1))
      [[ $status -ne 124 ]] # no hang
      [[ $output == *"Too many open files"* ]]
    else
      ok=$((ok + 1))
      hctr task kill -s SIGKILL "$id"
      wait_task "$id" STOPPED
      hctr task delete "$id" >/dev/null
    fi
    containerd_cleanup "$id"
    # The anchor's processes are not this container's: only the anchor itself may run.
    [[ -z $(leftovers_of "$id" /nonexistent "none" | grep -v "^shim process") ]] ||
      { leftovers_of "$id" /nonexistent none >&2; false; }
    [[ ! -e $HSTATE/containerd/$NS/$id ]]
  done
  ((failed > 0 && ok > 0))
  # The daemon still serves the anchor.
  prlimit --pid "$daemon" --nofile=1024:
  run hctr task exec --fifo-dir "$FIFOS" --exec-id after "$ID-anchor" sh -c 'exit 5'
  [[ $status -eq 5 ]]
}
