# The fixture of integration/nesting.bats (docs/nesting.md section 7): an "outer" hippo
# container whose rootfs is an overlay over the host's `/` (so the build, busybox, containerd,
# dockerd and systemd are all there at their host paths), with fresh tmpfs on /run, /tmp,
# /var/lib/containerd, /var/lib/docker and /var/lib/cni (CRI's CNI results), its own pid, net,
# ipc, uts and mount namespaces, and the annotation io.hippo.nesting=true, nothing else: the nesting mode gives it the rest.
# Two variants (docs/nesting.md section 2), chosen by NEST_VARIANT when the outer is made:
# "privileged" (default: no user namespace; the host hippo's config has nesting_privileged:
# allow) and "userns" (container 0 mapped to host $NEST_USERNS_BASE, 65536 ids; no config key).
# Inner containers are made inside by the same hippo binary.
#
# Sourced on the host by nesting.bats, and inside an outer container (nest_lib) to make the
# next level: every function here works from its arguments, not from Bats variables.

# The userns variant's host ids: container 0..65535 is host 100000..165535.
NEST_USERNS_BASE=100000

# Where the fixture's files appear inside an outer: the test's share dir (scripts, images).
NEST_SHARE=/nest

# nest_config FILE CGPATH MEMORY_BYTES|"" ARGS_JSON [EXTRA_JQ]: turns `hippo spec`'s config.json
# FILE into an outer's: its args, cgroup path, memory limit (none when ""), the tmpfs mounts,
# then nest_mark, then the jq filter EXTRA_JQ.
# The rlimit stays at or below the caller's hard limit: raising it needs CAP_SYS_RESOURCE,
# which root lacks here.
nest_config() {
  local file=$1 cg=$2 mem=$3 args=$4 extra=${5:-.} nofile
  nofile=$(ulimit -Hn)
  jq --arg cg "$cg" --arg mem "$mem" --argjson args "$args" --argjson nofile "$nofile" '
    .process.terminal = false
    | .process.args = $args
    | .process.env += ["HIPPO_CONFIG=/dev/null"]
    | .process.rlimits = [{type: "RLIMIT_NOFILE", hard: $nofile, soft: $nofile}]
    | .root.readonly = false
    | .hostname = "outer"
    | .linux.cgroupsPath = $cg
    | if $mem == "" then . else .linux.resources.memory.limit = ($mem | tonumber) end
    | .mounts += [
        {destination: "/run", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=755"]},
        {destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777"]},
        {destination: "/var/lib/containerd", type: "tmpfs", source: "tmpfs", options: ["mode=711"]},
        {destination: "/var/lib/docker", type: "tmpfs", source: "tmpfs", options: ["mode=711"]},
        {destination: "/var/lib/cni", type: "tmpfs", source: "tmpfs", options: ["mode=755"]}]' \
    "$file" >"$file.tmp" && mv "$file.tmp" "$file"
  nest_mark "$file"
  jq "$extra" "$file" >"$file.tmp" && mv "$file.tmp" "$file"
}

# nest_mark FILE: makes the config.json FILE a nesting container's: the annotation only.
nest_mark() {
  local file=$1
  jq '.annotations["io.hippo.nesting"] = "true"' "$file" >"$file.tmp" && mv "$file.tmp" "$file"
}

# nest_overlay_rootfs DIR: DIR/rootfs becomes an overlay of `/` with upper and work dirs in DIR.
nest_overlay_rootfs() {
  local dir=$1
  mkdir -p "$dir/rootfs" "$dir/upper" "$dir/work"
  mount -t overlay overlay -o "lowerdir=/,upperdir=$dir/upper,workdir=$dir/work" "$dir/rootfs"
}

# nest_binds DIR IMAGES PATH...: in DIR/config.json, ro binds of each PATH at the same place
# inside (the build and the repo may live under /tmp or /run, fresh tmpfs inside; an overlay's
# lower layer holds no submount either), DIR/share at $NEST_SHARE and the test images dir IMAGES
# at $NEST_SHARE/images.
nest_binds() {
  local dir=$1 images=$2 p binds='[]'
  shift 2
  mkdir -p "$dir/share/images"
  for p in "$@"; do
    case $p in
      /tmp | /tmp/* | /run | /run/* | /var/lib/docker* | /var/lib/containerd*)
        binds=$(jq -c --arg p "$p" '. + [{destination: $p, type: "bind", source: $p, options: ["rbind", "ro"]}]' <<<"$binds") ;;
    esac
  done
  binds=$(jq -c --arg s "$dir/share" --arg d "$NEST_SHARE" --arg i "$images" '. + [
    {destination: $d, type: "bind", source: $s, options: ["rbind", "rw"]},
    {destination: ($d + "/images"), type: "bind", source: $i, options: ["rbind", "ro"]}]' <<<"$binds")
  jq --argjson b "$binds" '.mounts += $b' "$dir/config.json" >"$dir/config.tmp" && mv "$dir/config.tmp" "$dir/config.json"
}

# nest_hierarchies: the host's cgroup hierarchies (v1 mounts, the cgroup2 one), one path a line.
nest_hierarchies() {
  local h
  for h in /sys/fs/cgroup/*/; do
    [[ $(stat -fc %T "$h") == cgroup* ]] && echo "${h%/}"
  done
  [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]] && echo /sys/fs/cgroup
  return 0
}

# nest_cgroup_dirs CGPATH: every directory at or below CGPATH in any hierarchy, deepest first.
nest_cgroup_dirs() {
  local cg=${1#/} h
  [[ -n $cg ]] || return 1
  for h in $(nest_hierarchies); do
    [[ -d $h/$cg ]] && find "$h/$cg" -depth -type d
  done
  return 0
}

# nest_reap_cgroup CGPATH: kills every process at or below CGPATH (freezing first, so nothing
# forks past us) and removes the directories, deepest first; bounded. Only for a cgroup this
# test made. Prints what it found.
nest_reap_cgroup() {
  local cg=${1#/} i d pids fz=/sys/fs/cgroup/freezer/${1#/}
  [[ -n $cg ]] || return 0
  [[ -d $fz ]] && echo FROZEN >"$fz/freezer.state" 2>/dev/null
  for i in $(seq 50); do
    pids=$(nest_cgroup_dirs "$cg" | while read -r d; do cat "$d/cgroup.procs" 2>/dev/null; done | sort -u)
    [[ -z $pids ]] && break
    echo "reaping pids $(tr "\n" " " <<<"$pids")in $cg" >&2
    kill -KILL $pids 2>/dev/null
    [[ -d $fz ]] && find "$fz" -name freezer.state -exec sh -c 'echo THAWED >"$1"' _ {} \; 2>/dev/null
    sleep 0.1
  done
  for i in $(seq 50); do
    nest_cgroup_dirs "$cg" | while read -r d; do rmdir "$d" 2>/dev/null; done
    [[ -z $(nest_cgroup_dirs "$cg") ]] && return 0
    sleep 0.1
  done
  echo "cgroups left: $(nest_cgroup_dirs "$cg" | tr '\n' ' ')" >&2
  return 1
}

# nest_mounts_under DIR: mount points at or below DIR (mountinfo's escapes decoded), deepest first.
nest_mounts_under() {
  local dir=$1 _a _b _c _d mp _rest
  while read -r _a _b _c _d mp _rest; do
    mp=$(printf '%b' "${mp//\\/\\0}")
    [[ $mp == "$dir" || $mp == "$dir"/* ]] && printf '%s\n' "$mp"
  done </proc/self/mountinfo | awk '{ print gsub("/", "/"), $0 }' | sort -rn | cut -d' ' -f2-
}

# --- inside an outer ---------------------------------------------------------------------------

# nest_busybox_bundle HIPPO DIR CGPATH MEMORY_BYTES|"" ARGS...: a plain busybox bundle in DIR,
# made by the hippo binary HIPPO, from the busybox rootfs the test shared at
# $NEST_SHARE/images (NEST_IMAGES, if set, names another images dir); with cgroup path CGPATH
# and the memory limit.
nest_busybox_bundle() {
  local bin=$1 dir=$2 cg=$3 mem=$4 args
  shift 4
  args=$(printf '%s\n' "$@" | jq -R . | jq -s -c .)
  mkdir -p "$dir"
  cp -a "${NEST_IMAGES:-$NEST_SHARE/images}/busybox-rootfs" "$dir/rootfs"
  (cd "$dir" && HIPPO_CONFIG=/dev/null "$bin" spec)
  jq --argjson args "$args" --arg cg "$cg" --arg mem "$mem" '
    .process.terminal = false | .process.args = $args | .linux.cgroupsPath = $cg
    | if $mem == "" then . else .linux.resources.memory.limit = ($mem | tonumber) end' \
    "$dir/config.json" >"$dir/config.tmp" && mv "$dir/config.tmp" "$dir/config.json"
}

# --- on the host (Bats: uses helpers.bash's hippo and test_name) -------------------------------

# nest_setup_file: the file's busybox images; for the userns variant also a copy owned by the
# mapped root (host root's files read as nobody's inside, and it may not read a 0700 one, such
# as busybox's /root).
nest_setup_file() {
  build_busybox_rootfs
  if [[ ${NEST_VARIANT:-privileged} == userns ]]; then
    mkdir -p "$BATS_FILE_TMPDIR/userns-images"
    cp -a "$BATS_FILE_TMPDIR/images/busybox-rootfs" "$BATS_FILE_TMPDIR/images/busybox-oci.tar" \
      "$BATS_FILE_TMPDIR/userns-images/"
    chown -R "$NEST_USERNS_BASE:$NEST_USERNS_BASE" "$BATS_FILE_TMPDIR/userns-images"
  fi
}

# nest_setup: the host hippo's config: nesting_privileged: allow for the privileged variant;
# none for the userns variant (it needs no host privilege), whose outers share the mapped root's
# images (nest_setup_file).
nest_setup() {
  if [[ ${NEST_VARIANT:-privileged} == userns ]]; then
    unset HIPPO_TEST_CONFIG
    export NEST_HOST_IMAGES=$BATS_FILE_TMPDIR/userns-images
    return 0
  fi
  printf 'nesting_privileged: allow\n' >"$BATS_TEST_TMPDIR/hippo.yaml"
  export HIPPO_TEST_CONFIG=$BATS_TEST_TMPDIR/hippo.yaml
}

# nest_id NAME: the container id (and cgroup path without its "/") of the outer NAME.
nest_id() {
  test_name "$1"
}

# nest_userns_jq: the jq filter of the userns variant: a user namespace mapping container ids
# 0..65535 (uid and gid) to host $NEST_USERNS_BASE.. .
nest_userns_jq() {
  echo '.linux.namespaces += [{type: "user"}]
    | .linux.uidMappings = [{containerID: 0, hostID: '"$NEST_USERNS_BASE"', size: 65536}]
    | .linux.gidMappings = [{containerID: 0, hostID: '"$NEST_USERNS_BASE"', size: 65536}]'
}

# nest_userns_prepare DIR: what the mapped root needs of the bundle DIR made on the host: the
# overlay's upper dir (the rootfs's `/` and every copied-up file) is its own, and it can walk
# from / to DIR (its host uid has no capability there; the test dirs are 0700).
nest_userns_prepare() {
  local dir=$1 d
  mkdir -p "$dir/upper"
  chown "$NEST_USERNS_BASE:$NEST_USERNS_BASE" "$dir/upper"
  d=$dir
  while [[ $d != / ]]; do
    chmod o+x "$d"
    d=$(dirname "$d")
  done
}

# nest_userns_targets DIR: makes the mount targets missing from DIR/rootfs, from the host (the
# mapped root cannot mkdir in host root's directories, such as /var/lib: they read as nobody's).
nest_userns_targets() {
  local dir=$1 dest
  while IFS= read -r dest; do
    [[ -e $dir/rootfs$dest ]] || mkdir -p "$dir/rootfs$dest"
  done < <(jq -r '.mounts[].destination' "$dir/config.json")
}

# nest_outer NAME MEMORY_BYTES|"" ARGS_JSON [EXTRA_JQ]: creates and starts the outer container
# NAME: bundle $BATS_TEST_TMPDIR/NAME, id and cgroup path /$(nest_id NAME). NEST_VARIANT=userns
# makes the userns variant (nest_userns_jq; the host hippo runs without a config).
# NEST_BEFORE_CREATE names a function run with NAME once the bundle is ready, before `hippo
# create`. NEST_HOST_IMAGES names the images dir shared at $NEST_SHARE/images (default: the
# file's, from build_busybox_rootfs).
nest_outer() {
  local name=$1 mem=$2 args=$3 extra=${4:-.} dir=$BATS_TEST_TMPDIR/$1 id
  id=$(nest_id "$name")
  mkdir -p "$dir"
  echo "$name" >>"$BATS_TEST_TMPDIR/outers"
  (cd "$dir" && hippo spec)
  # Before the overlay: it takes its root's owner from the upper dir when mounted.
  if [[ ${NEST_VARIANT:-privileged} == userns ]]; then
    extra="$(nest_userns_jq) | $extra"
    nest_userns_prepare "$dir"
  fi
  nest_overlay_rootfs "$dir" || skip "this host cannot mount an overlay over / (fs $(stat -fc %T /)): the fixture needs it"
  nest_config "$dir/config.json" "/$id" "$mem" "$args" "$extra"
  nest_binds "$dir" "${NEST_HOST_IMAGES:-$BATS_FILE_TMPDIR/images}" "$REPO_ROOT" "$HIPPO_BUILD" "$(dirname "$HIPPO_BIN")"
  [[ ${NEST_VARIANT:-privileged} == userns ]] && nest_userns_targets "$dir"
  printf 'nesting_privileged: allow\n' >"$dir/share/hippo.yaml"
  if [[ -n ${NEST_BEFORE_CREATE:-} ]]; then "$NEST_BEFORE_CREATE" "$name"; fi
  hippo_create -b "$dir" "$id"
  hippo start "$id"
}

# nest_sh NAME SCRIPT: runs the bash SCRIPT in the outer NAME (hippo exec), with these helpers
# sourced, `set -eu`, $HIPPO the hippo binary and ih() the inner hippo (state under /run/hippo;
# its config allows privileged nesting, for a next level).
nest_sh() {
  local id
  id=$(nest_id "$1")
  hippo exec "$id" env HIPPO="$HIPPO_BIN" NEST_HELPERS="$REPO_ROOT/integration/nesting_helpers.bash" \
    NEST_HIPPO_CONFIG="$NEST_SHARE/hippo.yaml" \
    bash -c 'set -eu; source "$NEST_HELPERS"
      ih() { HIPPO_CONFIG=$NEST_HIPPO_CONFIG "$HIPPO" --root /run/hippo "$@"; }
      '"$2" </dev/null
}

# nest_host_cgroup NAME CONTROLLER [SUBPATH]: the host path of the outer's cgroup (or of SUBPATH
# below it) in the v1 hierarchy of CONTROLLER.
nest_host_cgroup() {
  local p
  p=/sys/fs/cgroup/$2/$(nest_id "$1")
  echo "$p${3:+/${3#/}}"
}

# nest_delete_outer NAME: `hippo delete --force` of the outer, then its rootfs overlay unmounted
# (the fixture's mount, not hippo's).
nest_delete_outer() {
  local dir=$BATS_TEST_TMPDIR/$1
  hippo delete --force "$(nest_id "$1")"
  if mountpoint -q "$dir/rootfs"; then umount "$dir/rootfs"; fi
}

# nest_assert_no_leaks NAME: nothing of the outer NAME is left on the host: no cgroup directory
# in any hierarchy, no process in one, no mount under the test's dir, no state.
nest_assert_no_leaks() {
  local id rc=0 d p
  id=$(nest_id "$1")
  d=$(nest_cgroup_dirs "/$id")
  if [[ -n $d ]]; then
    echo "leak: cgroups $(tr "\n" " " <<<"$d")" >&2
    rc=1
  fi
  # A killed process may still be on its way out (unreaped): bounded wait, 5 s.
  local i q
  for i in $(seq 50); do
    p=$(grep -lE ":/$id(/|\$)" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3 | tr '\n' ' ')
    [[ -z $p ]] && break
    sleep 0.1
  done
  if [[ -n $p ]]; then
    for q in $p; do
      echo "leak: process $q ($(awk '/^State:/ { print $2 }' "/proc/$q/status" 2>/dev/null)," \
        "ppid $(awk '/^PPid:/ { print $2 }' "/proc/$q/status" 2>/dev/null)):" \
        "$(tr '\0' ' ' <"/proc/$q/cmdline" 2>/dev/null) in $(grep -E ":/$id(/|\$)" "/proc/$q/cgroup" 2>/dev/null | head -1)" >&2
    done
    rc=1
  fi
  d=$(nest_mounts_under "$BATS_TEST_TMPDIR")
  if [[ -n $d ]]; then
    echo "leak: mounts $(tr "\n" " " <<<"$d")" >&2
    rc=1
  fi
  if [[ -e $BATS_TEST_TMPDIR/state/$id ]]; then
    echo "leak: state dir $BATS_TEST_TMPDIR/state/$id" >&2
    rc=1
  fi
  return "$rc"
}

# nest_teardown: whatever a test left, even when it failed: its outers (delete -f, then the
# processes and cgroups below their cgroup path) and the mounts under its dir.
nest_teardown() {
  local name mp
  for name in $(cat "$BATS_TEST_TMPDIR/outers" 2>/dev/null); do
    hippo delete --force "$(nest_id "$name")" >/dev/null 2>&1 || true
    nest_reap_cgroup "/$(nest_id "$name")" || true
  done
  while IFS= read -r mp; do
    [[ -n $mp ]] || continue
    umount "$mp" 2>/dev/null || umount -l "$mp" || true
  done < <(nest_mounts_under "$BATS_TEST_TMPDIR")
}

# nest_systemd_extra: the jq filter that makes an outer boot systemd: PID 1 is
# /lib/systemd/systemd in container mode (the nesting mode's cgroup mount carries its
# name=systemd hierarchy). The host's enabled services are masked in the overlay's upper /etc
# (nest_systemd_masks), as hack/systemd-sandbox.sh does in its /run.
nest_systemd_extra() {
  echo '.process.args = ["/lib/systemd/systemd", "--system", "--log-target=console", "--unit=multi-user.target"]
    | .process.env += ["container=hippo"]'
}

# nest_systemd_masks NAME: masks the host's enabled services (a system containerd, dockerd,
# registry, database ...) in the outer's upper /etc; call after nest_outer made the overlay and
# before systemd looks, i.e. through NEST_BEFORE_CREATE.
nest_systemd_masks() {
  local etc=$BATS_TEST_TMPDIR/$1/upper/etc/systemd/system u
  mkdir -p "$etc"
  for u in /etc/systemd/system/multi-user.target.wants/*; do
    [[ -e $u || -L $u ]] || continue
    ln -sf /dev/null "$etc/${u##*/}"
  done
  # userns: debugfs and tracefs cannot be mounted in a user namespace; sysusers, utmp and
  # logind write host root's files (nobody's inside): /etc/passwd, /var/log/wtmp, and logind's
  # StateDirectory /var/lib/systemd/linger (exit 238/STATE_DIRECTORY).
  if [[ ${NEST_VARIANT:-privileged} == userns ]]; then
    for u in sys-kernel-debug.mount sys-kernel-tracing.mount systemd-sysusers.service \
      systemd-update-utmp.service systemd-update-utmp-runlevel.service systemd-logind.service; do
      ln -sf /dev/null "$etc/$u"
    done
  fi
}

# nest_check_docker: the Docker test (the CI agent), for either variant: the outer "outer", a
# private dockerd inside with hippo as its runtime; docker run, a limit below the outer's cgroup,
# docker update; then the outer is deleted and nothing is left. Bats only (run, assertions; the
# calling file's SLEEPER and MIB).
nest_check_docker() {
  nest_outer outer "" "$SLEEPER"
  # dockerd with vfs storage and no iptables or bridge, its roots private (the outer's tmpfs),
  # hippo as the default runtime (a `path` runtime: containerd's runc-v2 shim runs it); its
  # own containerd under /run/dk. Docker 20.10 cannot `docker load` an OCI layout archive: the
  # image is `docker import`ed from the busybox rootfs, as docker.bats does. dockerd's trust key
  # goes to its private dir: the host's /etc/docker/key.json is host root's, 0600, unreadable in
  # the userns variant ("open /etc/docker/key.json: permission denied").
  run nest_sh outer '
    dk=/run/dk
    mkdir -p $dk/client
    "$(dirname "$(dirname "$NEST_HELPERS")")/hack/private-containerd.sh" start $dk/ctrd >/dev/null
    jq -n --arg h "$HIPPO" --arg k $dk/key.json "{runtimes: {hippo: {path: \$h}}, \"default-runtime\": \"hippo\", \"deprecated-key-path\": \$k}" >$dk/daemon.json
    setsid /usr/sbin/dockerd --config-file $dk/daemon.json --data-root /var/lib/docker \
      --exec-root $dk/exec -H unix://$dk/docker.sock --pidfile $dk/docker.pid \
      --containerd $dk/ctrd/containerd.sock --storage-driver vfs \
      --iptables=false --ip-masq=false --ip6tables=false --bridge=none --userland-proxy=false \
      --oom-score-adjust 0 --exec-opt native.cgroupdriver=cgroupfs \
      </dev/null >$dk/dockerd.log 2>&1 &
    d() { DOCKER_CONFIG=$dk/client /usr/bin/docker -H unix://$dk/docker.sock "$@"; }
    for i in $(seq 300); do d version >/dev/null 2>&1 && break; sleep 0.1; done
    d version >/dev/null || { tail -20 $dk/dockerd.log; exit 1; }
    tar -C $NEST_SHARE/images/busybox-rootfs -c . | d import --change "CMD [\"sh\"]" - hippo-busybox:test >/dev/null
    d run --rm --network none hippo-busybox:test echo ok
    d run -d --name c1 --network none -m 32m hippo-busybox:test sleep 1000 >/dev/null
    d inspect -f "{{.HostConfig.Runtime}} {{.State.Status}}" c1'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *ok* ]]
  [ "${lines[-1]}" = "hippo running" ]
  # Docker's cgroupfs parent is /docker/<id>: below the outer's cgroup on the host.
  local f
  f=$(ls -d "$(nest_host_cgroup outer memory docker)"/*/memory.limit_in_bytes)
  [ "$(cat $f)" = $((32 * MIB)) ]
  # docker update: containerd's Update through the runc-v2 shim to `hippo update`.
  run nest_sh outer 'DOCKER_CONFIG=/run/dk/client /usr/bin/docker -H unix:///run/dk/docker.sock update -m 48m --memory-swap -1 c1'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(cat $f)" = $((48 * MIB)) ]
  run nest_sh outer '
    dk=/run/dk
    DOCKER_CONFIG=$dk/client /usr/bin/docker -H unix://$dk/docker.sock rm -f c1 >/dev/null
    kill -TERM $(cat $dk/docker.pid)
    for i in $(seq 200); do [ -e /proc/$(cat $dk/docker.pid 2>/dev/null || echo 0) ] || break; sleep 0.1; done
    "$(dirname "$(dirname "$NEST_HELPERS")")/hack/private-containerd.sh" stop $dk/ctrd'
  echo "$output"
  nest_delete_outer outer
  nest_assert_no_leaks outer
}
