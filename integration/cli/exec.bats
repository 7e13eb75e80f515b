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
  run hippo exec "$ID" no-such-program
  [ "$status" -eq 1 ]
  [[ $output == *'exec: "no-such-program": executable file not found in $PATH'* ]]
  hippo pause "$ID"
  run hippo exec "$ID" true
  [ "$status" -eq 1 ]
  [ "$output" = "hippo: cannot exec in a paused container (use --ignore-paused to override)" ]
  hippo resume "$ID"
  hippo kill "$ID" KILL
  wait_status "$ID" stopped
  run hippo exec "$ID" true
  [ "$status" -eq 1 ]
  [ "$output" = "hippo: cannot exec in a stopped container" ]
  hippo delete "$ID"
  run hippo exec "$ID" true
  [ "$output" = "hippo: container \"$ID\" does not exist" ]
}
