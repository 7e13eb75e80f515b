#!/usr/bin/env bats
# Container lifecycle through `hippo` on the real kernel: run, create/start/state/kill/delete,
# exit codes, and the errors that must leave nothing behind.

load ../helpers
bats_require_minimum_version 1.5.0

setup_file() {
  build_busybox_rootfs
}

setup() {
  B=$BATS_TEST_TMPDIR/bundle
  ID=$(test_name)
}

teardown() {
  cleanup_containers
  # Cgroups a test made itself, standing in for a pod's or a leftover one.
  if [ -f "$BATS_TEST_TMPDIR/own-cgroups" ]; then remove_own_cgroups; fi
  # What the runc-backend tests left in their runc root, and runc's containers that a test
  # put beside hippo's in the shared root.
  local root
  for root in "$BATS_TEST_TMPDIR/runc" "$BATS_TEST_TMPDIR/state"; do
    [ -d "$root" ] || continue
    for c in $(runc --root "$root" list -q 2>/dev/null); do
      runc --root "$root" delete --force "$c" >/dev/null 2>&1 || true
    done
  done
}

# config.yaml `backend: runc`, runc's state under $RUNC_ROOT.
use_runc_backend() {
  RUNC_ROOT=$BATS_TEST_TMPDIR/runc
  printf 'backend: runc\nrunc_root: %s\n' "$RUNC_ROOT" >"$BATS_TEST_TMPDIR/hippo.yaml"
  export HIPPO_TEST_CONFIG=$BATS_TEST_TMPDIR/hippo.yaml
}

# Files runc wrote for hippo and hippo left in runc's root (pid files, process.json).
stray_runc_files() {
  find "$RUNC_ROOT" -maxdepth 1 -type f \( -name '*.pid' -o -name '*.json' \)
}

@test "run echoes and returns 0" {
  busybox_bundle "$B"
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "$output" = "hello" ]
  assert_no_leaks "$ID" "$B"
}

@test "run returns the container's exit code" {
  busybox_bundle "$B" sh -c 'exit 7'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 7 ]
  assert_no_leaks "$ID" "$B"
}

@test "run returns 128+N when the container dies of signal N" {
  busybox_bundle "$B" sh -c 'kill -9 $$'
  # Without its own pid namespace: a namespace's init cannot SIGKILL itself.
  edit_config "$B" '.linux.namespaces |= map(select(.type != "pid"))'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 137 ]
}

@test "create, start, state, kill, delete walk the states with runc's JSON fields" {
  busybox_bundle "$B" sleep 1000
  hippo_create -b "$B" "$ID"
  run hippo state "$ID"
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.status == "created" and .pid > 0'
  [ "$(echo "$output" | jq -c 'keys')" = '["bundle","created","id","ociVersion","owner","pid","rootfs","status"]' ]
  echo "$output" | jq -e --arg b "$B" --arg id "$ID" '.bundle == $b and .rootfs == ($b + "/rootfs") and .id == $id'
  echo "$output" | jq -e '.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")'
  pid=$(echo "$output" | jq .pid)
  [ -d "/proc/$pid" ]

  hippo start "$ID"
  wait_status "$ID" running
  [ "$(hippo state "$ID" | jq .pid)" = "$pid" ]

  hippo kill "$ID" KILL
  wait_status "$ID" stopped
  [ "$(hippo state "$ID" | jq .pid)" = 0 ]

  hippo delete "$ID"
  run hippo state "$ID"
  [ "$status" -eq 1 ]
  [ "$output" = "hippo: container \"$ID\" does not exist" ]
  assert_no_leaks "$ID" "$B"
}

@test "the created init waits: its program has not run before start" {
  busybox_bundle "$B" sh -c 'echo started > /tmp/marker; sleep 1000'
  edit_config "$B" '.root.readonly = false'
  hippo_create -b "$B" "$ID"
  [ ! -e "$B/rootfs/tmp/marker" ]
  hippo start "$ID"
  for i in $(seq 100); do [ -e "$B/rootfs/tmp/marker" ] && break; sleep 0.1; done
  [ "$(cat "$B/rootfs/tmp/marker")" = started ]
  hippo delete --force "$ID"
  assert_no_leaks "$ID" "$B"
}

