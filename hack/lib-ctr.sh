# Sourced by hack/ scripts and Bats suites that drive a private containerd with ctr.

# ctr_remove_all NS: kills and removes every task and container of namespace NS.
ctr_remove_all() {
  local ns=$1 id
  for id in $(ctr -n "$ns" containers ls -q 2>/dev/null); do
    ctr -n "$ns" task kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    ctr -n "$ns" task delete -f "$id" >/dev/null 2>&1 || true
    ctr -n "$ns" containers delete "$id" >/dev/null 2>&1 || true
  done
}

# ctr_task_status NS ID: the STATUS column of task ID in `ctr task ls` (empty: no such task).
ctr_task_status() {
  timeout 60 ctr -n "$1" task ls 2>/dev/null | awk -v id="$2" '$1 == id {print $3}'
}

# ctr_wait_task NS ID STATUS [SECONDS]: polls until task ID is in STATUS, for at most SECONDS
# (default 10); otherwise says what it was and fails.
ctr_wait_task() {
  local i
  for ((i = 0; i < ${4:-10} * 10; i++)); do
    [[ $(ctr_task_status "$1" "$2") == "$3" ]] && return 0
    sleep 0.1
  done
  echo "task $2 never reached $3 (now: $(ctr_task_status "$1" "$2"))" >&2
  return 1
}
