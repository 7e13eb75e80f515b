# Sourced by hack/ scripts that report a process's memory.

# memory_of PID: "RSS PSS USS" in kB, from /proc/PID/smaps_rollup. RSS counts every resident
# page the process maps, including the text and libraries it shares with every other process
# of the same binary; PSS divides each page by the number of processes mapping it; USS
# (Private_Clean + Private_Dirty) is what only this process holds: what one more shim costs.
memory_of() {
  awk '/^Rss:/ {r = $2} /^Pss:/ {p = $2} /^Private_(Clean|Dirty):/ {u += $2}
       END {print r + 0, p + 0, u + 0}' "/proc/$1/smaps_rollup"
}
