#!/usr/bin/env bats
# Attacks on hippo, tried as a container (or a careless caller) would, each of which runc 1.1.5
# withstands on this machine: hippo must hold on every one, through the CLI and through the
# shim. docs/security.md holds the threat model. Every test fails without the fix it guards.

load helpers
source "$REPO_ROOT/hack/lib-ctr.sh"

setup_file() {
  build_busybox_rootfs
}

# --- 1. the host binary is never reachable (CVE-2019-5736) ----------------------------------



# --- 2, 3, 5. ids, corrupt or partial state, private state ----------------------------------



# --- 4, 6, 7, 8. default devices, bounded JSON, proc/sys targets, clear errors --------------

# sec_bundle NAME [ARGS...]: a busybox bundle $SB (ARGS as busybox_bundle) and an id $SID.
# The file has no teardown of its own yet: tests that leave a container running remove it
# before they assert anything.
sec_bundle() {
  SB=$BATS_TEST_TMPDIR/$1
  SID=$(test_name "$1")
  shift
  busybox_bundle "$SB" "$@"
}

# sec_try hippo create ... ID: as `run`, but with the output in a file and stdin from /dev/null:
# a create that wrongly succeeds leaves an init holding no pipe of bats' (`run` would wait for
# it forever), and that container is removed at once (the test fails on its status).
sec_try() {
  status=0
  "$@" </dev/null >"$BATS_TEST_TMPDIR/try.out" 2>&1 || status=$?
  output=$(cat "$BATS_TEST_TMPDIR/try.out")
  if [ "$status" -eq 0 ]; then hippo delete -f "${@: -1}" >/dev/null 2>&1 || true; fi
}

# A script trying, for each "name type major minor", mknod in /dev and an open for reading;
# prints "open NAME: ok" or the shell's error, then the same for the null device.
mknod_script() {
  local s='' d
  for d in "$@"; do
    set -- $d
    s+="mknod /dev/x-$1 $2 $3 $4 || echo 'mknod $1 failed'; (exec 3</dev/x-$1 && echo ok) 2>&1 | sed 's/^/open $1: /'; "
  done
  s+='mknod /dev/x-null c 1 3 && echo hi >/dev/x-null && echo "null: ok"'
  echo "$s"
}

# Each of these opens, for reading, for a root without capabilities on this machine once the
# device cgroup lets it (checked by the second half of the test), so an EPERM is the cgroup's:
# the host's console, a loop device, fuse. /dev/mem (ENXIO or CAP_SYS_RAWIO without a cgroup)
# is only checked to be refused.
@test "4. default devices: with CAP_MKNOD a container makes but cannot open the host's console, a loop device, fuse, mem" {
  local d devices=("console c 5 1" "loop b 7 0" "fuse c 10 229")
  sec_bundle dev sh -c "$(mknod_script "${devices[@]}" "mem c 1 1")"
  edit_config "$SB" '.process.capabilities |= with_entries(.value += ["CAP_MKNOD"])'
  run hippo run -b "$SB" "$SID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"null: ok"* ]]  # mknod works and allowed devices open
  for d in console loop fuse mem; do
    [[ $output != *"mknod $d failed"* ]]
    [[ $output == *"open $d: sh: can't open /dev/x-$d: Operation not permitted"* ]]
  done
  assert_no_leaks "$SID" "$SB"

  # The same nodes open once the spec allows them: the refusals above were the cgroup's.
  sec_bundle allowed sh -c "$(mknod_script "${devices[@]}")"
  edit_config "$SB" '.process.capabilities |= with_entries(.value += ["CAP_MKNOD"])'
  edit_config "$SB" '.linux.resources.devices += [
    {allow: true, type: "c", major: 5, minor: 1, access: "r"},
    {allow: true, type: "b", major: 7, minor: 0, access: "r"},
    {allow: true, type: "c", major: 10, minor: 229, access: "r"}]'
  run hippo run -b "$SB" "$SID"
  echo "$output"
  [ "$status" -eq 0 ]
  for d in console loop fuse; do
    [[ $output == *"open $d: ok"* ]]
  done
}

# 10 MB of '[' and ']' (or only '[' when $2 is "unbalanced") as $1.
ten_mb_of_brackets() {
  if [ "${2:-}" = unbalanced ]; then
    head -c 10485760 /dev/zero | tr '\0' '[' >"$1"
  else
    { printf '{"a":'; head -c 5242877 /dev/zero | tr '\0' '['; head -c 5242877 /dev/zero | tr '\0' ']'; printf '}'; } >"$1"
  fi
}

# assert_no_leaks for a bundle whose config.json was replaced by junk: the cgroup path is read
# from the copy sec_keep_config made.
sec_keep_config() { cp "$SB/config.json" "$SB/config.orig"; }
sec_no_leaks() { cp "$SB/config.orig" "$SB/config.json" && assert_no_leaks "$SID" "$SB"; }

@test "6. bounded JSON: a 10 MB config.json, nested or unbalanced, is refused by its size; nothing is left" {
  sec_bundle big
  sec_keep_config
  for kind in nested unbalanced; do
    ten_mb_of_brackets "$SB/config.json" "$kind"
    [ "$(stat -c %s "$SB/config.json")" -eq 10485760 ]
    sec_try hippo create -b "$SB" "$SID"
    echo "$output"
    [ "$status" -ne 0 ]
    [ "$output" = "hippo: config.json: 10485760 bytes is over the 4 MiB limit" ]
    run hippo run -b "$SB" "$SID"
    [ "$output" = "hippo: config.json: 10485760 bytes is over the 4 MiB limit" ]
    sec_no_leaks
  done
}

