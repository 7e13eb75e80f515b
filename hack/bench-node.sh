#!/usr/bin/env bash
# Benchmark (not a test): shim memory per pod and start latency against the number of pods, for
# hippo's two groupings (config.yaml `grouping: pod`, one daemon per pod; `grouping: node`, one
# daemon for all) and containerd-shim-runc-v2 + runc, in one private containerd. A "pod" here is
# one sleeping container started with `ctr run -d`. At each count N it reports the memory of all
# of that runtime's shims divided by N (RSS, PSS, USS; hack/lib-memory.sh) and the median time of
# the `ctr run -d` calls that brought it from the previous count to N; then `ctr run --rm
# /bin/true` per runtime (hyperfine). Writes the table to OUT.tsv and plots OUT.svg (gnuplot).
# Usage: hack/bench-node.sh [BUILD_DIR] [OUT] [N...]   (default N: 1 10 50 200)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out=${2:-$root/docs/perf/node-mode}
shift $(( $# > 2 ? 2 : $# ))
counts=("${@:-1 10 50 200}")
read -r -a counts <<<"${counts[*]}"
work=$(mktemp -d /tmp/hippo-bench-node.XXXXXX)
image=docker.io/hippo/busybox:latest
# containerd's state, hippo's state roots, runc's root and the FIFOs on containerd's state
# tmpfs, as under /run on a host (hack/bench-shim.sh says why).
run=$work/ctrd/state/bench
export CONTAINERD_ADDRESS=$work/ctrd/containerd.sock HIPPO_CONFIG=$work/hippo.yaml
export HIPPO_CONTAINERD_STATE_TMPFS=1
modes=(pod node runc)

# shellcheck source=hack/lib-ctr.sh
source "$root/hack/lib-ctr.sh"
# shellcheck source=hack/lib-memory.sh
source "$root/hack/lib-memory.sh"

command -v gnuplot >/dev/null || { apt-get install -y -qq gnuplot-nox >/dev/null 2>&1 ||
  echo "bench-node: gnuplot-nox could not be installed: no plot" >&2; }

cleanup() {
  for m in "${modes[@]}"; do ctr_remove_all "bn-$m-$$"; done
  "$root/hack/private-containerd.sh" stop "$work/ctrd" >/dev/null 2>&1 || true
  for m in "${modes[@]}"; do rmdir /sys/fs/cgroup/*/"bn-$m-$$" 2>/dev/null || true; done
  rm -rf --one-file-system -- "$work"
}
trap cleanup EXIT

# config.yaml is read by every `start`: the mode's grouping, its own state root.
use_mode() {
  printf 'grouping: %s\nstate_root: %s/state-%s\n' "${1/runc/pod}" "$run" "$1" >"$HIPPO_CONFIG"
}
runtime_of() {
  if [[ $1 == runc ]]; then
    echo "--runtime io.containerd.runc.v2 --runc-root $run/runc"
  else
    echo "--runtime io.containerd.hippo.v2"
  fi
}

"$root/hack/make-test-images.sh" "$build/images" >/dev/null
use_mode pod
PATH=$build/bin:$PATH "$root/hack/private-containerd.sh" start "$work/ctrd" >/dev/null
for m in "${modes[@]}"; do ctr -n "bn-$m-$$" images import "$build/images/busybox-oci.tar" >/dev/null; done

# Node mode's adoption record lives in a memfd that the keeper and the daemon share
# (shim/snapshot.hpp, docs/containerd.md): no process maps more of it than its first page, so
# no PSS shows it. Its allocated pages, counted once, go into the node's RSS, PSS and USS.
record_kb() {  # record_kb NS: kB allocated to the adoption record memfds of namespace NS's shims
  local p
  for p in $(pgrep -f "containerd-shim-hippo-v2 .*-namespace $1 " || true); do
    find "/proc/$p/fd" -lname '/memfd:hippo-adoption*' -exec stat -L -c '%i %b %B' {} + 2>/dev/null
  done | sort -u | awk '{kb += $2 * $3 / 1024} END {printf "%d", kb}'
}

shim_memory() {  # shim_memory MODE: "SHIMS RSS PSS USS" summed in kB over that mode's shims
  local name=containerd-shim-hippo-v2 shims rss pss uss record=0
  [[ $1 != runc ]] || name=containerd-shim-runc-v2
  read -r shims rss pss uss <<<"$(shims_memory "$name" "bn-$1-$$")"
  [[ $1 != node ]] || record=$(record_kb "bn-$1-$$")
  echo "$shims $((rss + record)) $((pss + record)) $((uss + record))"
}

median_ms() { sort -n | awk '{a[NR] = $1} END {if (NR) printf "%.1f", a[int((NR + 1) / 2)]; else print 0}'; }

printf '# N\tmode\tshims\tRSS_per_pod_kB\tPSS_per_pod_kB\tUSS_per_pod_kB\tstart_ms\n' >"$out.tsv"
printf '%5s  %-5s %6s %14s %14s %14s %10s\n' N mode shims "RSS/pod kB" "PSS/pod kB" "USS/pod kB" "start ms"
for m in "${modes[@]}"; do
  use_mode "$m"
  ns=bn-$m-$$ started=0
  read -r -a rt <<<"$(runtime_of "$m")"
  for n in "${counts[@]}"; do
    : >"$work/times"
    while ((started < n)); do
      t0=$(date +%s%N)
      ctr -n "$ns" run -d "${rt[@]}" --fifo-dir "$run/fifo" "$image" "p$started" sleep 100000 >/dev/null
      echo $(( ($(date +%s%N) - t0) / 1000 )) | awk '{print $1 / 1000}' >>"$work/times"
      started=$((started + 1))
    done
    sleep 1  # steady state: a hippo shim gives memory back 0.5 s after its last request
    read -r shims rss pss uss <<<"$(shim_memory "$m")"
    ms=$(median_ms <"$work/times")
    row=$(awk -v n="$n" -v m="$m" -v s="$shims" -v r="$rss" -v p="$pss" -v u="$uss" -v t="$ms" \
      'BEGIN {printf "%d\t%s\t%d\t%.1f\t%.1f\t%.1f\t%s", n, m, s, r / n, p / n, u / n, t}')
    printf '%s\n' "$row" >>"$out.tsv"
    awk -F'\t' '{printf "%5s  %-5s %6s %14s %14s %14s %10s\n", $1, $2, $3, $4, $5, $6, $7}' <<<"$row"
  done
  ctr_remove_all "$ns"
done

# Start latency with no pod running: hippo per pod, hippo node (its daemon is already up), runc.
for m in pod node runc; do
  use_mode "$m"
  read -r -a rt <<<"$(runtime_of "$m")"
  hyperfine -N --warmup 3 --runs 30 --export-json "$work/run-$m.json" \
    -n "$m" "ctr -n bn-$m-$$ run --rm ${rt[*]} --fifo-dir $run/fifo $image r-$m /bin/true" >/dev/null
done
for m in pod node; do
  jq -rs --arg m "$m" '(.[0].results[0].median) as $h | (.[1].results[0].median) as $r
    | "ctr run --rm /bin/true, hippo \($m) mode: \($h * 10000 | round / 10) ms, runc-v2 \($r * 10000 | round / 10) ms, ratio \($h / $r * 100 | round / 100)"' \
    "$work/run-$m.json" "$work/run-runc.json"
done

# The node-mode goal: memory per pod at the largest N against runc-v2's PSS per shim.
last=${counts[-1]}
awk -F'\t' -v n="$last" '$1 == n && $2 == "node" {node = $5} $1 == n && $2 == "runc" {runc = $5}
  END {if (runc) printf "node mode PSS per pod at %d pods: %.1f kB = %.4f x runc-v2 PSS per shim (%.0f kB)\n", n, node, node / runc, runc}' "$out.tsv"

if command -v gnuplot >/dev/null; then
  for m in "${modes[@]}"; do awk -F'\t' -v m="$m" '$2 == m' "$out.tsv" >"$work/$m.dat"; done
  gnuplot -e "set terminal svg size 900,420 dynamic font 'sans,11'; set output '$out.svg';
    set multiplot layout 1,2; set logscale x; set logscale y; set key top right;
    set xlabel 'pods (sleeping containers)'; set ylabel 'kB';
    set title 'shim memory per pod (PSS)';
    plot '$work/pod.dat' using 1:5 with linespoints title 'hippo, grouping: pod',
         '$work/node.dat' using 1:5 with linespoints title 'hippo, grouping: node',
         '$work/runc.dat' using 1:5 with linespoints title 'runc-v2';
    unset logscale y; set ylabel 'ms'; set title 'ctr run -d, median time to start a pod';
    plot '$work/pod.dat' using 1:7 with linespoints title 'hippo, grouping: pod',
         '$work/node.dat' using 1:7 with linespoints title 'hippo, grouping: node',
         '$work/runc.dat' using 1:7 with linespoints title 'runc-v2';
    unset multiplot"
  echo "plot: $out.svg"
fi
