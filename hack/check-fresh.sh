#!/usr/bin/env bash
# Proves the README's promise on a fresh machine: in a minimal Debian 12 root (mmdebstrap
# --variant=minbase, the mirror of this machine's apt sources) holding a `git clone` of HEAD,
# `hack/install-deps.sh`, `make`, `make unit` and `make demo` must pass with nothing installed
# beforehand. A package missing from install-deps.sh makes one of them fail. Each step's time is
# printed.
#
# Usage: hack/check-fresh.sh            (root; `make check-fresh`)
# Env:   FRESH_DIR       where roots and the cache live (default /var/tmp/hippo-fresh)
#        FRESH_NO_CACHE  1: debootstrap anew instead of using today's cached minbase tarball
#        FRESH_KEEP      1: leave the root behind for a look (still unmounted)
#        FRESH_MIRROR, FRESH_SECURITY_MIRROR  Debian mirrors (default: this machine's apt sources)
#
# The root is a chroot in a mount namespace of its own (unshare -m), itself a bind mount (a
# runtime changes the propagation of /, which must be a mount): /proc (new), /sys and /dev
# (recursive binds, made slaves so that nothing done inside reaches the host's mounts; the /sys
# bind brings /sys/fs/cgroup for the tests and the demo) and /run (a new tmpfs: the demo's
# containerd puts its shim sockets under /run/containerd/s). Nothing else of the host is
# bound: no apt cache, no ccache, so every package is downloaded and the build starts clean. The
# root shares the host's kernel, cgroups, pids and network; the demo keeps its state in
# private paths (a mktemp dir, a namespace and cgroups named after its pid).
#
# Cached: only the pristine minbase root as a tarball, one per day and mirror (a root with
# packages installed would hide exactly the gaps this check is for).
# shellcheck disable=SC2317  # functions run from traps and from the --inside re-run
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
fresh_dir=${FRESH_DIR:-/var/tmp/hippo-fresh}

say() { echo "check-fresh: $*" >&2; }
die() { say "$*"; exit 1; }

times=()
timed() {  # timed NAME COMMAND...: runs it, records and prints how long it took
  local name=$1 t0=$SECONDS rc=0
  shift
  say "=== $name ==="
  "$@" || rc=$?
  times+=("$(printf '%-14s %5d s%s' "$name" $((SECONDS - t0)) "$([[ $rc -eq 0 ]] || echo '  FAILED')")")
  say "--- $name: $((SECONDS - t0)) s$([[ $rc -eq 0 ]] || echo ", FAILED (exit $rc)")"
  return $rc
}