@test "6. bounded JSON: nesting deeper than 1000 levels is refused below the size limit" {
  sec_bundle deep
  sec_keep_config
  local config
  config=$(cat "$SB/config.json")
  # 1001 levels (the object is the first) in a property hippo would otherwise ignore; then
  # 3 MB never closed.
  { printf '{"x":'; head -c 1001 /dev/zero | tr '\0' '['; head -c 1001 /dev/zero | tr '\0' ']'
    printf ',%s' "${config#\{}"; } >"$SB/config.json"
  sec_try hippo create -b "$SB" "$SID"
  [ "$status" -ne 0 ]
  [ "$output" = "hippo: config.json: nesting deeper than 1000 levels at line 1, column 1005" ]
  sec_no_leaks
  head -c 3000000 /dev/zero | tr '\0' '[' >"$SB/config.json"
  sec_try hippo create -b "$SB" "$SID"
  [ "$output" = "hippo: config.json: nesting deeper than 1000 levels at line 1, column 1001" ]
  sec_no_leaks
}

@test "6. bounded JSON: hippo exec --process refuses a 10 MB or too deep process.json" {
  sec_bundle exec sleep 1000
  hippo_create -b "$SB" "$SID"
  local big deep procs
  ten_mb_of_brackets "$BATS_TEST_TMPDIR/big.json" unbalanced
  big=$(hippo exec --process "$BATS_TEST_TMPDIR/big.json" "$SID" 2>&1) && big="accepted: $big"
  { printf '{"args":["true"],"cwd":"/","user":{"uid":0,"gid":0},"x":'
    head -c 2000 /dev/zero | tr '\0' '{'; } >"$BATS_TEST_TMPDIR/deep.json"
  deep=$(hippo exec --process "$BATS_TEST_TMPDIR/deep.json" "$SID" 2>&1) && deep="accepted: $deep"
  procs=$(hippo ps --format json "$SID" | jq length)
  hippo delete -f "$SID"
  [ "$big" = "hippo: $BATS_TEST_TMPDIR/big.json: 10485760 bytes is over the 4 MiB limit" ]
  [ "$deep" = "hippo: $BATS_TEST_TMPDIR/deep.json: nesting deeper than 1000 levels at line 1, column 1056" ]
  [ "$procs" -eq 1 ]  # nothing was started: init is the container's only process
  assert_no_leaks "$SID" "$SB"
}

@test "7. proc and sysfs must be mounted on an ordinary directory, not a symlink" {
  sec_bundle proclink
  rm -rf "$SB/rootfs/proc"
  ln -s /tmp/x "$SB/rootfs/proc"
  run hippo run -b "$SB" "$SID"
  echo "$output"
  [ "$status" -ne 0 ]
  [ "$output" = "hippo: mounts: /proc: proc must be mounted on an ordinary directory, but $SB/rootfs/proc is a symlink (-> /tmp/x)" ]
  [ ! -e "$SB/rootfs/tmp/x" ]  # the symlink was not followed to make its target
  assert_no_leaks "$SID" "$SB"

  # Even a symlink to a directory inside the rootfs.
  sec_bundle syslink
  mkdir "$SB/rootfs/elsewhere"
  rm -rf "$SB/rootfs/sys"
  ln -s elsewhere "$SB/rootfs/sys"
  run hippo run -b "$SB" "$SID"
  [ "$status" -ne 0 ]
  [ "$output" = "hippo: mounts: /sys: sysfs must be mounted on an ordinary directory, but $SB/rootfs/sys is a symlink (-> elsewhere)" ]
  assert_no_leaks "$SID" "$SB"
}

@test "8. overlapping uid maps are named as overlapping" {
  sec_bundle maps
  edit_config "$SB" '.linux.namespaces += [{type: "user"}]
    | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}, {containerID: 0, hostID: 300000, size: 1}]
    | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
  sec_try hippo create -b "$SB" "$SID"
  [ "$status" -ne 0 ]
  [ "$output" = "hippo: config.json: linux.uidMappings[1]: container ids 0-0 overlap those of linux.uidMappings[0] (0-65535)" ]
  assert_no_leaks "$SID" "$SB"
}

@test "8. a hook that does not exist says so, in the runtime and in init" {
  for kind in prestart createRuntime createContainer; do
    sec_bundle "hook-$kind"
    edit_config "$SB" '.hooks[$k] = [{path: "/nonexistent-hippo/hook"}]' --arg k "$kind"
    run hippo run -b "$SB" "$SID"
    echo "$output"
    [ "$status" -ne 0 ]
    [[ $output == *"$kind hook #0 (/nonexistent-hippo/hook): No such file or directory" ]]
    assert_no_leaks "$SID" "$SB"
  done
}

@test "8. a failing setrlimit names the rlimit; 2^64-1 is read as the integer it is" {
  sec_bundle nofile sh -c 'ulimit -n'
  edit_config "$SB" '.process.rlimits = [{type: "RLIMIT_NOFILE", hard: 1073741824, soft: 1024}]'
  run hippo run -b "$SB" "$SID"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ $output == *"setrlimit RLIMIT_NOFILE: Operation not permitted" ]]
  assert_no_leaks "$SID" "$SB"

  sec_bundle unlimited sh -c 'ulimit -c; ulimit -Hc'
  # jq would round 2^64-1 to a float: the rlimit goes in as text.
  sed -i 's/"rlimits": *\[/"rlimits":[{"type":"RLIMIT_CORE","hard":18446744073709551615,"soft":18446744073709551615},/' "$SB/config.json"
  grep -q '"hard":18446744073709551615' "$SB/config.json"
  run hippo run -b "$SB" "$SID"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'unlimited\nunlimited')" ]
}
