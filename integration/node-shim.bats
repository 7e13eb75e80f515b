#!/usr/bin/env bats
# Node mode (config.yaml `grouping: node`, docs/containerd.md "Node mode"): one shim daemon
# serves every container of a containerd namespace, found by `start` through its well-known
# socket under the state root. What it keeps of per-pod mode's guarantees is tested by
# shim-node.bats and cri-node.bats (shim.bats and cri.bats again); this file tests what is the
# node daemon's own: one daemon for many containers started in a row and at once, its life when
# empty, its death, and one daemon per namespace.

load helpers
source "$REPO_ROOT/hack/lib-ctr.sh"

setup_file() {
  export NS=hippo-node-$$
  export CTRD_DIR=$BATS_FILE_TMPDIR/ctrd
  export IMAGE=docker.io/hippo/busybox:latest
  export HSTATE=/run/hippo-node-$$
  # Read by every `start`: a test may change node_idle_exit for the daemons it makes.
  export HIPPO_CONFIG=$BATS_FILE_TMPDIR/hippo.yaml
  printf 'grouping: node\nnode_idle_exit: 30\nstate_root: %s\n' "$HSTATE" >"$HIPPO_CONFIG"
  start_private_containerd "$NS" "$NS-b"
}

teardown_file() {
  stop_private_containerd "$NS" "$NS-b"
  rm -rf "$HSTATE"
}

setup() {
  ID=n$BATS_TEST_NUMBER
  FIFOS=$BATS_TEST_TMPDIR/fifo
  printf 'grouping: node\nnode_idle_exit: 30\nstate_root: %s\n' "$HSTATE" >"$HIPPO_CONFIG"
}