# Processes of ours left in the root: those in the mount namespace of the steps (recorded in
# $work/mntns) and those whose root is the chroot or a container root inside it.
leftover_pids() {
  local p r ns=""
  [[ -f $work/mntns ]] && ns=$(cat "$work/mntns")
  for p in /proc/[0-9]*; do
    [[ ${p#/proc/} != "$$" && ${p#/proc/} != "$BASHPID" ]] || continue
    r=$(readlink "$p/root" 2>/dev/null) || continue
    if [[ $r == "$root" || $r == "$root"/* ]] ||
       [[ -n $ns && $(readlink "$p/ns/mnt" 2>/dev/null) == "$ns" ]]; then
      echo "${p#/proc/}"
    fi
  done
  return 0
}

kill_leftovers() {
  local pids
  pids=$(leftover_pids)
  [[ -n $pids ]] || return 0
  say "killing processes left in the root: ${pids//$'\n'/ }"
  # shellcheck disable=SC2086  # one pid per word
  kill -KILL $pids 2>/dev/null || true
  sleep 0.5
}

# Unmounts whatever is mounted at or below the root in the current namespace, deepest first;
# lazily when busy, the last resort.
unmount_root() {
  local m
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || say "cannot unmount $m"
  done < <(awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo |
           sort -r)
}

# --- inside: one mount namespace for all steps; the mounts die with it ------------------------
# In the chroot as a fresh machine's root shell: a clean environment, in the clone's top.
in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash -c 'cd /root/hippo && "$@"' bash "$@"
}

inside() {
  trap 'kill_leftovers; unmount_root; printf "%s\n" "${times[@]}" >"$work/times"' EXIT
  readlink /proc/self/ns/mnt >"$work/mntns"
  # A machine's / is a mount; a container runtime changes its propagation (EINVAL on a plain
  # directory), so the root becomes a mount of its own.
  mount --bind "$root" "$root"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --make-rslave "$root/sys"
  mount --rbind /dev "$root/dev"
  mount --make-rslave "$root/dev"
  mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$root/run"
  timed install-deps in_root hack/install-deps.sh
  timed make in_root make
  timed "make unit" in_root make unit
  timed "make demo" in_root make demo
}

if [[ ${1:-} == --inside ]]; then  # run by ourselves under unshare, with the outer's $work
  work=$2 root=$2/root
  set -e
  inside
  exit 0
fi

# --- outside ----------------------------------------------------------------------------------
[[ $(id -u) -eq 0 ]] || die "must run as root (mmdebstrap, chroot, mounts)"
for tool in mmdebstrap git unshare chroot tar flock; do
  command -v "$tool" >/dev/null || die "$tool missing: run hack/install-deps.sh"
done

# shellcheck source=hack/lib-apt-mirror.sh
source "$repo/hack/lib-apt-mirror.sh"
mirror=${FRESH_MIRROR:-$(apt_mirror_for bookworm | sed -n 1p)}
security=${FRESH_SECURITY_MIRROR:-$(apt_mirror_for bookworm-security | sed -n 1p)}
[[ -n $mirror && -n $security ]] ||
  die "no bookworm mirror in /etc/apt/sources*; set FRESH_MIRROR and FRESH_SECURITY_MIRROR"

commit=$(git -C "$repo" rev-parse HEAD)
if [[ -n $(git -C "$repo" status --porcelain --untracked-files=no) ]]; then
  say "note: uncommitted changes in $repo are not checked; the clone holds HEAD ${commit:0:12}"
fi

started=$SECONDS
mkdir -p "$fresh_dir"
work=$(mktemp -d "$fresh_dir/run.XXXXXX")
root=$work/root

cleanup() {
  local rc=$? line
  kill_leftovers
  # The steps' mounts lived in unshare's namespace and went with it; should one be in this
  # namespace, it goes here, before anything is removed.
  unmount_root
  if [[ ${FRESH_KEEP:-0} == 1 ]]; then
    say "root kept in $root"
  else
    rm -rf --one-file-system -- "$work"
  fi
  say "step times:"
  for line in "${times[@]}"; do echo "  $line" >&2; done
  printf '  %-14s %5d s\n' total $((SECONDS - started)) >&2
  if [[ $rc -eq 0 ]]; then
    say "PASSED: install-deps, make, make unit and make demo on a fresh Debian 12 root"
  else
    say "FAILED (exit $rc); a package missing from hack/install-deps.sh shows as a failed step above"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The pristine minbase root as a tarball: today's for this mirror, or a new one.
minbase_tarball() {
  local key tarball
  key=$(printf '%s\n' "$mirror" "$security" minbase-v1 | sha256sum | cut -c1-12)
  tarball=$fresh_dir/minbase-$(date +%Y%m%d)-$key.tar
  exec 9>"$fresh_dir/.minbase.lock"
  flock -w 1800 9 || die "another check holds $fresh_dir/.minbase.lock for 30 minutes"
  if [[ ${FRESH_NO_CACHE:-0} == 1 || ! -s $tarball ]]; then
    # Older days' roots, and what a killed run left half made. --format=tar: the name ends in
    # ".new", from which mmdebstrap's auto format would pick a directory.
    find "$fresh_dir" -mindepth 1 -maxdepth 1 -name 'minbase-*.tar*' -exec rm -rf {} +
    say "mmdebstrap --variant=minbase bookworm from $mirror"
    mmdebstrap --variant=minbase --mode=root --format=tar --aptopt='Acquire::Languages "none"' \
      bookworm "$tarball.new" \
      "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
      "deb $security bookworm-security main" >"$work/mmdebstrap.log" 2>&1 ||
      { tail -20 "$work/mmdebstrap.log" >&2; rm -rf "$tarball.new"; return 1; }
    mv "$tarball.new" "$tarball"
  else
    say "using the cached pristine root $tarball"
  fi
  exec 9>&-
  echo "$tarball"
}

make_root() {
  local tarball
  tarball=$(minbase_tarball) || return 1
  mkdir "$root"
  tar -C "$root" -xf "$tarball"
  # The repository's committed tree, never the work tree.
  git clone -q --no-hardlinks --no-checkout "$repo" "$root/root/hippo"
  git -C "$root/root/hippo" -c advice.detachedHead=false checkout -q --detach "$commit"
  say "root $root: Debian $(cat "$root/etc/debian_version"), hippo at ${commit:0:12}"
}

timed "minbase root" make_root
rc=0
unshare --mount --propagation private -- "$0" --inside "$work" || rc=$?
[[ -f $work/times ]] && mapfile -t -O "${#times[@]}" times <"$work/times"
exit "$rc"
