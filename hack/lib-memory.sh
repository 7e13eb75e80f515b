# Sourced by hack/ scripts that report a process's memory.

# memory_of PID: "RSS PSS USS" in kB, from /proc/PID/smaps_rollup. RSS counts every resident
# page the process maps, including the text and libraries it shares with every other process
# of the same binary; PSS divides each page by the number of processes mapping it; USS
# (Private_Clean + Private_Dirty) is what only this process holds: what one more shim costs.
memory_of() {
  awk '/^Rss:/ {r = $2} /^Pss:/ {p = $2} /^Private_(Clean|Dirty):/ {u += $2}
       END {print r + 0, p + 0, u + 0}' "/proc/$1/smaps_rollup"
}

# leak_memory_of PID: "DIRTY ANON" in kB: Private_Dirty (the part of USS a leak grows: heap,
# stacks, written data) and Pss_Anon (the PSS of anonymous memory; Anonymous on kernels
# without it). Neither moves when another process of the same binary starts or exits, which
# turns the clean text pages from private to shared and back (whole megabytes of USS and PSS).
leak_memory_of() {
  awk '/^Private_Dirty:/ {d = $2} /^Pss_Anon:/ {p = $2; has = 1} /^Anonymous:/ {a = $2}
       END {print d + 0, (has ? p : a) + 0}' "/proc/$1/smaps_rollup"
}

# shims_memory NAME NAMESPACE: "COUNT RSS PSS USS", sums in kB over the processes of shim
# binary NAME serving containerd namespace NAMESPACE.
shims_memory() {
  local p
  for p in $(pgrep -f "$1 .*-namespace $2 " || true); do memory_of "$p"; done |
    awk '{r += $1; p += $2; u += $3; n++} END {printf "%d %d %d %d\n", n, r, p, u}'
}