teardown() {
  ctr_remove_all "$NS"
  ctr_remove_all "$NS-b"
  # The node daemons this test made: TERM, as a service manager would stop them.
  local f pid
  for f in "$HSTATE"/shims/*.pid; do
    [[ -s $f ]] || continue
    pid=$(cat "$f")
    grep -q containerd-shim-hippo-v2 "/proc/$pid/cmdline" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null || true
    eventually pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
  done
}

pid_gone() {
  [[ ! -d /proc/$1 ]] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# node_files NS: the base of the node daemon's files of namespace NS (socket, lock, pid, log).
node_files() {
  printf '%s/shims/%s' "$HSTATE" "$(printf '%s' "$CONTAINERD_ADDRESS/$1" | sha256sum | cut -c1-32)"
}

address_of() {  # address_of NS ID: the socket containerd was told serves task ID
  sed 's|^unix://||' "$CTRD_DIR/state/io.containerd.runtime.v2.task/$1/$2/address"
}

hrun() {  # hrun NS [ctr run flags] ID CMD...
  local ns=$1
  shift
  ctr -n "$ns" run --runtime io.containerd.hippo.v2 --fifo-dir "$FIFOS" "$@"
}

daemons_of() {  # the node daemons of namespace $1 on our containerd (not their keepers)
  local p keepers
  keepers=$(cat "$HSTATE"/shims/*.keeper.pid 2>/dev/null || true)
  for p in $(pgrep -f "containerd-shim-hippo-v2 -namespace $1 -address $CONTAINERD_ADDRESS " || true); do
    grep -qx "$p" <<<"$keepers" || echo "$p"
  done
}

@test "node mode: containers started in a row and 12 at once share one daemon on the well-known socket" {
  local base
  base=$(node_files "$NS")
  hrun "$NS" -d "$IMAGE" "$ID-1" sleep 1000
  [ -S "$base.sock" ]
  [ "$(stat -c %a "$base.sock")" = 600 ]
  [ "$(stat -c %a "$HSTATE/shims")" = 700 ]
  daemon=$(cat "$base.pid")
  [ "$(daemons_of "$NS")" = "$daemon" ]
  hrun "$NS" -d "$IMAGE" "$ID-2" sleep 1000
  # 12 starts at once: the lock makes one of them create the daemon, if it were gone
  for n in $(seq 12); do hrun "$NS" -d "$IMAGE" "$ID-p$n" sleep 1000 & done
  wait
  for id in "$ID-1" "$ID-2" $(seq -f "$ID-p%g" 12); do
    [ "$(address_of "$NS" "$id")" = "$base.sock" ]
  done
  [ "$(daemons_of "$NS")" = "$daemon" ]
  [ "$(ctr -n "$NS" task ls | grep -c RUNNING)" -eq 14 ]
  # Each container is its own: deleting one leaves the others running, and is reported.
  ctr -n "$NS" task kill -s SIGKILL "$ID-1"
  eventually ctr_task_is "$NS" "$ID-1" STOPPED
  ctr -n "$NS" task delete "$ID-1"
  [ ! -e "$HSTATE/containerd/$NS/$ID-1" ]
  [ "$(ctr -n "$NS" task ls | grep -c RUNNING)" -eq 13 ]
  [ "$(ctr -n "$NS" task exec --exec-id e1 "$ID-2" echo still)" = still ]
  [ "$(daemons_of "$NS")" = "$daemon" ]
}

ctr_task_is() {  # ctr_task_is NS ID STATUS
  [[ $(ctr -n "$1" task ls 2>/dev/null | awk -v id="$2" '$1 == id {print $3}') == "$3" ]]
}

@test "node mode: the empty daemon stays for the next container, then goes after node_idle_exit" {
  local base
  base=$(node_files "$NS")
  [ "$(hrun "$NS" --rm "$IMAGE" "$ID-1" echo one)" = one ]
  daemon=$(cat "$base.pid")
  kill -0 "$daemon"  # node_idle_exit 30: still here with no container
  [ "$(hrun "$NS" --rm "$IMAGE" "$ID-2" echo two)" = two ]
  [ "$(cat "$base.pid")" = "$daemon" ]  # no new daemon for the second container
  # A daemon made with node_idle_exit 1 goes on its own a second after its last container.
  kill -TERM "$daemon"
  eventually pid_gone "$daemon"
  [ ! -e "$base.sock" ] && [ ! -e "$base.pid" ]  # a stopping daemon removes both
  printf 'grouping: node\nnode_idle_exit: 1\nstate_root: %s\n' "$HSTATE" >"$HIPPO_CONFIG"
  [ "$(hrun "$NS" --rm "$IMAGE" "$ID-3" echo three)" = three ]
  daemon=$(cat "$base.pid")
  eventually pid_gone "$daemon"
  [ ! -e "$base.sock" ] && [ ! -e "$base.pid" ]
  [ -z "$(daemons_of "$NS")" ]
}

# The node daemon's last adoption record (shim/snapshot.cpp), read from its keeper's memfd:
# the header's slot (offset 8) and length (offset 16), the slots 16 MiB apart from 4096.
adoption_record() {
  local keeper fd f slot len
  keeper=$(cat "$(node_files "$NS").keeper.pid") || return 1
  fd=$(find "/proc/$keeper/fd" -lname '/memfd:hippo-adoption*' -printf '%f\n' | head -1)
  [[ -n $fd ]] || return 1
  f=/proc/$keeper/fd/$fd
  read -r slot < <(od -An -t u4 -j 8 -N 4 "$f")
  read -r len < <(od -An -t u8 -j 16 -N 8 "$f")
  tail -c +$((4096 + slot * 16777216 + 1)) "$f" | head -c "$len"
}

record_has() { adoption_record | grep -qF -- "$1"; }

pid_file_names_another() {  # pid_file_names_another FILE PID: FILE names a live process, not PID
  local pid
  pid=$(cat "$1" 2>/dev/null) && [[ -n $pid && $pid != "$2" && -d /proc/$pid ]]
}

@test "node mode: SIGKILL of the node daemon: its keeper starts another, which adopts the running containers, their Waits and execs, and reports their exits" {
  local base inits=() daemon keeper waiter exec_ctr tty_ctr rc
  base=$(node_files "$NS")
  # An attached `ctr run` (its Wait pending in the daemon when it dies) and two detached.
  hrun "$NS" "$IMAGE" "$ID-1" sleep 1000 >"$BATS_TEST_TMPDIR/wait.out" 2>&1 &
  waiter=$!
  eventually ctr_task_is "$NS" "$ID-1" RUNNING
  for n in 2 3; do hrun "$NS" -d "$IMAGE" "$ID-$n" sleep 1000; done
  for n in 1 2 3; do
    inits+=("$(ctr -n "$NS" task ls | awk -v id="$ID-$n" '$1 == id {print $2}')")
  done
  daemon=$(cat "$base.pid")
  keeper=$(cat "$base.keeper.pid")
  [ "$(awk '/^PPid:/ {print $2}' "/proc/$daemon/status")" = "$keeper" ]
  # And a running exec.
  ctr -n "$NS" task exec --fifo-dir "$FIFOS" --exec-id long "$ID-3" sh -c 'echo before; sleep 1000' \
    >"$BATS_TEST_TMPDIR/exec.out" 2>&1 &
  exec_ctr=$!
  # And an exec on a terminal, relayed by the daemon, that prints again once told to.
  script -qec "ctr -n $NS task exec -t --fifo-dir $FIFOS --exec-id tty $ID-2 sh -c 'echo before; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo after'" \
    /dev/null </dev/null >"$BATS_TEST_TMPDIR/tty.out" 2>&1 &
  tty_ctr=$!
  eventually record_has '"waiters":[['
  eventually record_has '"exec_id":"long"'
  eventually record_has '"exec_id":"tty"'
  eventually grep -qx before "$BATS_TEST_TMPDIR/exec.out"
  eventually grep -q before "$BATS_TEST_TMPDIR/tty.out"

  kill -KILL "$daemon"
  eventually pid_file_names_another "$base.pid" "$daemon"
  local next
  next=$(cat "$base.pid")
  [ "$(awk '/^PPid:/ {print $2}' "/proc/$next/status")" = "$keeper" ]
  # Nothing noticed: the containers run on, containerd still has them, the socket is the same.
  for pid in "${inits[@]}"; do kill -0 "$pid"; done
  for n in 1 2 3; do [ "$(ctr_task_status "$NS" "$ID-$n")" = RUNNING ]; done
  [ -S "$base.sock" ]
  [ "$(ctr -n "$NS" task exec --fifo-dir "$FIFOS" --exec-id after "$ID-2" echo adopted)" = adopted ]
  # The terminal's relay was adopted too: its output after the death arrives, and its exit.
  ctr -n "$NS" task exec --fifo-dir "$FIFOS" --exec-id go "$ID-2" touch /tmp/go
  wait "$tty_ctr"
  grep -q after "$BATS_TEST_TMPDIR/tty.out"

  # The `ctr run` from before the death gets the exit; so does the exec's ctr.
  ctr -n "$NS" task kill -s SIGKILL "$ID-1"
  rc=0
  wait "$waiter" || rc=$?
  [ "$rc" -eq 137 ] || { cat "$BATS_TEST_TMPDIR/wait.out"; false; }
  ctr -n "$NS" task kill -s SIGKILL --exec-id long "$ID-3"
  rc=0
  wait "$exec_ctr" || rc=$?
  [ "$rc" -eq 137 ]
  [ "$(cat "$BATS_TEST_TMPDIR/exec.out")" = before ]
  # (The attached `ctr run` deleted its task.) The others' exits, and their deletes.
  for n in 2 3; do
    ctr -n "$NS" task kill -s SIGKILL "$ID-$n"
    eventually ctr_task_is "$NS" "$ID-$n" STOPPED
    run ctr -n "$NS" task delete "$ID-$n"
    [[ $output == *"exit code 137"* ]]
  done
  for n in 1 2 3; do
    ctr -n "$NS" containers delete "$ID-$n"
    [ ! -e "$HSTATE/containerd/$NS/$ID-$n" ]
    ! grep -q "$CTRD_DIR/state/io.containerd.runtime.v2.task/$NS/$ID-$n/" /proc/self/mountinfo
    [ -z "$(ls -d /sys/fs/cgroup/*/"$NS/$ID-$n" 2>/dev/null)" ]
  done
  # Emptied, the adopting daemon ends as any does, and its keeper with it.
  kill -TERM "$next"
  eventually pid_gone "$next"
  eventually pid_gone "$keeper"
  [ ! -e "$base.sock" ] && [ ! -e "$base.pid" ] && [ ! -e "$base.keeper.pid" ]
}

