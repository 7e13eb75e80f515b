# A private Docker 20.10 daemon (Debian's docker.io) for integration/docker.bats, with hippo as a
# `path` runtime. Everything the daemon owns lives under one directory (data root, exec root,
# socket, pidfile, daemon.json, log, and a private containerd from hack/private-containerd.sh);
# its containers' cgroups sit under a cgroup parent of their own. dockerd_stop removes all of it
# and fails when anything is left: a process, a mount, a cgroup, a network namespace file.
#
# /usr/local/bin/docker on the CI machine is another client binary: the Debian package's client
# and daemon are named explicitly.
DOCKER_CLI=${HIPPO_DOCKER_CLI:-/usr/bin/docker}
DOCKERD=${HIPPO_DOCKERD:-/usr/sbin/dockerd}
# The image every test runs: the busybox rootfs of hack/make-test-images.sh, `docker import`ed.
DOCKER_IMAGE=hippo-busybox:test

# dk DIR ARGS...: the Docker client against the daemon of DIR, with a private client config.
dk_at() {
  local dir=$1
  shift
  DOCKER_CONFIG=$dir/client "$DOCKER_CLI" -H "unix://$dir/docker.sock" "$@"
}

dockerd_pid_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# Mount points at or below DIR (mountinfo's octal escapes decoded), deepest first.
dockerd_mounts_under() {
  local dir=$1 _a _b _c _d mp _rest
  while read -r _a _b _c _d mp _rest; do
    mp=$(printf '%b' "${mp//\\/\\0}")
    [[ $mp == "$dir" || $mp == "$dir"/* ]] && printf '%s\n' "$mp"
  done </proc/self/mountinfo | awk '{ print gsub("/", "/"), $0 }' | sort -rn | cut -d' ' -f2-
}

# dockerd_start DIR CGROUP_PARENT [DAEMON_JSON_EXTRA]: starts containerd and dockerd under DIR
# (created; keep it short: unix socket paths are limited to 107 bytes) and waits, bounded, until
# the daemon answers. DAEMON_JSON_EXTRA is merged into daemon.json (a JSON object).
dockerd_start() {
  local dir=$1 cgparent=$2 extra=${3:-'{}'} i
  mkdir -p "$dir/client" "$dir/data" "$dir/exec"
  "$REPO_ROOT/hack/private-containerd.sh" start "$dir/ctrd" >/dev/null
  jq -n --arg hippo "$HIPPO_BIN" --argjson extra "$extra" \
    '{runtimes: {hippo: {path: $hippo}}} * $extra' >"$dir/daemon.json"
  # setsid: the daemon must outlive no shell of ours, but a Ctrl-C to bats must not reach it
  # before dockerd_stop does. HIPPO_CONFIG reaches hippo through containerd's shim.
  HIPPO_CONFIG=/dev/null setsid "$DOCKERD" \
    --config-file "$dir/daemon.json" \
    --data-root "$dir/data" --exec-root "$dir/exec" \
    -H "unix://$dir/docker.sock" --pidfile "$dir/docker.pid" \
    --containerd "$dir/ctrd/containerd.sock" \
    --iptables=false --ip-masq=false --ip6tables=false --bridge=none --userland-proxy=false \
    --cgroup-parent "$cgparent" --exec-opt native.cgroupdriver=cgroupfs \
    --log-level debug </dev/null >"$dir/dockerd.log" 2>&1 &
  echo $! >"$dir/dockerd.spawned"
  for i in $(seq 300); do
    dk_at "$dir" version >/dev/null 2>&1 && return 0
    if ! dockerd_pid_alive "$(cat "$dir/dockerd.spawned")"; then break; fi
    sleep 0.1
  done
  echo "dockerd under $dir did not answer; its log:" >&2
  tail -30 "$dir/dockerd.log" >&2
  return 1
}

# dockerd_import_busybox DIR ROOTFS: the image $DOCKER_IMAGE from a copy of ROOTFS, plus a user
# with a home (uid 1000) for the HOME tests.
dockerd_import_busybox() {
  local dir=$1 rootfs=$2
  cp -a "$rootfs" "$dir/image-rootfs"
  echo 'app:x:1000:1000:app:/home/app:/bin/sh' >>"$dir/image-rootfs/etc/passwd"
  mkdir -p "$dir/image-rootfs/home/app"
  tar -C "$dir/image-rootfs" -c . | dk_at "$dir" import --change 'CMD ["sh"]' - "$DOCKER_IMAGE" >/dev/null
  rm -rf "$dir/image-rootfs"
}

# dockerd_stop DIR CGROUP_PARENT: removes every container, stops dockerd by its pid (TERM, then
# KILL after 20 s), stops the private containerd, then checks that nothing is left behind and
# removes DIR. Fails, naming what leaked, when something was.
dockerd_stop() {
  local dir=$1 cgparent=$2 pid i rc=0 mp c d p cmd
  [[ -d $dir ]] || return 0
  if dk_at "$dir" version >/dev/null 2>&1; then
    dk_at "$dir" ps -aq | xargs -r -n 20 "$DOCKER_CLI" -H "unix://$dir/docker.sock" rm -f >/dev/null 2>&1 || true
  fi
  pid=$(cat "$dir/docker.pid" 2>/dev/null || cat "$dir/dockerd.spawned" 2>/dev/null || true)
  if [[ -n $pid ]] && dockerd_pid_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--data-root $dir/data"; then
    kill -TERM "$pid"
    for i in $(seq 200); do dockerd_pid_alive "$pid" || break; sleep 0.1; done
    if dockerd_pid_alive "$pid"; then
      echo "leak: dockerd $pid ignored TERM for 20 s" >&2
      kill -KILL "$pid"
      rc=1
    fi
  fi
  "$REPO_ROOT/hack/private-containerd.sh" stop "$dir/ctrd" >/dev/null || rc=1
  # Processes still pointing into DIR (a shim, a container process, a daemon).
  for p in /proc/[0-9]*; do
    cmd=$( { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
    if [[ $cmd == *"$dir/"* ]]; then
      echo "leak: process ${p#/proc/}: $cmd" >&2
      kill -KILL "${p#/proc/}" 2>/dev/null || true
      rc=1
    fi
  done
  # Mounts (overlay2 layers, network namespace files, shm) that the daemon should have undone.
  while IFS= read -r mp; do
    [[ -n $mp ]] || continue
    echo "leak: mount $mp" >&2
    umount "$mp" 2>/dev/null || umount -l "$mp" || true
    rc=1
  done < <(dockerd_mounts_under "$dir")
  # The containers' cgroups: the parent must be empty of them.
  for c in /sys/fs/cgroup/*/; do
    d=$c${cgparent#/}
    [[ -d $d && $d != "$c" ]] || continue
    if [[ -n $(find "$d" -mindepth 1 -type d) ]]; then
      echo "leak: cgroups under $d: $(find "$d" -mindepth 1 -type d | tr '\n' ' ')" >&2
      find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
      rc=1
    fi
    rmdir "$d" 2>/dev/null || { echo "leak: cgroup $d cannot be removed" >&2; rc=1; }
  done
  rm -rf --one-file-system "$dir"
  return "$rc"
}

# The state hippo keeps for Docker's containers: the runc-v2 shim passes the same --root to
# every runtime, <exec-root>/runtime-runc/<containerd namespace>.
dockerd_hippo_root() {
  echo "$1/exec/runtime-runc/moby"
}

# dockerd_cgroup_of DIR CONTAINER CONTROLLER: the host path of the container's cgroup directory
# in the v1 hierarchy of CONTROLLER (the one cgroup2 directory on a v2 host).
dockerd_cgroup_of() {
  local pid line
  pid=$(dk_at "$1" inspect -f '{{.State.Pid}}' "$2") || return 1
  if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
    line=$(grep '^0::' "/proc/$pid/cgroup")
    echo "/sys/fs/cgroup${line#0::}"
  else
    line=$(grep -E "^[0-9]+:([^:]*,)?$3(,[^:]*)?:" "/proc/$pid/cgroup")
    echo "/sys/fs/cgroup/$3${line##*:}"
  fi
}
