# shellcheck shell=bash
# Sourced by hack/soak.sh: counts what the soak's containers can leave behind on the host.
# Every count is scoped to the soak's own containerd (SOCK, under WORK), its namespace NS and its
# logger (LOGGER), so other users of the machine never show up in it.
# Needs: NS, WORK, SOCK, LOGGER, CTRD_PID_FILE.

# The counters, in report order; leak_count NAME prints one of them.
LEAK_COUNTERS=(shims container_procs shim_children loggers zombies mounts cgroups
  hippo_state containerd_state)
# Where the containers' cgroups are: below /NS (cgroupfs driver), or the scope units
# soak-NS-ID.scope in system.slice (systemd driver, cgroupsPath system.slice:soak-NS:ID).
CG_PARENT=
CG_GLOB=

# soak_scope SYSTEMD: sets the cgroup places for the driver (1: systemd) and adds the units
# counter for it.
soak_scope() {
  if (($1)); then
    CG_PARENT=system.slice CG_GLOB="soak-$NS-*.scope"
    LEAK_COUNTERS+=(units)
    LEAK_LABEL[container_procs]="processes in a soak-\$NS-*.scope cgroup"
    LEAK_LABEL[cgroups]="soak-\$NS-*.scope cgroup dirs, every v1 hierarchy + unified"
  else
    CG_PARENT=$NS CG_GLOB="*"
  fi
}

declare -A LEAK_LABEL=(
  [shims]="hippo shim daemons of this containerd"
  [container_procs]="processes in a cgroup below /\$NS"
  [shim_children]="children of those shims"
  [loggers]="binary:// logger processes"
  [zombies]="zombies of containerd, the shims or the soak"
  [mounts]="mountinfo lines naming the soak's dir or /\$NS/"
  [cgroups]="cgroup dirs below /\$NS, every v1 hierarchy + unified"
  [hippo_state]="hippo state dirs (state_root/containerd/\$NS)"
  [containerd_state]="containerd task dirs of \$NS"
  [units]="systemd units soak-\$NS-* (any state)"
)

# soak_shim_pids: the live shim daemons serving namespace NS (a zombie has no cmdline).
soak_shim_pids() {
  pgrep -f -- "containerd-shim-hippo-v2 -namespace $NS " || true
}

# pids_in_ns_cgroups: processes whose cgroup, in any hierarchy, is a container's of the soak.
pids_in_ns_cgroups() {
  if [[ $CG_PARENT == "$NS" ]]; then
    grep -l -- ":/$NS/" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3 || true
  else
    grep -l -- ":/$CG_PARENT/soak-$NS-" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3 || true
  fi
}

# ppid_of PID and state_of PID from /proc/PID/stat (the command may hold spaces and parens).
ppid_of() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  set -- $s
  echo "$2"
}
state_of() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  echo "${s%% *}"
}

# children_of PID...: the direct children of any of the given pids.
children_of() {
  local p
  for p in "$@"; do
    cat "/proc/$p/task/"*/children 2>/dev/null || true
  done | tr ' ' '\n' | sed '/^$/d'
}

# The zombies whose parent is containerd, a shim or this script: nobody would reap them.
soak_zombies() {
  local parents=("$$") p z
  [[ -s $CTRD_PID_FILE ]] && parents+=("$(cat "$CTRD_PID_FILE")")
  mapfile -t -O "${#parents[@]}" parents < <(soak_shim_pids)
  for z in $(children_of "${parents[@]}"); do
    [[ $(state_of "$z" 2>/dev/null) == Z ]] && echo "$z"
  done
  return 0
}

# cgroup dirs below /NS in every mounted hierarchy (v1 controllers, name=systemd, unified).
# /NS itself stays, as runc leaves it; the soak removes it at the end.
soak_cgroups() {
  local h
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    [[ $h == /sys/fs/cgroup/ && $CG_PARENT == "$NS" ]] && continue  # v1 roots are listed above
    [[ -d $h$CG_PARENT ]] && find "$h$CG_PARENT" -mindepth 1 -type d -path "$h$CG_PARENT/$CG_GLOB" 2>/dev/null
  done
  return 0
}

soak_units() {
  systemctl list-units --all --plain --no-legend "soak-$NS-*" 2>/dev/null | awk '{print $1}'
}

soak_mounts() {
  grep -e "$WORK" -e " /$NS/" /proc/self/mountinfo || true
}

# leak_list NAME: what counter NAME counts, one item a line (pids, paths, mountinfo lines).
leak_list() {
  case $1 in
    shims) soak_shim_pids ;;
    container_procs) pids_in_ns_cgroups ;;
    shim_children)
      local shims
      mapfile -t shims < <(soak_shim_pids)
      ((${#shims[@]} == 0)) || children_of "${shims[@]}"
      ;;
    loggers) pgrep -f -- "$LOGGER" || true ;;
    zombies) soak_zombies ;;
    mounts) soak_mounts ;;
    cgroups) soak_cgroups ;;
    units) soak_units ;;
    hippo_state) ls -1 "$WORK/hippo-state/containerd/$NS" 2>/dev/null || true ;;
    containerd_state) ls -1 "$WORK/ctrd/state/io.containerd.runtime.v2.task/$NS" 2>/dev/null || true ;;
    *) echo "leak_list: unknown counter $1" >&2; return 1 ;;
  esac
}

leak_count() {
  leak_list "$1" | sed '/^$/d' | wc -l
}

# snapshot_leaks ARRAY_NAME: fills the associative array ARRAY_NAME with every counter.
snapshot_leaks() {
  local -n into=$1
  local c
  for c in "${LEAK_COUNTERS[@]}"; do into[$c]=$(leak_count "$c"); done
}

# counters_equal A B: every counter of snapshot A equals B's.
counters_equal() {
  local -n a=$1 b=$2
  local c
  for c in "${LEAK_COUNTERS[@]}"; do [[ ${a[$c]} == "${b[$c]}" ]] || return 1; done
}

# settle_leaks INTO WANT SECONDS: snapshots into INTO until it equals WANT or SECONDS pass;
# what exits asynchronously (a shim after its last delete, a logger after EOF) gets the time.
settle_leaks() {
  local snapshot=$1 wanted=$2 deadline=$((SECONDS + $3))
  while :; do
    snapshot_leaks "$snapshot"
    counters_equal "$snapshot" "$wanted" && return 0
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}
