#!/usr/bin/env bash
# Churn soak (issue 18): N container lifecycles through a private containerd with the runtime
# io.containerd.hippo.v2, then an account of what they left behind, which must be nothing.
#
# Each lifecycle is create, start, exec, kill, delete through ctr. Four kinds take turns:
#   plain   sleep as init; an exec prints a line; SIGKILL
#   tty     init on a terminal (`ctr run -t` under script(1)); an exec on a terminal; SIGKILL
#   logger  stdout to a binary:// logger, which must get the line and exit after EOF
#   oom     a 32 MiB memory limit; an exec lets the init allocate until the kernel kills it (137)
# and each kind runs in turns in the long-lived grouped shim (group annotation, anchored by one
# container running the whole soak) and in a shim of its own.
#
# Leak accounting (hack/lib-soak-leaks.sh): shims, container processes, shim children, loggers,
# zombies, mounts, cgroups below /NS in every hierarchy, hippo's and containerd's state dirs;
# before the loop (the anchor's share), after it (must be equal) and after the anchor is gone
# (must be zero). The grouped shim's fd count (after warm-up vs end: equal) and USS/PSS every
# K lifecycles. Flat means the last sample's dirty USS (Private_Dirty) and anonymous PSS
# (Pss_Anon) are at most the first's after warm-up + USS_BOUND_KB, PSS_BOUND_KB: the clean
# text pages in whole USS and PSS jump by megabytes as other shims of the same binary come and
# go (the soak's own separate shims, any test's), which no leak does; both are reported.
#
# Usage: hack/soak.sh [BUILD_DIR] [--iterations N] [--short] [--sample-every K]
#          [--report FILE] [--update-doc FILE] [--inject-leak KIND[,KIND...]] [--systemd]
#   --short        30 lifecycles (each kind in each shim mode, several times): CI's version
#   --report FILE  the markdown results table (default: BUILD_DIR/soak-report.md)
#   --update-doc FILE  also put the table between FILE's soak markers (docs/reliability.md)
#   --inject-leak  leaves one leak of each KIND (mount, process, cgroup; unit with --systemd)
#                  behind during the loop:
#                  proves the accounting fails (integration/soak.bats uses it)
#   --systemd      the systemd cgroup driver: the whole soak runs inside a real systemd booted
#                  in namespaces (hack/systemd-sandbox.sh; or this host's, if PID 1 is systemd),
#                  each container in its own scope unit, and the units are counted too
# Env: SOAK_USS_BOUND_KB (128), SOAK_PSS_BOUND_KB (256), SOAK_SETTLE_SECONDS (15), HIPPO_TEST_IMAGES (prebuilt images).
# Exit status: 0 when nothing leaked and every lifecycle did what it should, else 1.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hack/lib-memory.sh
source "$root/hack/lib-memory.sh"
# shellcheck source=hack/lib-ctr.sh
source "$root/hack/lib-ctr.sh"
# shellcheck source=hack/lib-soak-leaks.sh
source "$root/hack/lib-soak-leaks.sh"
# shellcheck source=hack/lib-soak-lifecycle.sh
source "$root/hack/lib-soak-lifecycle.sh"

build=$root/build
iterations=1000
sample_every=50
warmup=16
report=
update_doc=
inject=
systemd=0
# How much the grouped shim's dirty USS and anonymous PSS may grow from the first sample after
# warm-up to the last. Measured over 1000 lifecycles (docs/reliability.md): they step between
# values up to 72 kB apart (a block the allocator takes and gives back). A leak of 128 bytes a
# lifecycle exceeds the bound over 1000 lifecycles.
USS_BOUND_KB=${SOAK_USS_BOUND_KB:-128}
PSS_BOUND_KB=${SOAK_PSS_BOUND_KB:-256}
# How long what exits asynchronously (a shim after its last container, a logger after EOF) may
# take before the counters are read.
SETTLE_SECONDS=${SOAK_SETTLE_SECONDS:-15}