@test "kill defaults to SIGTERM and takes names and numbers" {
  busybox_bundle "$B" sh -c 'trap "exit 3" TERM; while true; do sleep 0.1; done'
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  wait_status "$ID" running
  hippo kill "$ID"
  wait_status "$ID" stopped
  hippo delete "$ID"
  run hippo kill "$ID" 9
  [ "$status" -eq 1 ]
  run hippo kill some-id NOTASIGNAL
  [ "$status" -eq 1 ]
  [ "$output" = 'hippo: unknown signal "NOTASIGNAL"' ]
}

@test "kill --all signals every process of the container" {
  busybox_bundle "$B" sh -c 'sleep 1000 & sleep 1000 & wait'
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  wait_status "$ID" running
  for i in $(seq 100); do [ "$(hippo ps --format json "$ID" | jq length)" -ge 3 ] && break; sleep 0.1; done
  [ "$(hippo ps --format json "$ID" | jq length)" -eq 3 ]
  hippo kill --all "$ID" KILL
  wait_status "$ID" stopped
  hippo delete "$ID"
  assert_no_leaks "$ID" "$B"
}

@test "run --detach leaves a running container that delete --force removes" {
  busybox_bundle "$B" sleep 1000
  hippo run -d -b "$B" "$ID" </dev/null >/dev/null 2>&1
  wait_status "$ID" running
  run hippo delete "$ID"
  [ "$status" -eq 1 ]
  [ "$output" = "hippo: cannot delete container \"$ID\" that is not stopped: running" ]
  hippo delete --force "$ID"
  assert_no_leaks "$ID" "$B"
}

@test "a created container can be deleted without --force" {
  busybox_bundle "$B" sleep 1000
  hippo_create -b "$B" "$ID"
  hippo delete "$ID"
  assert_no_leaks "$ID" "$B"
}

@test "start twice and start of a stopped container are clear errors" {
  busybox_bundle "$B" sleep 1000
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  run hippo start "$ID"
  [ "$status" -eq 1 ]
  [ "$output" = "hippo: cannot start an already running container" ]
  hippo kill "$ID" KILL
  wait_status "$ID" stopped
  run hippo start "$ID"
  [ "$status" -eq 1 ]
  [ "$output" = "hippo: cannot start a container that has stopped" ]
  hippo delete "$ID"
}

@test "duplicate id is refused and the first container is untouched" {
  busybox_bundle "$B" sleep 1000
  hippo_create -b "$B" "$ID"
  run hippo create -b "$B" "$ID"
  [ "$status" -eq 1 ]
  [ "$output" = "hippo: container \"$ID\" already exists" ]
  [ "$(hippo state "$ID" | jq -r .status)" = created ]
  hippo delete "$ID"
}

@test "unknown id is a clear error for every command" {
  for cmd in state start delete pause resume ps; do
    run hippo "$cmd" nope-$$
    [ "$status" -eq 1 ]
    [ "$output" = "hippo: container \"nope-$$\" does not exist" ]
  done
  run hippo kill nope-$$ KILL
  [ "$output" = "hippo: container \"nope-$$\" does not exist" ]
  run hippo delete --force nope-$$
  [ "$status" -eq 0 ]
}

@test "missing rootfs fails create and leaves nothing behind" {
  busybox_bundle "$B"
  rm -rf "$B/rootfs"
  run hippo create -b "$B" "$ID"
  [ "$status" -eq 1 ]
  [ "$output" = "hippo: config.json: root.path: rootfs $B/rootfs: No such file or directory" ]
  assert_no_leaks "$ID" "$B"
}

@test "invalid config fails create and leaves nothing behind" {
  busybox_bundle "$B"
  edit_config "$B" '.linux.resources.memory.limit = "1G"'
  run hippo create -b "$B" "$ID"
  [ "$status" -eq 1 ]
  [[ $output == *"linux.resources.memory.limit: expected an integer"* ]]
  assert_no_leaks "$ID" "$B"
}

@test "a program missing from PATH fails create with runc's message and leaves nothing" {
  busybox_bundle "$B" no-such-program
  run hippo create -b "$B" "$ID"
  [ "$status" -eq 1 ]
  [[ $output == *'exec: "no-such-program": executable file not found in $PATH'* ]]
  assert_no_leaks "$ID" "$B"
}

