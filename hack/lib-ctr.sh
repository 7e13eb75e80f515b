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