sleep_ms() {
  sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"
}

# Nothing of container $1 is left: no state, mount, cgroup, or process running `sleep $2`.
nothing_left_of() {
  [ ! -e "$HSTATE/containerd/$NS/$1" ] || { echo "left: state of $1"; return 1; }
  ! grep -q "/$NS/$1/" /proc/self/mountinfo || { echo "left: a mount of $1"; return 1; }
  [ -z "$(ls -d /sys/fs/cgroup/*/"$NS/$1" 2>/dev/null)" ] || { echo "left: cgroups of $1"; return 1; }
  ! pgrep -f "^sleep $2\$" >/dev/null || { echo "left: sleep $2"; return 1; }
}

@test "node mode: SIGKILL of the node daemon at random points of create, exec and delete: a running container survives each, nothing else is left" {
  local base seed=${FAULTS_SEED:-$((SRANDOM % 32768))} i phase delay id bg daemon anchor cmd rc
  local mark=$((800000 + ($$ % 1000) * 100 + BATS_TEST_NUMBER))
  RANDOM=$seed
  echo "# seed $seed" >&3
  base=$(node_files "$NS")
  # More deaths than the keeper follows by default (5 in 60 s).
  echo 'node_restarts: 50' >>"$HIPPO_CONFIG"
  hrun "$NS" -d "$IMAGE" "$ID-anchor" sleep 1000
  anchor=$(ctr -n "$NS" task ls | awk -v id="$ID-anchor" '$1 == id {print $2}')
  local n=${FAULTS_ITERATIONS:-12} phases=(run exec delete)
  for ((i = 0; i < n; i++)); do
    phase=${phases[i % 3]} id=$ID-$i
    # ctr takes ~70 ms here before its first request, and the daemon's part of a request a
    # few ms: the delays spread over ctr's whole call.
    case $phase in
      run)
        cmd=(run -d --runtime io.containerd.hippo.v2 --fifo-dir "$FIFOS" "$IMAGE" "$id" sleep "$mark")
        delay=$((50 + RANDOM % 300))
        ;;
      exec)
        hrun "$NS" -d "$IMAGE" "$id" sleep "$mark"
        cmd=(task exec --fifo-dir "$FIFOS" --exec-id e "$id" sh -c 'exit 3')
        delay=$((40 + RANDOM % 200))
        ;;
      delete)
        hrun "$NS" -d "$IMAGE" "$id" sleep "$mark"
        ctr -n "$NS" task kill -s SIGKILL "$id"
        eventually ctr_task_is "$NS" "$id" STOPPED
        cmd=(task delete "$id")
        delay=$((30 + RANDOM % 150))
        ;;
    esac
    daemon=$(cat "$base.pid")
    timeout 30 ctr -n "$NS" "${cmd[@]}" >"$BATS_TEST_TMPDIR/bg.out" 2>&1 &
    bg=$!
    sleep_ms "$delay"
    kill -KILL "$daemon"
    rc=0
    wait "$bg" || rc=$?
    echo "# iteration $i: SIGKILL $delay ms into $phase of $id; ctr: status $rc, $(head -c 200 "$BATS_TEST_TMPDIR/bg.out" | tr '\n' ' ')" >&3
    eventually pid_file_names_another "$base.pid" "$daemon"
    kill -0 "$anchor"
    [ "$(ctr_task_status "$NS" "$ID-anchor")" = RUNNING ]
    # Whatever state the death left it in, the container can be removed, and nothing of it is
    # left (containerd's own cleanup of a task whose connection closed included).
    ctr -n "$NS" task kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    ctr -n "$NS" task delete -f "$id" >/dev/null 2>&1 || true
    ctr -n "$NS" containers delete "$id" >/dev/null 2>&1 || true
    eventually nothing_left_of "$id" "$mark"
  done
  [ "$(ctr -n "$NS" task exec --fifo-dir "$FIFOS" --exec-id alive "$ID-anchor" echo alive)" = alive ]
}

