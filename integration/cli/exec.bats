#!/usr/bin/env bats
# hippo exec: a new process inside a running container's namespaces and cgroup.

load ../helpers

setup_file() {
  build_busybox_rootfs
}

setup() {
  B=$BATS_TEST_TMPDIR/bundle
  ID=$(test_name)
  busybox_bundle "$B" sleep 1000
  edit_config "$B" '.hostname = "exec-box"'
}

teardown() {
  cleanup_containers
}

start_container() {
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  wait_status "$ID" running
}

@test "exec runs in the container's namespaces, cgroup and rootfs" {
  start_container
  pid=$(hippo state "$ID" | jq .pid)
  run hippo exec "$ID" sh -c 'hostname; for n in net ipc uts mnt pid; do readlink /proc/self/ns/$n; done; cat /proc/self/cgroup | grep memory; ls /bin/busybox'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = exec-box ]
  for n in net ipc uts mnt pid; do
    [[ $output == *"$(readlink /proc/$pid/ns/$n)"* ]]
  done
  [[ $output == *"memory:$(cgroup_path_of "$B")"* ]]
  [ "${lines[-1]}" = /bin/busybox ]
  hippo delete --force "$ID"
}

@test "exec returns the process's exit code and sees the container's pid namespace" {
  start_container
  run hippo exec "$ID" sh -c 'ps | grep -c "sleep 1000"; exit 5'
  [ "$status" -eq 5 ]
  [ "${lines[0]}" -ge 1 ]
  run hippo exec "$ID" sh -c 'echo $$'
  [ "$output" -gt 1 ]
  hippo delete --force "$ID"
}

@test "exec --env --cwd --user apply on top of the container's process" {
  start_container
  run hippo exec --env FOO=bar --env PATH=/bin --cwd /tmp --user 1000:1001 --additional-gids 7 "$ID" \
    sh -c 'echo $FOO $PATH; pwd; id -u; id -g; id -G'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "bar /bin" ]
  [ "${lines[1]}" = /tmp ]
  [ "${lines[2]}" = 1000 ]
  [ "${lines[3]}" = 1001 ]
  [ "${lines[4]}" = "1001 7" ]
  hippo delete --force "$ID"
}

@test "exec sets HOME from the container's /etc/passwd for the exec user when env lacks it" {
  echo 'app:x:1000:1000::/home/app:/bin/sh' >>"$B/rootfs/etc/passwd"
  start_container
  run hippo exec "$ID" sh -c 'echo "$HOME"'
  [ "$output" = /root ]
  run hippo exec --user 1000:1000 "$ID" sh -c 'echo "$HOME"'
  [ "$output" = /home/app ]
  run hippo exec --user 4242:4242 "$ID" sh -c 'echo "$HOME"'
  [ "$output" = / ]
  run hippo exec --env HOME=/given "$ID" sh -c 'echo "$HOME"'
  [ "$output" = /given ]
  hippo delete --force "$ID"
}

@test "exec --process takes a whole process.json" {
  start_container
  cat >"$BATS_TEST_TMPDIR/process.json" <<'JSON'
{"args": ["sh", "-c", "echo from-process-json $X"], "env": ["X=42", "PATH=/bin"], "cwd": "/",
 "user": {"uid": 0, "gid": 0}}
JSON
  run hippo exec --process "$BATS_TEST_TMPDIR/process.json" "$ID"
  [ "$status" -eq 0 ]
  [ "$output" = "from-process-json 42" ]
  hippo delete --force "$ID"
}

@test "exec --detach --pid-file leaves the process running in the container" {
  start_container
  hippo exec -d --pid-file "$BATS_TEST_TMPDIR/exec.pid" "$ID" sleep 1000 </dev/null >/dev/null 2>&1
  epid=$(cat "$BATS_TEST_TMPDIR/exec.pid")
  [ -d "/proc/$epid" ]
  [[ "$(hippo ps --format json "$ID")" == *"$epid"* ]]
  hippo delete --force "$ID"
  for i in $(seq 100); do [ -d "/proc/$epid" ] || break; sleep 0.1; done
  [ ! -d "/proc/$epid" ] || grep -q '^State:.*Z' "/proc/$epid/status"
}

