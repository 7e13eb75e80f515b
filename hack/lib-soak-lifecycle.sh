# shellcheck shell=bash
# Sourced by hack/soak.sh: one container lifecycle of each kind through ctr.
# Needs: NS, WORK, IMAGE, LOGGER. Each step either succeeds or says what went wrong and returns
# 1 (callers test the status: set -e does not apply inside a function called by `if`).

KINDS=(plain tty logger oom)
GROUP_ANNOTATION=io.containerd.hippo.v2.group=soak
ANCHOR=anchor

# Every ctr call is bounded, so a hung shim fails the soak instead of stalling it.
hctr() {
  timeout 60 ctr -n "$NS" "$@"
}

hrun() {
  hctr run --runtime io.containerd.hippo.v2 --fifo-dir "$WORK/fifo" "$@"
}

# The first reasons go into the verdict too: CI shows only the tail of the output.
fail_reasons=()
fail() {
  echo "soak: $*" >&2
  ((${#fail_reasons[@]} >= 3)) || fail_reasons+=("$*")
  return 1
}

# mode_flags MODE: the ctr run flags that put a container in the grouped shim, or none.
mode_flags() {
  [[ $1 == grouped ]] && echo "--annotation $GROUP_ANNOTATION"
  return 0
}

# cgroup_flags ID: with the systemd driver, the container's scope unit soak-NS-ID.scope in
# system.slice (the slice:prefix:name form CRI passes); nothing with cgroupfs (/NS/ID).
cgroup_flags() {
  ((${systemd:-0})) && echo "--cgroup system.slice:soak-$NS:$1"
  return 0
}

task_status() { ctr_task_status "$NS" "$1"; }  # hack/lib-ctr.sh

# wait_task ID STATUS: bounded poll (20 s).
wait_task() {
  local why
  why=$(ctr_wait_task "$NS" "$1" "$2" 20 2>&1) || fail "$why"
}

# exec_prints ID TEXT: an exec that must print TEXT. Its exit must not reach ctr before ctr has
# read the output (ctr 1.6 deletes an exec as soon as its exit arrives; docs/reliability.md).
exec_prints() {
  local out
  out=$(hctr task exec --fifo-dir "$WORK/fifo" --exec-id e1 "$1" echo "$2" 2>&1) ||
    fail "exec in $1: $out" || return 1
  [[ $out == "$2" ]] || fail "exec in $1 printed '$out', not '$2'"
}

# kill_and_delete ID WANT_STATUS: SIGKILL (unless it already stopped), then delete the task,
# whose exit status must be WANT_STATUS, and the container.
kill_and_delete() {
  local id=$1 want=$2 out
  [[ $(task_status "$id") == STOPPED ]] || hctr task kill -s SIGKILL "$id" || fail "kill $id" || return 1
  wait_task "$id" STOPPED || return 1
  out=$(hctr task delete "$id" 2>&1) || fail "task delete $id: $out" || return 1
  # ctr prints a warning naming the status when it is not 0.
  [[ $out == *"exit code $want"* ]] || fail "task $id: exit status is not $want: $out" || return 1
  hctr containers delete "$id" || fail "containers delete $id"
}

lifecycle_plain() {
  local mode=$1 id=$2
  # shellcheck disable=SC2046
  hrun -d $(mode_flags "$mode") $(cgroup_flags "$id") "$IMAGE" "$id" sleep 1000 >/dev/null || fail "run $id" || return 1
  wait_task "$id" RUNNING || return 1
  exec_prints "$id" "exec-$id" || return 1
  kill_and_delete "$id" 137
}

# tty: `ctr run -t --rm` needs a terminal on its side: script(1) gives it one and runs it in
# the background until the init is killed; ctr then deletes the task and the container itself.
# `timeout --foreground` inside script: a plain timeout moves itself into a process group of its
# own, so ctr's tcsetattr on the pty stops it with SIGTTOU, unless script's shell happened to
# exec timeout as the session leader (bash does, dash does not: with SHELL unset, as on CI's
# machine, every tty lifecycle hung until its wait gave up).
lifecycle_tty() {
  local mode=$1 id=$2 bg i
  script -qec "timeout --foreground 60 ctr -n $NS run --runtime io.containerd.hippo.v2 --fifo-dir $WORK/fifo -t --rm $(mode_flags "$mode") $(cgroup_flags "$id") $IMAGE $id sleep 1000" \
    /dev/null </dev/null >"$WORK/$id.tty.out" 2>&1 &
  bg=$!
  if ! tty_exec_and_kill "$id"; then
    # Reap the background ctr too: a failed lifecycle must not show up as a zombie.
    remove_container "$id"
    kill "$bg" 2>/dev/null || true
    wait "$bg" 2>/dev/null || true
    return 1
  fi
  wait "$bg" || true
  for i in $(seq 100); do
    hctr containers ls -q | grep -qx "$id" || break
    sleep 0.1
  done
  ! hctr containers ls -q | grep -qx "$id" || fail "ctr run --rm left container $id: $(cat "$WORK/$id.tty.out")" || return 1
  rm -f "$WORK/$id.tty.out"
}

tty_exec_and_kill() {
  local id=$1 out
  wait_task "$id" RUNNING || return 1
  out=$(script -qec "timeout --foreground 60 ctr -n $NS task exec -t --fifo-dir $WORK/fifo --exec-id e1 $id tty" /dev/null </dev/null 2>&1) ||
    fail "exec -t in $id: $out" || return 1
  [[ $out == *"/dev/pts/"* ]] || fail "exec -t in $id printed '$out', not a /dev/pts path" || return 1
  hctr task kill -s SIGKILL "$id" || fail "kill $id"
}

# logger: the logger gets the init's line on its fd 3 and exits once the shim closes it.
lifecycle_logger() {
  local mode=$1 id=$2 dir=$WORK/logs/$2 i
  mkdir -p "$dir"
  # shellcheck disable=SC2046
  hrun -d $(mode_flags "$mode") $(cgroup_flags "$id") --log-uri "binary://$LOGGER?dir=$dir" "$IMAGE" "$id" \
    sh -c "echo logged-$id; exec sleep 1000" >/dev/null || fail "run $id" || return 1
  wait_task "$id" RUNNING || return 1
  exec_prints "$id" "exec-$id" || return 1
  kill_and_delete "$id" 137 || return 1
  for i in $(seq 100); do
    grep -qx "logged-$id" "$dir/stdout" 2>/dev/null && ! pgrep -f -- "$LOGGER?dir=$dir" >/dev/null && break
    sleep 0.1
  done
  grep -qx "logged-$id" "$dir/stdout" 2>/dev/null || fail "logger of $id did not get its line" || return 1
  ! pgrep -f -- "$LOGGER?dir=$dir" >/dev/null || fail "logger of $id still runs after delete" || return 1
  rm -rf "$dir"
}

# oom: the init allocates once an exec says so (so the exec finds it running), and the kernel
# kills it at the 32 MiB limit (no swap here): the exit status is 137 without any kill.
lifecycle_oom() {
  local mode=$1 id=$2
  # shellcheck disable=SC2046
  hrun -d $(mode_flags "$mode") $(cgroup_flags "$id") --memory-limit 33554432 "$IMAGE" "$id" \
    sh -c 'while [ ! -e /tmp/go ]; do sleep 0.05; done; tail /dev/zero' >/dev/null || fail "run $id" || return 1
  wait_task "$id" RUNNING || return 1
  hctr task exec --fifo-dir "$WORK/fifo" --exec-id e1 "$id" touch /tmp/go || fail "exec in $id" || return 1
  wait_task "$id" STOPPED || return 1
  kill_and_delete "$id" 137
}

# lifecycle KIND MODE ID
lifecycle() {
  "lifecycle_$1" "$2" "$3"
}

# What a failed lifecycle left in containerd, removed so the next one starts clean (the leak
# accounting still sees anything containerd does not know of).
remove_container() {
  hctr task kill -s SIGKILL "$1" >/dev/null 2>&1 || true
  hctr task delete -f "$1" >/dev/null 2>&1 || true
  hctr containers delete "$1" >/dev/null 2>&1 || true
}

start_anchor() {
  hrun -d --annotation "$GROUP_ANNOTATION" $(cgroup_flags "$ANCHOR") "$IMAGE" "$ANCHOR" sleep 100000 >/dev/null || fail "run $ANCHOR" || return 1
  wait_task "$ANCHOR" RUNNING
}

stop_anchor() {
  kill_and_delete "$ANCHOR" 137
}

# write_logger FILE: a binary:// logger that copies stdout (fd 3) and stderr (fd 4) into the
# dir named by its URI query (args: dir DIR), after closing its readiness fd 5.
write_logger() {
  cat >"$1" <<'SH'
#!/bin/sh
exec 5>&-
cat <&3 >"$2/stdout" &
cat <&4 >"$2/stderr" &
wait
SH
  chmod +x "$1"
}
