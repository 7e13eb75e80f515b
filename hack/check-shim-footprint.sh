#!/usr/bin/env bash
# Fails if an idle shim daemon holds more private memory (USS = Private_Clean + Private_Dirty,
# what one more pod costs) than its budget (docs/architecture.md, "Shim memory"), or if the shim
# needs a shared library besides libc (binaries must run on hosts, and in the cgroup v2 VM, that
# have none of its build dependencies).
#
# Three daemons are started for real, the way containerd starts them: `start` in a bundle
# directory with a `log` FIFO, reading a config.yaml, forking the daemon, which serves its socket
# in /run/containerd/s and writes a debug line to the FIFO. Three, and the median is judged,
# because pods share the shim's text pages: alone, a daemon's USS would count its whole text
# (0.4-0.6 MB) as private, and now and then one daemon maps ~0.1 MB of text the others do not.
# They are measured once idle, then stopped with SIGTERM.
# Run by CTest (shim_footprint); exits 77 (skipped) when not root.
# Usage: hack/check-shim-footprint.sh SHIM_BINARY [BUDGET_KB]
set -euo pipefail
bin=$(realpath "${1:?usage: $0 SHIM_BINARY [BUDGET_KB]}")
# USS without the shim's clean text: 228-232 kB medians on this machine (RelWithDebInfo): see
# docs/architecture.md, "Shim memory".
budget_kb=${2:-${HIPPO_SHIM_USS_BUDGET_KB:-280}}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hack/lib-memory.sh
source "$root/hack/lib-memory.sh"

needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -vE '^(libc\.so\.6|ld-linux-x86-64\.so\.2)$' || true)
if [[ -n $needed ]]; then
  echo "$bin needs shared libraries besides libc:" $needed >&2
  exit 1
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "skipped: starting a shim daemon needs root (its socket lives in /run/containerd/s)"
  exit 77
fi

work=$(mktemp -d /tmp/hippo-shim-footprint.XXXXXX)
ns=footprint-$$
daemons=()
stop_daemon() {  # stop_daemon PID: SIGTERM, then SIGKILL if it has not exited within 5 s
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  return 1
}
cleanup() {
  for pid in "${daemons[@]}"; do stop_daemon "$pid" || true; done
  rm -rf -- "$work"
}
trap cleanup EXIT

printf 'log_level: info\ncgroup_driver: cgroupfs\nstate_root: %s/state\n' "$work" >"$work/config.yaml"

# start_daemon NAME FD: runs `start` for container NAME; the daemon's pid lands in daemons[],
# its log FIFO stays open on FD.
start_daemon() {
  local bundle=$work/$1 address pid
  mkdir "$bundle"
  mkfifo "$bundle/log"
  # Open for reading (and writing, so that the open does not wait) before the daemon opens it,
  # as containerd does: without a reader the daemon's non-blocking open would fail.
  eval "exec $2<>\"\$bundle/log\""
  address=$(cd "$bundle" && HIPPO_CONFIG=$work/config.yaml TTRPC_ADDRESS=$work/ttrpc.sock \
    "$bin" -namespace "$ns" -address "$work/$1.sock" -id "$1" -debug start </dev/null)
  pid=$(pgrep -f -- "-namespace $ns -address $work/$1.sock " || true)
  if [[ -z $pid || $address != unix:///run/containerd/s/* ]]; then
    echo "start printed \"$address\"; no daemon found" >&2
    exit 1
  fi
  daemons+=("$pid")
  # It runs without glibc's per-thread malloc cache: start re-executed itself with the tunable
  # (/proc/PID/environ is the environment the program was started with).
  if ! tr '\0' '\n' <"/proc/$pid/environ" | grep -q '^GLIBC_TUNABLES=.*glibc\.malloc\.tcache_count=0'; then
    echo "daemon $pid was not started with glibc.malloc.tcache_count=0" >&2
    exit 1
  fi
  echo "${address#unix://}" >"$bundle/socket"
}
start_daemon a 3
start_daemon b 4
start_daemon c 5

# Idle: a daemon gives memory back 0.5 s after its last activity.
sleep 1
measured=()
for pid in "${daemons[@]}"; do
  read -r rss pss uss <<<"$(memory_of "$pid")"
  cp "/proc/$pid/smaps" "$work/smaps.$pid"
  # The shim's own text, private only because no other daemon has touched those pages yet:
  # on a node every shim maps them, so one more pod does not cost them. Judged is USS without
  # them (a CI run saw 228, 312 and 364 kB of USS with the same ~228 kB of dirty pages: the
  # difference was that text). Its pages count as dirty, not clean, while the binary just
  # linked is not yet written back (smaps shows the page cache's dirty bit): right after a
  # build, 172 kB of text showed as Private_Dirty and the check failed at 328 kB. Text is
  # never written by the process, so both count as text.
  text=$(awk -v bin="$bin" '/^[0-9a-f]+-[0-9a-f]+ / {t = ($2 == "r-xp" && $6 == bin)}
    t && /^Private_(Clean|Dirty):/ {c += $2} END {print c + 0}' "$work/smaps.$pid")
  echo "idle shim daemon $pid: RSS $rss kB, PSS $pss kB, USS $uss kB ($text kB of it the shim's text)"
  measured+=("$((uss - text)) $pid")
done
# The median of three.
read -r uss pid < <(printf '%s\n' "${measured[@]}" | sort -n | sed -n 2p)
echo "median USS without the shim's text $uss kB (budget $budget_kb kB)"

for pid in "${daemons[@]}"; do
  stop_daemon "$pid" || { echo "daemon $pid did not exit on SIGTERM" >&2; exit 1; }
done
daemons=()
for name_fd in a:3 b:4 c:5; do
  name=${name_fd%:*} fd=${name_fd#*:}
  # Its log line came through the FIFO, as logrus text, and it removed its socket.
  while IFS= read -r -t 0.2 line <&"$fd"; do printf '%s\n' "$line"; done >"$work/$name.log"
  if ! grep -Eq '^time="[0-9-]{10}T[0-9:]{8}\.[0-9]{9}Z" level=debug msg="shim daemon [0-9]+ serving ' "$work/$name.log"; then
    echo "no logrus line from daemon $name in its log FIFO:" >&2
    cat "$work/$name.log" >&2
    exit 1
  fi
  socket=$(cat "$work/$name/socket")
  if [[ -e $socket ]]; then
    echo "daemon $name left its socket $socket" >&2
    rm -f -- "$socket"
    exit 1
  fi
done

if ((uss > budget_kb)); then
  echo "$bin: an idle daemon's USS without the shim's text, $uss kB, is over its budget of $budget_kb kB; its private mappings (kB):" >&2
  awk '/^[0-9a-f]+-[0-9a-f]+ / {name = $6 " " $2} /^Private_Clean:/ {c[name] += $2} /^Private_Dirty:/ {d[name] += $2}
       END {for (m in c) if (c[m] + d[m]) printf "%6d (clean %d, dirty %d) %s\n", c[m] + d[m], c[m], d[m], m}' \
    "$work/smaps.$pid" | sort -rn | head -12 >&2
  exit 1
fi