@test "exec --tty in the foreground relays a pty" {
  start_container
  run hippo exec -t "$ID" sh -c 'tty; exit 4' </dev/null
  [ "$status" -eq 4 ]
  [[ $output == *"/dev/pts/"* ]]
  hippo delete --force "$ID"
}

@test "exec errors: unknown program, stopped or paused container, unknown container" {
  start_container
  # runc exec exits 255 for every failure past its argument count, 1 for the count and flags.
  run hippo exec "$ID" no-such-program
  [ "$status" -eq 255 ]
  [[ $output == *'exec: "no-such-program": executable file not found in $PATH'* ]]
  hippo pause "$ID"
  run hippo exec "$ID" true
  [ "$status" -eq 255 ]
  [ "$output" = "hippo: cannot exec in a paused container (use --ignore-paused to override)" ]
  hippo resume "$ID"
  hippo kill "$ID" KILL
  wait_status "$ID" stopped
  run hippo exec "$ID" true
  [ "$status" -eq 255 ]
  [ "$output" = "hippo: cannot exec in a stopped container" ]
  hippo delete "$ID"
  run hippo exec "$ID" true
  [ "$status" -eq 255 ]
  [ "$output" = "hippo: container \"$ID\" does not exist" ]
}

# --- issue 15: frozen containers, exit statuses, --cgroup, process.json without user ---------