@test "a failing mount fails create with the mount named and leaves nothing" {
  busybox_bundle "$B"
  edit_config "$B" '.mounts += [{"destination": "/data", "type": "bind", "source": "/nonexistent-hippo-src", "options": ["rbind"]}]'
  run hippo create -b "$B" "$ID"
  [ "$status" -eq 1 ]
  [[ $output == *"/nonexistent-hippo-src"* ]]
  assert_no_leaks "$ID" "$B"
}

@test "a limit the kernel refuses fails create and leaves nothing, the cgroup's new parent neither" {
  busybox_bundle "$B"
  parent=$(cgroup_path_of "$B")
  edit_config "$B" '.linux.resources.cpu.cpus = "4095" | .linux.cgroupsPath += "/c"'
  run hippo create -b "$B" "$ID"
  [ "$status" -eq 1 ]
  [[ $output == *"cpuset.cpus"*"4095"* ]]
  assert_no_leaks "$ID" "$B"
  # The cgroup's parent, made for it, goes too.
  for c in /sys/fs/cgroup/ /sys/fs/cgroup/*/; do
    [ ! -d "$c${parent#/}" ] || { echo "leak: $c${parent#/}"; return 1; }
  done
}

@test "a mount the plan refuses, found after the cgroup was made, fails create and leaves nothing" {
  busybox_bundle "$B"
  edit_config "$B" '.mounts += [{destination: "/", type: "tmpfs", source: "tmpfs"}]'
  run hippo create -b "$B" "$ID"
  [ "$status" -eq 1 ]
  [ "$output" = "hippo: mounts: /: cannot mount over the rootfs itself" ]
  assert_no_leaks "$ID" "$B"
}

@test "list and ps report the container as JSON and tables" {
  busybox_bundle "$B" sleep 1000
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  run hippo list --format json
  [ "$status" -eq 0 ]
  echo "$output" | jq -e --arg id "$ID" '.[] | select(.id == $id) | .status == "running"'
  run hippo list
  [[ ${lines[0]} == ID* ]]
  [[ $output == *"$ID"* ]]
  run hippo list -q
  [ "$output" = "$ID" ]
  pid=$(hippo state "$ID" | jq .pid)
  [ "$(hippo ps --format json "$ID")" = "[$pid]" ]
  run hippo ps "$ID"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == *PID* ]]
  [[ ${lines[1]} == *sleep* ]]
  hippo delete --force "$ID"
}

@test "--preserve-fds passes exactly the requested extra fds to the container" {
  echo first >"$BATS_TEST_TMPDIR/f3"
  echo second >"$BATS_TEST_TMPDIR/f4"
  busybox_bundle "$B" sh -c 'cat /proc/self/fd/3 /proc/self/fd/4 && ls /proc/self/fd | sort -n | tr "\n" " "'
  run hippo run --preserve-fds 2 -b "$B" "$ID" 3<"$BATS_TEST_TMPDIR/f3" 4<"$BATS_TEST_TMPDIR/f4"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = first ]
  [ "${lines[1]}" = second ]
  # stdio, the two preserved fds, and the fd ls itself opens on /proc/self/fd: nothing else.
  [ "${lines[2]}" = "0 1 2 3 4 5 " ]
  run hippo run -b "$B" "$ID" 3<"$BATS_TEST_TMPDIR/f3"
  [ "$status" -ne 0 ]
}

@test "no fd of hippo leaks into the container" {
  busybox_bundle "$B" sh -c 'ls /proc/self/fd | sort -n | tr "\n" " "'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  # stdio and the directory fd ls itself reads /proc/self/fd with.
  [ "$output" = "0 1 2 3 " ]
}

@test "run with an id in use fails and leaves the existing container alone" {
  busybox_bundle "$B" sleep 1000
  hippo_create -b "$B" "$ID"
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 1 ]
  [ "$output" = "hippo: container \"$ID\" already exists" ]
  [ "$(hippo state "$ID" | jq -r .status)" = created ]
  hippo delete "$ID"
}

@test "config.yaml backend: runc drives runc with the same commands" {
  printf 'backend: runc\nrunc_root: %s\n' "$BATS_TEST_TMPDIR/runc" >"$BATS_TEST_TMPDIR/hippo.yaml"
  export HIPPO_TEST_CONFIG=$BATS_TEST_TMPDIR/hippo.yaml
  busybox_bundle "$B" sh -c 'echo through-runc; exit 5'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 5 ]
  [ "$output" = through-runc ]
  busybox_bundle "$B-2" sleep 1000
  hippo_create -b "$B-2" "$ID-2"
  runc --root "$BATS_TEST_TMPDIR/runc" state "$ID-2" | jq -e '.status == "created"'
  hippo start "$ID-2"
  [ "$(hippo state "$ID-2" | jq -r .status)" = running ]
  hippo delete --force "$ID-2"
  run runc --root "$BATS_TEST_TMPDIR/runc" list -q
  [ -z "$output" ]
}

@test "backend: runc: exec waits for the process, returns its exit code and relays a pty" {
  use_runc_backend
  busybox_bundle "$B" sleep 1000
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  # Without waiting, hippo would return 0 before the process printed anything.
  run hippo exec "$ID" sh -c 'sleep 0.3; echo late; exit 7'
  [ "$status" -eq 7 ]
  [ "$output" = late ]
  run hippo exec -t "$ID" sh -c 'tty; exit 4' </dev/null
  [ "$status" -eq 4 ]
  [[ $output == *"/dev/pts/"* ]]
  run hippo exec "$ID" sh -c 'kill -TERM $$'
  [ "$status" -eq 143 ]
  hippo delete --force "$ID"
  [ -z "$(stray_runc_files)" ]
}

@test "backend: runc: create and exec write --pid-file, exec --ignore-paused, nothing left in runc's root" {
  use_runc_backend
  busybox_bundle "$B" sleep 1000
  hippo_create --pid-file "$BATS_TEST_TMPDIR/init.pid" -b "$B" "$ID"
  [ "$(cat "$BATS_TEST_TMPDIR/init.pid")" = "$(runc --root "$RUNC_ROOT" state "$ID" | jq -r .pid)" ]
  [ -z "$(stray_runc_files)" ]
  hippo start "$ID"
  hippo exec -d --pid-file "$BATS_TEST_TMPDIR/exec.pid" "$ID" sleep 999
  [ "$(tr '\0' ' ' <"/proc/$(cat "$BATS_TEST_TMPDIR/exec.pid")/cmdline")" = "sleep 999 " ]
  [ -z "$(stray_runc_files)" ]
  hippo pause "$ID"
  run hippo exec -d "$ID" true
  [ "$status" -eq 255 ]
  [[ $output == *"cannot exec in a paused container"* ]]
  # Into a frozen container the exec goes through once it is resumed (runc's setup runs in it).
  hippo exec -d --pid-file "$BATS_TEST_TMPDIR/paused.pid" --ignore-paused "$ID" sleep 998 &
  exec_pid=$!
  eventually pgrep -f "^runc --root $RUNC_ROOT .* exec .*--ignore-paused"
  hippo resume "$ID"
  wait "$exec_pid"
  [ "$(tr '\0' ' ' <"/proc/$(cat "$BATS_TEST_TMPDIR/paused.pid")/cmdline")" = "sleep 998 " ]
  hippo delete --force "$ID"
  [ -z "$(stray_runc_files)" ]
}

@test "kill with signal 0 checks that the init exists and delivers nothing, as runc" {
  busybox_bundle "$B" sleep 1000
  hippo run -d -b "$B" "$ID" </dev/null >/dev/null
  hippo kill "$ID" 0
  [ "$(hippo state "$ID" | jq -r .status)" = running ]
  hippo kill --all "$ID" 0
  hippo kill "$ID" KILL
  wait_status "$ID" stopped
  # runc 1.1.5 answers the same for a stopped container (exit 1).
  run hippo kill "$ID" 0
  [ "$status" -eq 1 ]
  [ "$output" = 'hippo: container not running' ]
}

@test "ps passes what follows the id to ps(1) and keeps the container's rows, as runc" {
  busybox_bundle "$B" sleep 1000
  hippo run -d -b "$B" "$ID" </dev/null >/dev/null
  pid=$(hippo state "$ID" | jq .pid)
  run hippo ps "$ID" -e -o pid,comm
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 2 ]
  [[ ${lines[0]} =~ ^\ *PID\ COMMAND$ ]]
  [[ ${lines[1]} =~ ^\ *$pid\ sleep$ ]]
  # A PID column anywhere: ps -o comm,pid.
  run hippo ps "$ID" -o comm,pid -e
  [[ ${lines[1]} =~ ^sleep\ +$pid$ ]]
  [ "$(hippo ps -f json "$ID")" = "[$pid]" ]
  # ps's own complaint, in one line, as runc reports it.
  run hippo ps "$ID" --no-such-ps-option
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "hippo: ps: exit status 1: error: unknown gnu long option" ]]
}

@test "a runc container in hippo's --root (Docker shares one): list skips it with a warning, state and delete refuse it" {
  busybox_bundle "$B" sleep 1000
  busybox_bundle "$BATS_TEST_TMPDIR/runc-bundle" sleep 1000
  hippo run -d -b "$B" "$ID" </dev/null >/dev/null
  runc --root "$BATS_TEST_TMPDIR/state" run -d -b "$BATS_TEST_TMPDIR/runc-bundle" "$ID-runc" \
    </dev/null >/dev/null 2>&1
  run --separate-stderr hippo list -q
  [ "$status" -eq 0 ]
  [ "$output" = "$ID" ]
  [[ $stderr == *"container \\\"$ID-runc\\\" is not a hippo container"* ]]
  run hippo state "$ID-runc"
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "hippo: container \"$ID-runc\" is not a hippo container: "* ]]
  run hippo delete --force "$ID-runc"
  [ "$status" -eq 1 ]
  run hippo kill "$ID-runc" KILL
  [ "$status" -eq 1 ]
  # runc's container and state are untouched.
  [ "$(runc --root "$BATS_TEST_TMPDIR/state" state "$ID-runc" | jq -r .status)" = running ]
  runc --root "$BATS_TEST_TMPDIR/state" delete --force "$ID-runc"
}

@test "list's table: columns as wide as runc's tabwriter makes them (64-character ids), owner named" {
  local long
  long=$(printf '%064d' 0 | tr 0 f)
  busybox_bundle "$B" sleep 1000
  hippo run -d -b "$B" "$long" </dev/null >/dev/null
  run hippo list
  [ "$status" -eq 0 ]
  # tabwriter(minwidth 12, padding 3): a column is its widest cell + 3, at least 12.
  local bundle_w=$((${#B} + 3)) created_w
  created_w=$(($(hippo state "$long" | jq -r .created | wc -L) + 3))
  [[ ${lines[0]} == "$(printf "%-67s%-12s%-12s%-${bundle_w}s%-${created_w}sOWNER" ID PID STATUS BUNDLE CREATED)" ]]
  [[ ${lines[1]} == "$(printf "%-67s%-12s%-12s%-${bundle_w}s%-${created_w}s" "$long" \
    "$(hippo state "$long" | jq .pid)" running "$B" "$(hippo state "$long" | jq -r .created)")$(id -un)" ]]
  [ "$(hippo list -q)" = "$long" ]
  [ "$(hippo list --format json | jq -r '.[0].id + " " + .[0].owner')" = "$long $(id -un)" ]
  hippo delete --force "$long"
}

# --- issue 15: a container's cgroup that exists before its create ---------------------------

# own_cgroup_dirs CGPATH: the directories of cgroup CGPATH, one per hierarchy (one on v2).
own_cgroup_dirs() {
  local c
  if cgroup_v2; then
    echo "/sys/fs/cgroup$1"
    return
  fi
  for c in /sys/fs/cgroup/*/; do
    [ -f "${c}cgroup.procs" ] && realpath -m "$c${1#/}"
  done | sort -u
}

