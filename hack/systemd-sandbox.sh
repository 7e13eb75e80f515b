#!/usr/bin/env bash
# A real systemd to test the systemd cgroup driver against, on a machine whose PID 1 is not
# systemd: Debian's /lib/systemd/systemd booted as PID 1 of fresh pid/mount/cgroup/uts/ipc
# namespaces, confined to a cgroup of its own in every hierarchy (it runs in the host's mode,
# hybrid here, pure v2 on a v2 host).
#
#   hack/systemd-sandbox.sh start        boots it (idempotent); prints its PID 1 as the host sees it
#   hack/systemd-sandbox.sh run CMD...   runs CMD in every namespace of the sandbox
#   hack/systemd-sandbox.sh pid          prints its PID 1, fails if it is not running
#   hack/systemd-sandbox.sh stop         powers it off and removes its cgroups
#
# SANDBOX_NAME (default hippo-sd) names its cgroup in every hierarchy and its state directory
# ($SANDBOX_STATE, default /var/tmp/hippo-sandbox/$SANDBOX_NAME): give each concurrent user its
# own. Inside, /run and /tmp are fresh tmpfs and the cgroup mounts are the sandbox's own; every
# other path is the host's, so share files with it elsewhere (/var/tmp, the build tree).
# SANDBOX_SHARE: host paths under /tmp or /run that must stay visible inside at the same path
# (the tree under test when it was cloned under /tmp); they are bound over the fresh mounts.
set -euo pipefail

NAME=${SANDBOX_NAME:-hippo-sd}
STATE=${SANDBOX_STATE:-/var/tmp/hippo-sandbox/$NAME}
CG=/sys/fs/cgroup
SYSTEMD=${SYSTEMD_BINARY:-/lib/systemd/systemd}

case $NAME in
  */* | .* | "") echo "systemd-sandbox: bad SANDBOX_NAME \"$NAME\"" >&2; exit 2 ;;
esac

pid1() {
  local p
  [[ -s $STATE/pid1 ]] || return 1
  p=$(<"$STATE/pid1")
  # The pid must still be a systemd, not a reused number.
  [[ $(cat "/proc/$p/comm" 2>/dev/null) == systemd ]] || return 1
  echo "$p"
}

# The cgroup hierarchies of the host: one directory per v1 mount, or the v2 root itself.
hierarchies() {
  if [[ $(stat -fc %T "$CG") == cgroup2fs ]]; then
    echo "$CG"
  else
    local h
    for h in "$CG"/*/; do
      [[ $(stat -fc %T "$h") == cgroup* ]] && echo "${h%/}"
    done
  fi
}

# What the launcher runs inside the new namespaces: private /proc, /run, /tmp and cgroup mounts
# (made in the new cgroup namespace, so their root is the sandbox's cgroup), then systemd.
inner_script() {
  cat <<'EOS'
set -e
mount -t proc proc /proc
# Paths to keep across the fresh /run and /tmp: parked under $HOLD (private mounts), moved back.
shared() { for p in $SHARE; do case $p in /tmp/* | /run/*) echo "$p" ;; esac; done; }
i=0
for p in $(shared); do
  mkdir -p "$HOLD/$i"
  mount --rbind "$p" "$HOLD/$i"
  i=$((i + 1))
done
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
# The host's own enabled services (a system containerd, a registry on *:5000 ...) are not the
# sandbox's business: runtime masks in the fresh /run keep them from starting there.
mkdir -p /run/systemd/system
for u in /etc/systemd/system/multi-user.target.wants/*; do
  [ -e "$u" ] || [ -L "$u" ] || continue
  ln -sf /dev/null "/run/systemd/system/${u##*/}"
done
i=0
for p in $(shared); do
  mkdir -p "$p"
  mount --move "$HOLD/$i" "$p"
  i=$((i + 1))
done
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
  mount -t cgroup2 cgroup2 /sys/fs/cgroup
else
  mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
  # The host's v1 hierarchies, each with its own controller set (cpu,cpuacct may be one).
  echo "$HOST_V1" | while read -r target opts; do
    [ -n "$target" ] || continue
    mkdir -p "$target"
    mount -t cgroup -o "$opts" cgroup "$target"
  done
  for link in $HOST_LINKS; do ln -s "${link#*=}" "/sys/fs/cgroup/${link%%=*}"; done
  if [ -n "$HOST_V2" ]; then mkdir -p "$HOST_V2"; mount -t cgroup2 cgroup2 "$HOST_V2"; fi
fi
# systemd's "running in a container" mode: no hardware units, no reboot of the host.
export container=hippo-sandbox
exec "$SYSTEMD" --system --log-target=console --unit=multi-user.target
EOS
}