@test "node mode: the node daemon killed inside a Create or a Delete: that connection is closed, containerd cleans its container up (the daemon forgets it), the rest run on" {
  local base daemon tracer mark=$((700000 + ($$ % 1000) * 100 + BATS_TEST_NUMBER))
  base=$(node_files "$NS")
  hrun "$NS" -d "$IMAGE" "$ID-anchor" sleep 1000
  daemon=$(cat "$base.pid")
  # SIGKILL at the daemon's first mount(2): the rootfs mount of the next Create, whose request
  # it has read and the record does not hold.
  strace -q -f -p "$daemon" -e trace=mount -e inject=mount:signal=SIGKILL -o /dev/null &
  tracer=$!
  eventually grep -q "^TracerPid:[[:space:]]*[1-9]" "/proc/$daemon/status"
  run hrun "$NS" -d "$IMAGE" "$ID-victim" sleep "$mark"
  echo "ctr run: status $status, $output"
  [ "$status" -ne 0 ]
  wait "$tracer" || true
  eventually pid_file_names_another "$base.pid" "$daemon"
  grep -q "inside a request or a reply: closed" "$base.log"
  [ "$(ctr_task_status "$NS" "$ID-anchor")" = RUNNING ]
  [ "$(ctr -n "$NS" task exec --fifo-dir "$FIFOS" --exec-id alive "$ID-anchor" echo alive)" = alive ]
  # containerd took the closed connection for the victim's end and ran `shim delete`.
  eventually bash -c "! ctr -n $NS task ls | grep -q '^$ID-victim '"
  ctr -n "$NS" containers delete "$ID-victim" 2>/dev/null || true
  eventually nothing_left_of "$ID-victim" "$mark"

  # Killed inside a Delete (at the rootfs unmount, the container already in the record): the
  # connection is closed, containerd's `shim delete` cleans up and tells the daemon, which
  # forgets the container.
  mark=$((mark + 1))
  hrun "$NS" -d "$IMAGE" "$ID-victim2" sleep "$mark"
  ctr -n "$NS" task kill -s SIGKILL "$ID-victim2"
  eventually ctr_task_is "$NS" "$ID-victim2" STOPPED
  eventually record_has "\"id\":\"$ID-victim2\""
  daemon=$(cat "$base.pid")
  strace -q -p "$daemon" -e trace=umount2 -e inject=umount2:signal=SIGKILL -o /dev/null &
  tracer=$!
  eventually grep -q "^TracerPid:[[:space:]]*[1-9]" "/proc/$daemon/status"
  run ctr -n "$NS" task delete "$ID-victim2"
  echo "ctr task delete: status $status, $output"
  wait "$tracer" || true
  eventually pid_file_names_another "$base.pid" "$daemon"
  eventually bash -c "! ctr -n $NS task ls | grep -q '^$ID-victim2 '"
  ctr -n "$NS" containers delete "$ID-victim2" 2>/dev/null || true
  eventually nothing_left_of "$ID-victim2" "$mark"
  eventually grep -q "container $ID-victim2 forgotten" "$base.log"
  ! record_has "\"id\":\"$ID-victim2\""
  [ "$(ctr_task_status "$NS" "$ID-anchor")" = RUNNING ]
}

