# Helpers of integration/faults.bats: find a container's shim daemon, drive a private
# containerd with ctr, and list everything of a container that is still there after a fault.

source "$REPO_ROOT/hack/lib-ctr.sh"

hctr() {
  ctr -n "$NS" "$@"
}

hrun() { # hrun [ctr run flags] IMAGE ID CMD...: a container with the hippo runtime
  hctr run --runtime io.containerd.hippo.v2 --fifo-dir "$FIFOS" "$@"
}

# containerd's bundle of container $1 (the shim's working directory, rootfs mounted below it).
bundle_of() {
  echo "$CTRD_DIR/state/io.containerd.runtime.v2.task/$NS/$1"
}

# The daemon's socket for group $1 (a container's id unless it is grouped): start_action.cpp
# names it sha256(<containerd address>/<namespace>/<group>) under containerd's socket dir.
shim_socket_of() {
  local hash
  hash=$(printf '%s' "$CONTAINERD_ADDRESS/$NS/$1" | sha256sum | cut -d' ' -f1)
  echo "/run/containerd/s/$hash"
}

# Every process whose command line is that of a shim of container $1: the `start` action, the
# daemon it forked, and children the daemon forked that have not exec'd yet.
shim_processes_of() {
  pgrep -f "containerd-shim-hippo-v2 -namespace $NS .*-id $1 " || true
}

# stat_field PID N: field N of /proc/PID/stat (3 state, 4 ppid, 6 session), in $FIELD (no
# subshell: the daemon must be found within milliseconds). The comm field holds no space for
# these processes ("containerd-shim").
stat_field() {
  local s f
  FIELD=
  { read -r s </proc/"$1"/stat; } 2>/dev/null || return 1
  read -r -a f <<<"${s##*) }"
  FIELD=${f[$2 - 3]}
}

# The pid of the shim daemon serving container $1, in $DAEMON (empty if none). The daemon
# leads a session of its own (start_action.cpp: setsid after the fork), `start` does not; a
# child the daemon forked may lead one too, but its parent is then such a shim. Its comm is
# `exe` (`start` re-executes /proc/self/exe). Only bash builtins: pgrep takes 100-200 ms on
# this loaded machine, longer than create and start.
find_shim_daemon() {
  local f s p rest args
  local -a fields leaders=()
  DAEMON=
  for f in /proc/[0-9]*/stat; do
    { read -r s <"$f"; } 2>/dev/null || continue
    [[ $s == *" (containerd-shim) "* || $s == *" (exe) "* ]] || continue
    p=${s%% *}
    read -r -a fields <<<"${s##*) }"
    [[ ${fields[3]} == "$p" ]] || continue
    { mapfile -d '' args <"/proc/$p/cmdline"; } 2>/dev/null || continue
    rest=" ${args[*]} "
    [[ $rest == *" -namespace $NS "* && $rest == *" -id $1 "* ]] || continue
    leaders+=("$p:${fields[1]}")
  done
  for s in "${leaders[@]}"; do
    [[ " ${leaders[*]} " == *" ${s#*:}:"* ]] && continue
    DAEMON=${s%%:*}
    return 0
  done
}

shim_daemon_of() {
  find_shim_daemon "$1"
  [[ -n $DAEMON ]] && echo "$DAEMON"
  return 0
}

# wait_socket PATH: bounded (10 s), in steps of 2 ms; `start` binds it just before the fork.
wait_socket() {
  local i
  for i in $(seq 5000); do
    [[ -S $1 ]] && return 0
    sleep 0.002
  done
  echo "no shim socket $1 appeared" >&2
  return 1
}

# Polls for container $1's shim daemon (bounded: 10 s), prints its pid.
wait_shim_daemon() {
  local i d
  for i in $(seq 1000); do
    d=$(shim_daemon_of "$1")
    [[ -n $d ]] && { echo "$d"; return 0; }
    sleep 0.01
  done
  echo "no shim daemon of $1 appeared" >&2
  return 1
}

wait_task() { ctr_wait_task "$NS" "$1" "$2"; }  # hack/lib-ctr.sh

# Processes whose cgroup (any hierarchy) is the container's: ctr puts container ID of
# namespace NS in /NS/ID.
processes_in_cgroup_of() {
  grep -lE "^[0-9]+:[^:]*:/$NS/$1(/.*)?\$" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3 || true
}

# leftovers_of ID SOCKET MARK: prints one line per thing of container ID still there, nothing
# if it is all gone: shim processes, processes in its cgroup or running `sleep MARK`, mounts
# under its bundle, its cgroup in any hierarchy (v1 and unified), hippo's state dir, the
# daemon's socket, containerd's bundle, task and container records.
leftovers_of() {
  local id=$1 socket=$2 mark=$3 bundle p d
  bundle=$(bundle_of "$id")
  for p in $(shim_processes_of "$id"); do
    # (a zombie is gone for our purposes: nothing here reaps orphans when PID 1 does not)
    stat_field "$p" 3 && [[ $FIELD != Z ]] && echo "shim process $p: $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline")"
  done
  for p in $(processes_in_cgroup_of "$id") $(pgrep -f "^sleep $mark\$"); do
    stat_field "$p" 3 && [[ $FIELD != Z ]] && echo "container process $p: $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline")"
  done
  grep -F "$bundle" /proc/self/mountinfo | sed 's/^/mount: /'
  for d in /sys/fs/cgroup/*/"$NS/$id" /sys/fs/cgroup/"$NS/$id"; do
    [[ -d $d ]] && echo "cgroup $d"
  done
  [[ -e $HSTATE/containerd/$NS/$id ]] && echo "state dir $HSTATE/containerd/$NS/$id"
  [[ -e $socket ]] && echo "socket $socket (held by: $(ss -xlpn 2>/dev/null | grep -F "$socket" | grep -o 'users:.*'))"
  [[ -e $bundle ]] && echo "bundle $bundle"
  hctr task ls -q 2>/dev/null | grep -qx "$id" && echo "containerd task $id"
  hctr containers ls -q 2>/dev/null | grep -qx "$id" && echo "containerd container $id"
  return 0
}

# assert_nothing_left ID SOCKET MARK: containerd's cleanup is asynchronous (it notices a dead
# shim when the connection closes); polls leftovers_of until empty (bounded: 10 s).
assert_nothing_left() {
  local i left
  for i in $(seq 100); do
    left=$(leftovers_of "$@")
    [[ -z $left ]] && return 0
    sleep 0.1
  done
  echo "leak after the fault of $1:" >&2
  echo "$left" >&2
  return 1
}

# Lets containerd clean container $1 up as a client would after a failure: delete the task
# (containerd runs the shim's `delete` for a dead shim) and the container. Both may already be
# gone (ctr run deletes its container when its task fails).
containerd_cleanup() {
  local id=$1 i
  for i in $(seq 50); do
    hctr task ls -q 2>/dev/null | grep -qx "$id" || break
    timeout 20 ctr -n "$NS" task delete -f "$id" >/dev/null 2>&1 || true
    sleep 0.1
  done
  timeout 20 ctr -n "$NS" containers delete "$id" >/dev/null 2>&1 || true
}