start() {
  local p
  if p=$(pid1); then echo "$p"; return 0; fi
  mkdir -p "$STATE"
  local h
  for h in $(hierarchies); do
    mkdir -p "$h/$NAME"
    # A v1 cpuset cgroup takes no task until its cpus and mems are set.
    if [[ -f $h/cpuset.cpus && ! -f $h/cgroup.controllers ]]; then
      cat "$h/cpuset.cpus" >"$h/$NAME/cpuset.cpus"
      cat "$h/cpuset.mems" >"$h/$NAME/cpuset.mems"
    fi
  done
  # On v2 the sandbox's root must be able to delegate: enable the controllers for its children.
  if [[ $(stat -fc %T "$CG") == cgroup2fs ]]; then
    local c
    for c in $(cat "$CG/cgroup.controllers"); do echo "+$c" >"$CG/cgroup.subtree_control" 2>/dev/null || true; done
  fi
  # The launcher moves itself into the sandbox cgroup, then unshares: the new cgroup namespace
  # takes that cgroup as its root.
  local host_v1 host_v2 host_links l
  host_v1=$(findmnt -rn -t cgroup -o TARGET,FS-OPTIONS | sed -E 's/ (rw|ro),?/ /; s/,?release_agent=[^,]*//; s/ $/ none/')
  host_v2=$(findmnt -rn -t cgroup2 -o TARGET | grep -v "^$CG\$" | head -1 || true)
  host_links=$(for l in "$CG"/*; do [[ -L $l ]] && echo "$(basename "$l")=$(readlink "$l")"; done || true)
  # Shared paths, parents first, none inside another (the parent's bind carries it).
  local share="" kept
  for l in $(for l in ${SANDBOX_SHARE:-}; do realpath -m "$l"; done | sort -u); do
    kept=false
    for k in $share; do [[ $l == "$k"/* ]] && kept=true; done
    $kept || share+="$l "
  done
  SYSTEMD=$SYSTEMD NAME=$NAME HIERARCHIES="$(hierarchies)" INNER="$(inner_script)" \
    HOST_V1=$host_v1 HOST_V2=$host_v2 HOST_LINKS=$host_links SHARE=$share HOLD=$STATE/hold \
    setsid bash -c '
    for h in $HIERARCHIES; do echo $$ >"$h/$NAME/cgroup.procs"; done
    exec unshare --pid --fork --mount --cgroup --uts --ipc --propagation private \
      env SYSTEMD="$SYSTEMD" HOST_V1="$HOST_V1" HOST_V2="$HOST_V2" HOST_LINKS="$HOST_LINKS" \
      SHARE="$SHARE" HOLD="$HOLD" \
      bash -c "$INNER"
  ' >"$STATE/console.log" 2>&1 </dev/null &
  local launcher=$! s="" i u
  for i in $(seq 100); do
    for u in "$launcher" $(pgrep -P "$launcher" 2>/dev/null || true); do
      s=$(pgrep -P "$u" -x systemd 2>/dev/null || true)
      [[ -n $s ]] && break
    done
    [[ -n $s ]] && break
    sleep 0.1
  done
  if [[ -z $s ]]; then
    echo "systemd-sandbox: systemd did not start; see $STATE/console.log" >&2
    stop
    exit 1
  fi
  echo "$s" >"$STATE/pid1"
  local st=""
  for i in $(seq 150); do
    st=$(nsenter -t "$s" -a systemctl is-system-running 2>/dev/null || true)
    case $st in running | degraded) echo "$s"; return 0 ;; esac
    sleep 0.2
  done
  echo "systemd-sandbox: systemd is up but not running (state: $st); see $STATE/console.log" >&2
  stop
  exit 1
}

run() {
  local p
  p=$(pid1) || { echo "systemd-sandbox: $NAME is not started" >&2; exit 1; }
  exec nsenter -t "$p" -a "$@"
}

stop() {
  local p i
  if p=$(pid1); then
    # A clean poweroff first: services stop and remove what they made on the host's side
    # (logind's PrivateTmp under /var/tmp); forced only if it hangs.
    nsenter -t "$p" -a systemctl poweroff --no-block >/dev/null 2>&1 || true
    for i in $(seq 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then
      nsenter -t "$p" -a systemctl poweroff --force --force >/dev/null 2>&1 || true
      for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    fi
    kill -9 "$p" 2>/dev/null || true
  fi
  rm -f "$STATE/pid1"
  rm -rf --one-file-system "$STATE/hold"
  # Its cgroups, deepest first; the processes in them went with its pid namespace.
  local h
  for h in $(hierarchies); do
    [[ -d $h/$NAME ]] || continue
    for i in $(seq 50); do
      find "$h/$NAME" -depth -type d -exec rmdir {} + 2>/dev/null || true
      [[ -d $h/$NAME ]] || break
      sleep 0.1
    done
  done
  rm -rf "$STATE"
  rmdir "$(dirname "$STATE")" 2>/dev/null || true
}

case ${1:-} in
  start) start ;;
  run) shift; run "$@" ;;
  pid) pid1 ;;
  stop) stop ;;
  *) echo "usage: $0 start|run CMD...|pid|stop" >&2; exit 2 ;;
esac