# make_own_cgroup CGPATH: makes it in every hierarchy, as an engine making a pod's cgroup would;
# teardown removes it (remove_own_cgroups).
make_own_cgroup() {
  local d
  echo "$1" >>"$BATS_TEST_TMPDIR/own-cgroups"
  for d in $(own_cgroup_dirs "$1"); do
    mkdir -p "$d"
    if [ -f "$d/cpuset.cpus" ]; then
      cat "$(dirname "$d")/cpuset.cpus" >"$d/cpuset.cpus"
      cat "$(dirname "$d")/cpuset.mems" >"$d/cpuset.mems"
    fi
  done
}

# freezer_file CGPATH: the file that freezes it.
freezer_file() {
  if cgroup_v2; then echo "/sys/fs/cgroup$1/cgroup.freeze"; else echo "/sys/fs/cgroup/freezer$1/freezer.state"; fi
}

freeze_own_cgroup() {
  if cgroup_v2; then echo 1 >"$(freezer_file "$1")"; else echo FROZEN >"$(freezer_file "$1")"; fi
}

# Thaws, kills what a test started in them (by pid, from their cgroup.procs) and removes them.
remove_own_cgroups() {
  local cg d pid
  while read -r cg; do
    if [ -f "$(freezer_file "$cg")" ]; then
      if cgroup_v2; then echo 0 >"$(freezer_file "$cg")"; else echo THAWED >"$(freezer_file "$cg")"; fi
    fi
    for d in $(own_cgroup_dirs "$cg"); do
      [ -f "$d/cgroup.procs" ] || continue
      for pid in $(cat "$d/cgroup.procs"); do kill -9 "$pid" 2>/dev/null || true; done
    done
    for d in $(own_cgroup_dirs "$cg"); do
      [ -d "$d" ] || continue
      eventually rmdir "$d"
    done
  done <"$BATS_TEST_TMPDIR/own-cgroups"
  rm -f "$BATS_TEST_TMPDIR/own-cgroups"
}