# cgroup_dirs BUNDLE: the container's cgroup directory in each hierarchy (the one on v2).
cgroup_dirs() {
  local cg c
  cg=$(cgroup_path_of "$1")
  if cgroup_v2; then
    echo "/sys/fs/cgroup$cg"
    return
  fi
  for c in /sys/fs/cgroup/*/; do
    [ -d "$c${cg#/}" ] && realpath "$c${cg#/}"
  done | sort -u
}

# procs_are FILE N: FILE (a cgroup.procs) lists N processes.
procs_are() {
  [ "$(wc -l <"$1")" -eq "$2" ]
}

# thaw_container BUNDLE: thaws the cgroup behind hippo's back (the cleanup of a failed test).
thaw_container() {
  if cgroup_v2; then
    echo 0 >"$(cgroup_file "$1" freezer cgroup.freeze)"
  else
    echo THAWED >"$(cgroup_file "$1" freezer freezer.state)"
  fi
}

@test "exec --ignore-paused into a paused container leaves resume free; the process runs once resumed" {
  start_container
  procs=$(cgroup_file "$B" freezer cgroup.procs)
  hippo pause "$ID"
  # The binary itself in the background (not the hippo function's subshell), so $! is hippo.
  HIPPO_CONFIG=/dev/null "$HIPPO_BIN" --root "$BATS_TEST_TMPDIR/state" exec -d --ignore-paused \
    --pid-file "$BATS_TEST_TMPDIR/exec.pid" "$ID" sleep 997 </dev/null >"$BATS_TEST_TMPDIR/exec.out" 2>&1 &
  exec_pid=$!
  # The exec's process has joined the frozen cgroup (and stops there).
  eventually procs_are "$procs" 2
  run timeout 20 env HIPPO_CONFIG=/dev/null "$HIPPO_BIN" --root "$BATS_TEST_TMPDIR/state" resume "$ID"
  if [ "$status" -ne 0 ]; then
    kill -9 "$exec_pid"
    thaw_container "$B"
    echo "resume did not complete (status $status): $output" >&2
    false
  fi
  wait "$exec_pid" || { cat "$BATS_TEST_TMPDIR/exec.out" >&2; false; }
  [ "$(tr '\0' ' ' <"/proc/$(cat "$BATS_TEST_TMPDIR/exec.pid")/cmdline")" = "sleep 997 " ]
  [ "$(hippo state "$ID" | jq -r .status)" = running ]
  hippo delete --force "$ID"
}

@test "exec runtime errors exit 255 as runc's do; a --pid-file in a missing directory leaves no process" {
  start_container
  procs=$(cgroup_file "$B" pids cgroup.procs)
  # Not through `run`: a process left running would hold its output pipe open.
  status=0
  hippo exec -d --pid-file "$BATS_TEST_TMPDIR/no/such/dir/exec.pid" "$ID" sleep 995 </dev/null \
    >"$BATS_TEST_TMPDIR/exec.out" 2>&1 || status=$?
  [ "$status" -eq 255 ]
  grep -q -- "--pid-file.*No such file or directory" "$BATS_TEST_TMPDIR/exec.out"
  procs_are "$procs" 1  # the init only: the exec'd process was killed, as runc kills it
  run hippo exec "$ID"
  [ "$status" -eq 255 ]
  run hippo exec -u nobody "$ID" true
  [ "$status" -eq 255 ]
  # Argument count and unknown flags stay 1, as in runc.
  run hippo exec
  [ "$status" -eq 1 ]
  run hippo exec --no-such-flag "$ID" true
  [ "$status" -eq 1 ]
  hippo delete --force "$ID"
}

@test "exec --cgroup runs the process in an existing sub-cgroup: for every controller, or those named" {
  start_container
  cg=$(cgroup_path_of "$B")
  for d in $(cgroup_dirs "$B"); do
    mkdir "$d/sub"
    if [ -f "$d/cpuset.cpus" ]; then  # an empty cpuset takes no process
      cat "$d/cpuset.cpus" >"$d/sub/cpuset.cpus"
      cat "$d/cpuset.mems" >"$d/sub/cpuset.mems"
    fi
  done
  run hippo exec --cgroup sub "$ID" cat /proc/self/cgroup
  [ "$status" -eq 0 ]
  while read -r line; do
    [[ $line == *":$cg/sub" ]] || { echo "not in the sub-cgroup: $line" >&2; false; }
  done <<<"$output"
  if cgroup_v2; then
    echo "# host is cgroup v2: one hierarchy, no per-controller form"
    run hippo exec --cgroup memory:sub "$ID" true
    [ "$status" -eq 255 ]
    [[ $output == *'--cgroup: unknown controller "memory"'* ]]
  else
    run hippo exec --cgroup memory,pids:sub "$ID" cat /proc/self/cgroup
    [ "$status" -eq 0 ]
    grep -qx "[0-9]*:memory:$cg/sub" <<<"$output"
    grep -qx "[0-9]*:pids:$cg/sub" <<<"$output"
    grep -qx "[0-9]*:freezer:$cg" <<<"$output"
  fi
  hippo delete --force "$ID"
  assert_no_leaks "$ID" "$B"
}

@test "exec --cgroup errors: a missing sub-cgroup, a path out of the container's cgroup, an unknown controller" {
  start_container
  procs=$(cgroup_file "$B" pids cgroup.procs)
  run hippo exec --cgroup nosuch "$ID" true
  [ "$status" -eq 255 ]
  [[ $output == *"--cgroup: sub-cgroup /sys/fs/cgroup/"*"/nosuch does not exist"* ]]
  run hippo exec --cgroup ../escape "$ID" true
  [ "$status" -eq 255 ]
  [[ $output == *'--cgroup: "../escape" is not a sub-cgroup of the container'* ]]
  run hippo exec --cgroup no-such-controller:sub "$ID" true
  [ "$status" -eq 255 ]
  [[ $output == *'--cgroup: unknown controller "no-such-controller"'* ]]
  run hippo exec --cgroup a --cgroup b "$ID" true
  [ "$status" -eq 255 ]
  [[ $output == *'--cgroup: "a" needs a <controller>: prefix'* ]]
  run hippo exec --cgroup a:b:c "$ID" true
  [ "$status" -eq 255 ]
  procs_are "$procs" 1
  hippo delete --force "$ID"
}

@test "exec --process without a user runs as uid 0, gid 0, as runc does" {
  edit_config "$B" '.process.user = {"uid": 1000, "gid": 1000}'
  start_container
  cat >"$BATS_TEST_TMPDIR/process.json" <<'JSON'
{"args": ["sh", "-c", "grep -E '^[UG]id:' /proc/self/status"], "cwd": "/", "env": ["PATH=/bin"]}
JSON
  run hippo exec -p "$BATS_TEST_TMPDIR/process.json" "$ID"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "$(printf 'Uid:\t0\t0\t0\t0')" ]
  [ "${lines[1]}" = "$(printf 'Gid:\t0\t0\t0\t0')" ]
  hippo delete --force "$ID"
}