usage() {
  sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

parse_args() {
  while (($#)); do
    case $1 in
      --iterations) iterations=${2:?}; shift ;;
      --short) iterations=30 sample_every=5 warmup=8 ;;
      --sample-every) sample_every=${2:?}; shift ;;
      --report) report=${2:?}; shift ;;
      --update-doc) update_doc=${2:?}; shift ;;
      --inject-leak) inject=${2:?}; shift ;;
      --systemd) systemd=1 ;;
      -h | --help) usage ;;
      -*) echo "soak: unknown option $1" >&2; usage ;;
      *) build=$1 ;;
    esac
    shift
  done
  [[ $iterations =~ ^[1-9][0-9]*$ ]] || { echo "soak: --iterations needs a positive number" >&2; exit 2; }
  [[ $sample_every =~ ^[1-9][0-9]*$ ]] || { echo "soak: --sample-every needs a positive number" >&2; exit 2; }
  [[ $inject =~ ^((mount|process|cgroup|unit)(,|$))*$ ]] || { echo "soak: --inject-leak takes mount, process, cgroup, unit (comma-separated)" >&2; exit 2; }
  [[ $inject != *unit* ]] || ((systemd)) || { echo "soak: --inject-leak unit needs --systemd" >&2; exit 2; }
  build=$(cd "$build" && pwd)
  [[ -x $build/bin/containerd-shim-hippo-v2 ]] || { echo "soak: no $build/bin/containerd-shim-hippo-v2 (build first)" >&2; exit 1; }
  report=${report:-$build/soak-report.md}
  # Absolute: with --systemd the script runs again inside the sandbox, from another directory.
  report=$(realpath -m "$report")
  [[ -z $update_doc ]] || update_doc=$(realpath -m "$update_doc")
  ((warmup < iterations)) || warmup=0
}

# --- the private containerd and its teardown -----------------------------------------------

WORK=
NS=soak-$$-$RANDOM
injected_pid=

setup_containerd() {
  WORK=$(mktemp -d /tmp/hippo-soak.XXXXXX)
  SOCK=$WORK/ctrd/containerd.sock
  CTRD_PID_FILE=$WORK/ctrd/containerd.pid
  LOGGER=$WORK/logger.sh
  IMAGE=docker.io/hippo/busybox:latest
  printf 'state_root: %s/hippo-state\n' "$WORK" >"$WORK/hippo.yaml"
  ((systemd == 0)) || echo 'cgroup_driver: systemd' >>"$WORK/hippo.yaml"
  write_logger "$LOGGER"
  # HIPPO_TEST_IMAGES: images built once for several runs (integration/soak.bats), read only.
  local images=${HIPPO_TEST_IMAGES:-$WORK/images}
  [[ -f $images/busybox-oci.tar ]] || "$root/hack/make-test-images.sh" "$images" >/dev/null
  # containerd finds containerd-shim-hippo-v2 on its PATH; the shim inherits HIPPO_CONFIG.
  HIPPO_CONFIG=$WORK/hippo.yaml PATH=$build/bin:$PATH \
    "$root/hack/private-containerd.sh" start "$WORK/ctrd" >/dev/null
  export CONTAINERD_ADDRESS=$SOCK
  hctr images import "$images/busybox-oci.tar" >/dev/null
}