@test "run -d and create in a pre-existing frozen cgroup are refused as runc refuses them; nothing is made, the cgroup stays" {
  busybox_bundle "$B" sleep 1000
  cg=$(cgroup_path_of "$B")
  make_own_cgroup "$cg"
  freeze_own_cgroup "$cg"
  for cmd in "run -d" create; do
    # Output to a file, not through `run`: an init left frozen would hold its pipe open.
    status=0
    timeout 20 env HIPPO_CONFIG=/dev/null "$HIPPO_BIN" --root "$BATS_TEST_TMPDIR/state" $cmd \
      -b "$B" "$ID" </dev/null >"$BATS_TEST_TMPDIR/out" 2>&1 || status=$?
    cat "$BATS_TEST_TMPDIR/out"
    [ "$status" -eq 1 ]
    grep -qx "hippo: create $ID: cgroup .*: container's cgroup unexpectedly frozen" "$BATS_TEST_TMPDIR/out"
    [ ! -e "$BATS_TEST_TMPDIR/state/$ID" ]
  done
  # The cgroup is as it was: all its directories, still frozen, no process in it.
  for d in $(own_cgroup_dirs "$cg"); do
    [ -d "$d" ]
    [ -z "$(cat "$d/cgroup.procs")" ]
  done
  grep -qE '^(FROZEN|1)$' "$(freezer_file "$cg")"
}