@test "node mode: each containerd namespace has its own daemon, state and events" {
  hrun "$NS" -d "$IMAGE" "$ID-a" sleep 1000
  hrun "$NS-b" -d "$IMAGE" "$ID-b" sleep 1000
  a=$(cat "$(node_files "$NS").pid")
  b=$(cat "$(node_files "$NS-b").pid")
  [ "$a" != "$b" ]
  [ "$(daemons_of "$NS")" = "$a" ] && [ "$(daemons_of "$NS-b")" = "$b" ]
  [ "$(address_of "$NS" "$ID-a")" != "$(address_of "$NS-b" "$ID-b")" ]
  [ -d "$HSTATE/containerd/$NS/$ID-a" ] && [ ! -e "$HSTATE/containerd/$NS/$ID-b" ]
  [ -d "$HSTATE/containerd/$NS-b/$ID-b" ] && [ ! -e "$HSTATE/containerd/$NS-b/$ID-a" ]
  # A namespace's daemon knows nothing of the other's containers.
  run ctr -n "$NS" task exec --exec-id x "$ID-b" true
  [ "$status" -ne 0 ]
  # Each exit is published in its own namespace.
  ctr events >"$BATS_TEST_TMPDIR/events" &
  events=$!
  subscribed() {  # a label update of ours has come through the subscription
    ctr -n "$NS-b" containers label "$ID-b" probe=$RANDOM >/dev/null
    grep -q "$NS-b /containers/update" "$BATS_TEST_TMPDIR/events"
  }
  eventually subscribed
  ctr -n "$NS-b" task kill -s SIGKILL "$ID-b"
  eventually ctr_task_is "$NS-b" "$ID-b" STOPPED
  eventually grep -q "$NS-b /tasks/exit" "$BATS_TEST_TMPDIR/events"
  kill "$events"
  grep "/tasks/exit" "$BATS_TEST_TMPDIR/events" | grep -q "\"container_id\":\"$ID-b\""
  ! grep "/tasks/exit" "$BATS_TEST_TMPDIR/events" | grep -q "$NS /tasks/exit"
  [ "$(ctr -n "$NS" task ls | awk -v id="$ID-a" '$1 == id {print $3}')" = RUNNING ]
}