teardown() {
  [[ -n $WORK ]] || return 0
  if [[ -n $injected_pid ]]; then
    kill -KILL "$injected_pid" 2>/dev/null || true
    wait "$injected_pid" 2>/dev/null || true
  fi
  [[ -d $WORK/injected ]] && umount "$WORK/injected" 2>/dev/null || true
  "$root/hack/private-containerd.sh" stop "$WORK/ctrd" >/dev/null 2>&1 || true
  local d
  # Deepest first: what a failed run left below /NS, then /NS itself.
  for d in $(soak_cgroups | sort -r) /sys/fs/cgroup/*/"$NS"; do
    [[ -d $d ]] && rmdir "$d" 2>/dev/null || true
  done
  rm -rf --one-file-system -- "$WORK"
}

# --inject-leak: what a buggy shim could leave, placed where the accounting looks.
inject_leak() {
  local kind
  for kind in ${inject//,/ }; do inject_one_leak "$kind"; done
}

inject_one_leak() {
  case $1 in
    mount)
      mkdir -p "$WORK/injected"
      mount -t tmpfs soak-injected "$WORK/injected"
      ;;
    cgroup) mkdir -p "/sys/fs/cgroup/pids/$NS/injected" ;;
    process)
      mkdir -p "/sys/fs/cgroup/pids/$NS/injected"
      # (no fd of ours: a bats `run` must not wait for it)
      # shellcheck disable=SC2217
      sleep 1000 </dev/null >/dev/null 2>&1 &
      injected_pid=$!
      echo "$injected_pid" >"/sys/fs/cgroup/pids/$NS/injected/cgroup.procs"
      ;;
    unit)
      # A scope unit named like the containers' (a process of it in a soak scope, too).
      systemd-run --quiet --scope --slice system.slice --unit "soak-$NS-injected" \
        sleep 1000 </dev/null >/dev/null 2>&1 &
      injected_pid=$!
      ;;
  esac
  echo "soak: injected a $1 leak" >&2
}

# --- memory and fds of the grouped shim ----------------------------------------------------

mem_samples=() # "ITERATION FDS RSS PSS USS DIRTY ANON"

sample_group_shim() {
  local it=$1 fds
  fds=$(ls "/proc/$group_shim/fd" | wc -l)
  mem_samples+=("$it $fds $(memory_of "$group_shim") $(leak_memory_of "$group_shim")")
}

# --- the run --------------------------------------------------------------------------------

declare -A before after final zero kind_seconds kind_runs
failures=0
failed_ids=()

run_loop() {
  local i kind mode id t0 t1
  for ((i = 1; i <= iterations; i++)); do
    kind=${KINDS[$(((i - 1) / 2 % ${#KINDS[@]}))]}
    mode=separate
    ((i % 2)) && mode=grouped
    id=s$i-$kind-$mode
    t0=$EPOCHREALTIME
    if ! lifecycle "$kind" "$mode" "$id"; then
      failures=$((failures + 1))
      failed_ids+=("$id")
      remove_container "$id"
    fi
    t1=$EPOCHREALTIME
    kind_seconds[$kind]=$(awk -v a="${kind_seconds[$kind]:-0}" -v s="$t0" -v e="$t1" 'BEGIN {printf "%.3f", a + e - s}')
    kind_runs[$kind]=$((${kind_runs[$kind]:-0} + 1))
    ((i == warmup)) && sample_group_shim "$i"
    ((i > warmup && (i - warmup) % sample_every == 0)) && sample_group_shim "$i"
    ((i % 100 == 0)) && echo "soak: $i/$iterations lifecycles, $failures failed" >&2
    [[ -n $inject && $i -eq 1 ]] && inject_leak
  done
  # The last sample is always taken at the end of the loop.
  [[ ${mem_samples[-1]%% *} == "$iterations" ]] || sample_group_shim "$iterations"
}

# --systemd on a host whose PID 1 is not systemd: this script again, inside a sandbox of its
# own, where containerd, the shims and every counter see that systemd's world.
run_in_sandbox() {
  export SANDBOX_NAME=hippo-soak-$$
  export SANDBOX_SHARE="$root $build"
  local sandbox=$root/hack/systemd-sandbox.sh rc=0
  "$sandbox" start >/dev/null || { echo "soak: the systemd sandbox did not start" >&2; return 1; }
  "$sandbox" run env SOAK_IN_SANDBOX=1 PATH="$PATH" bash "$root/hack/soak.sh" "$@" || rc=$?
  "$sandbox" stop >/dev/null 2>&1 || true
  return "$rc"
}

main() {
  parse_args "$@"
  if ((systemd)) && [[ -z ${SOAK_IN_SANDBOX:-} && ! -d /run/systemd/system ]]; then
    run_in_sandbox "$@"
    return
  fi
  soak_scope "$systemd"
  trap teardown EXIT
  setup_containerd
  for c in "${LEAK_COUNTERS[@]}"; do zero[$c]=0; done
  local start=$SECONDS
  # The anchor keeps the grouped shim alive across the loop.
  start_anchor
  group_shim=$(pgrep -f -- "containerd-shim-hippo-v2 -namespace $NS .*-id $ANCHOR ")
  snapshot_leaks before
  ((warmup > 0)) || sample_group_shim 0
  local loop_start=$EPOCHREALTIME
  run_loop
  loop_seconds=$(awk -v s="$loop_start" -v e="$EPOCHREALTIME" 'BEGIN {printf "%.1f", e - s}')
  settle_leaks after before "$SETTLE_SECONDS" || true
  stop_anchor || failures=$((failures + 1))
  settle_leaks final zero "$SETTLE_SECONDS" || true
  total_seconds=$((SECONDS - start))
  write_report >"$report"
  cat "$report"
  [[ -z $update_doc ]] || splice_into_doc "$report" "$update_doc"
  [[ $verdict == PASS ]]
}

# shellcheck source=hack/lib-soak-report.sh
source "$root/hack/lib-soak-report.sh"
# (on one line: bash reads a script as it runs it, and nothing after main may be read)
main "$@"; exit