@test "create in a pre-existing cgroup that holds processes warns as runc 1.1 does, and goes on" {
  busybox_bundle "$B" sleep 1000
  cg=$(cgroup_path_of "$B")
  make_own_cgroup "$cg"
  # 3>&-: bats waits for every holder of its fd 3 before it ends the test.
  sleep 994 </dev/null >/dev/null 2>&1 3>&- &
  sleeper=$!
  for d in $(own_cgroup_dirs "$cg"); do echo "$sleeper" >"$d/cgroup.procs"; done
  # Not through `run`: the init would hold its output pipe open.
  hippo run -d -b "$B" "$ID" </dev/null >"$BATS_TEST_TMPDIR/out" 2>&1
  grep -q "container's cgroup is not empty: 1 process(es) found" "$BATS_TEST_TMPDIR/out"
  [ "$(hippo state "$ID" | jq -r .status)" = running ]
  hippo delete --force "$ID"
}

# inner_cgroups CGPATH PID1 PID2: does to a container's cgroup what an inner runtime would, in
# every hierarchy: cgroups below it (inner/deeper, inner2), PID1 moved into inner/deeper, PID2
# into inner2, and inner2 frozen (its tasks take SIGKILL only once thawed).
inner_cgroups() {
  local d sub
  for d in $(own_cgroup_dirs "$1"); do
    for sub in inner inner/deeper inner2; do
      mkdir "$d/$sub"
      if [ -f "$d/$sub/cpuset.cpus" ]; then
        cat "$d/cpuset.cpus" >"$d/$sub/cpuset.cpus"
        cat "$d/cpuset.mems" >"$d/$sub/cpuset.mems"
      fi
    done
    echo "$2" >"$d/inner/deeper/cgroup.procs"
    echo "$3" >"$d/inner2/cgroup.procs"
  done
  if cgroup_v2; then
    echo 1 >"/sys/fs/cgroup$1/inner2/cgroup.freeze"
  else
    echo FROZEN >"/sys/fs/cgroup/freezer$1/inner2/freezer.state"
  fi
}

# The pids of the container's processes other than its init, from its cgroup (bounded wait
# until there are $2).
sleepers_of() {
  local procs i
  procs=$(own_cgroup_dirs "$1" | head -1)/cgroup.procs
  for i in $(seq 100); do
    [ "$(grep -cv "^$3\$" "$procs")" -ge "$2" ] && break
    sleep 0.1
  done
  grep -v "^$3\$" "$procs"
}

process_gone() {
  ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

@test "delete --force kills what runs in inner cgroups below the container's, frozen too, and removes them in every hierarchy" {
  busybox_bundle "$B" sh -c 'sleep 1001 & sleep 1002 & exec sleep 1000'
  hippo run -d -b "$B" "$ID" </dev/null >/dev/null 2>&1
  cg=$(cgroup_path_of "$B")
  init=$(hippo state "$ID" | jq -r .pid)
  sleepers=$(sleepers_of "$cg" 2 "$init")
  # shellcheck disable=SC2086
  inner_cgroups "$cg" $sleepers
  hippo delete --force "$ID"
  assert_no_leaks "$ID" "$B"
  for p in $init $sleepers; do eventually process_gone "$p"; done
}

@test "delete of a stopped container kills survivors in inner cgroups, frozen too, and removes its whole cgroup subtree" {
  # No pid namespace: the init's death leaves its children running, as runc's shared-pid case.
  busybox_bundle "$B" sh -c 'sleep 1001 & sleep 1002 & exec sleep 1000'
  edit_config "$B" '.linux.namespaces |= map(select(.type != "pid"))'
  hippo run -d -b "$B" "$ID" </dev/null >/dev/null 2>&1
  cg=$(cgroup_path_of "$B")
  init=$(hippo state "$ID" | jq -r .pid)
  sleepers=$(sleepers_of "$cg" 2 "$init")
  # shellcheck disable=SC2086
  inner_cgroups "$cg" $sleepers
  kill -9 "$init"
  wait_status "$ID" stopped
  hippo delete "$ID"
  assert_no_leaks "$ID" "$B"
  for p in $sleepers; do eventually process_gone "$p"; done
}

# Whether process $1 is in a user namespace other than ours (unshare has unshared).
own_user_namespace() {
  [ "$(readlink "/proc/$1/ns/user")" != "$(readlink /proc/self/ns/user)" ]
}

@test "hippo run inside a user namespace (hippo nested) binds the host's device nodes, skips v1 device rules, leaves nothing" {
  # What an inner hippo meets in a nesting container with a user namespace: mknod and v1
  # devices.allow/deny are refused there. Ids 0-65535 map to themselves, so the host's cgroup
  # directories (root's) stay writable by their owner.
  busybox_bundle "$B" sh -c 'stat -c "%d:%i" /dev/null; echo ok'
  # Bounded: a failing test leaves it behind for two minutes at most.
  unshare --user --mount sleep 120 </dev/null >/dev/null 2>&1 3>&- &
  ns=$!
  eventually own_user_namespace "$ns"
  echo "0 0 65536" >"/proc/$ns/uid_map"
  echo "0 0 65536" >"/proc/$ns/gid_map"
  status=0
  nsenter -t "$ns" --user --mount env HIPPO_CONFIG=/dev/null "$HIPPO_BIN" \
    --root "$BATS_TEST_TMPDIR/state" run -b "$B" "$ID" </dev/null >"$BATS_TEST_TMPDIR/out" 2>&1 || status=$?
  kill "$ns"
  cat "$BATS_TEST_TMPDIR/out"
  [ "$status" -eq 0 ]
  # The container's /dev/null is the host's node, bound (same device and inode), not a new one.
  [ "$(head -1 "$BATS_TEST_TMPDIR/out")" = "$(stat -c "%d:%i" /dev/null)" ]
  grep -qx ok "$BATS_TEST_TMPDIR/out"
  assert_no_leaks "$ID" "$B"
}
