#!/usr/bin/env bats
# OCI hooks: the six kinds at their runtime-spec points and namespaces, the state on stdin,
# timeouts, and a failing hook's effect.

load ../helpers

setup_file() {
  build_busybox_rootfs
}

setup() {
  B=$BATS_TEST_TMPDIR/bundle
  ID=$(test_name)
  LOG=$BATS_TEST_TMPDIR/hooks
  mkdir -p "$LOG"
  chmod 777 "$LOG"
}

teardown() {
  cleanup_containers
}

# hook KIND SCRIPT [TIMEOUT]: appends a hook running `sh -c SCRIPT` (the host's sh, or the
# container's for startContainer, which runs after pivot_root).
add_hook() {
  edit_config "$B" '.hooks[$k] += [{path: "/bin/sh", args: ["sh", "-c", $s]} + (if $t == "" then {} else {timeout: ($t | tonumber)} end)]' \
    --arg k "$1" --arg s "$2" --arg t "${3:-}"
}

# The container sees the host's log dir at /hooklog.
share_log() {
  edit_config "$B" '.mounts += [{destination: "/hooklog", type: "bind", source: $src, options: ["rbind", "rw"]}]' \
    --arg src "$LOG"
}

all_six_hooks() {
  share_log
  for k in prestart createRuntime createContainer poststart poststop; do
    add_hook "$k" "echo $k >>$LOG/order; cat >$LOG/$k.json; readlink /proc/self/ns/net >$LOG/$k.net; readlink /proc/self/ns/mnt >$LOG/$k.mnt"
  done
  add_hook startContainer "echo startContainer >>/hooklog/order; cat >/hooklog/startContainer.json"
}

@test "the six hook kinds fire once each, in the runtime-spec order" {
  busybox_bundle "$B" sh -c 'echo process >>/hooklog/order'
  all_six_hooks
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "$(tr '\n' ' ' <"$LOG/order")" = "prestart createRuntime createContainer startContainer process poststart poststop " ] ||
    [ "$(tr '\n' ' ' <"$LOG/order")" = "prestart createRuntime createContainer startContainer poststart process poststop " ]
}

@test "hippo run without startContainer hooks (no exec fifo, no separate start): the other five fire in order, poststart sees it running" {
  busybox_bundle "$B" sh -c 'echo process >>/hooklog/order'
  share_log
  for k in prestart createRuntime createContainer poststart poststop; do
    add_hook "$k" "echo $k >>$LOG/order; cat >$LOG/$k.json"
  done
  # The fifo would exist from before the cgroup on (create, then start).
  add_hook prestart "ls $BATS_TEST_TMPDIR/state/$ID >$LOG/entries"
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  grep -qx state.json "$LOG/entries"
  run grep -c exec.fifo "$LOG/entries"
  [ "$output" = 0 ]
  [ "$(tr '\n' ' ' <"$LOG/order")" = "prestart createRuntime createContainer process poststart poststop " ] ||
    [ "$(tr '\n' ' ' <"$LOG/order")" = "prestart createRuntime createContainer poststart process poststop " ]
  [ "$(jq -r .status "$LOG/poststart.json")" = running ]
  [ "$(jq -r .pid "$LOG/poststart.json")" -gt 0 ]
  assert_no_leaks "$ID" "$B"
}

@test "hippo run with a failing poststart hook fails with the hook's error and leaves nothing" {
  busybox_bundle "$B" sleep 1000
  add_hook poststart "exit 6"
  run hippo run -b "$B" "$ID"
  [ "$status" -ne 0 ]
  [[ $output == *'error running hook #0 (poststart, /bin/sh): exit status 6'* ]]
  run hippo state "$ID"
  [ "$status" -ne 0 ]
  assert_no_leaks "$ID" "$B"
}

@test "each hook reads the state on stdin with the status of its point" {
  busybox_bundle "$B" sleep 1000
  all_six_hooks
  hippo_create -b "$B" "$ID"
  pid=$(hippo state "$ID" | jq .pid)
  for k in prestart createRuntime createContainer; do
    [ "$(jq -r .status "$LOG/$k.json")" = creating ]
    [ "$(jq -r .id "$LOG/$k.json")" = "$ID" ]
    [ "$(jq -r .pid "$LOG/$k.json")" = "$pid" ]
    [ "$(jq -r .bundle "$LOG/$k.json")" = "$B" ]
    [ "$(jq -r .ociVersion "$LOG/$k.json")" != null ]
  done
  [ ! -e "$LOG/startContainer.json" ]
  hippo start "$ID"
  [ "$(jq -r .status "$LOG/startContainer.json")" = created ]
  [ "$(jq -r .pid "$LOG/startContainer.json")" = "$pid" ]
  [ "$(jq -r .status "$LOG/poststart.json")" = running ]
  [ "$(jq -r .pid "$LOG/poststart.json")" = "$pid" ]
  [ ! -e "$LOG/poststop.json" ]
  hippo kill "$ID" KILL
  wait_status "$ID" stopped
  hippo delete "$ID"
  [ "$(jq -r .status "$LOG/poststop.json")" = stopped ]
  [ "$(jq -r .id "$LOG/poststop.json")" = "$ID" ]
}

@test "prestart, createRuntime, poststart, poststop run in the runtime's namespaces, createContainer in the container's" {
  busybox_bundle "$B" sleep 1000
  all_six_hooks
  hippo_create -b "$B" "$ID"
  pid=$(hippo state "$ID" | jq .pid)
  hippo start "$ID"
  host_net=$(readlink /proc/self/ns/net)
  for k in prestart createRuntime poststart; do
    [ "$(cat "$LOG/$k.net")" = "$host_net" ]
  done
  [ "$(cat "$LOG/createContainer.net")" = "$(readlink /proc/$pid/ns/net)" ]
  [ "$(cat "$LOG/createContainer.mnt")" = "$(readlink /proc/$pid/ns/mnt)" ]
  [ "$(cat "$LOG/createContainer.net")" != "$host_net" ]
  hippo delete --force "$ID"
  [ "$(cat "$LOG/poststop.net")" = "$host_net" ]
}

@test "hook args and env are passed exactly" {
  busybox_bundle "$B" true
  edit_config "$B" '.hooks.prestart = [{path: "/bin/sh", args: ["hooked-name", "-c", "echo $0 $FOO $BAR >" + $f], env: ["FOO=foo", "BAR=bar"]}]' \
    --arg f "$LOG/args"
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "$(cat "$LOG/args")" = "hooked-name foo bar" ]
}

@test "a failing prestart hook aborts create with its name and output, and nothing is left behind" {
  busybox_bundle "$B" true
  add_hook prestart "echo broken-hook-output >&2; exit 3"
  add_hook createRuntime "touch $LOG/should-not-run"
  run hippo create -b "$B" "$ID"
  [ "$status" -ne 0 ]
  [[ $output == *'error running hook #0 (prestart, /bin/sh): exit status 3: broken-hook-output'* ]]
  [ ! -e "$LOG/should-not-run" ]
  assert_no_leaks "$ID" "$B"
}

@test "a failing createContainer hook aborts create and cleans up" {
  busybox_bundle "$B" true
  add_hook createContainer "exit 4"
  run hippo create -b "$B" "$ID"
  [ "$status" -ne 0 ]
  [[ $output == *'error running hook #0 (createContainer, /bin/sh): exit status 4'* ]]
  assert_no_leaks "$ID" "$B"
}

@test "a hook past its timeout is killed and fails create" {
  busybox_bundle "$B" true
  add_hook createRuntime "sleep 30" 1
  run hippo create -b "$B" "$ID"
  [ "$status" -ne 0 ]
  [[ $output == *'error running hook #0 (createRuntime, /bin/sh): timed out after 1 s'* ]]
  assert_no_leaks "$ID" "$B"
  add_hook createContainer "sleep 30" 1
  edit_config "$B" 'del(.hooks.createRuntime)'
  run hippo create -b "$B" "$ID-2"
  [ "$status" -ne 0 ]
  [[ $output == *'error running hook #0 (createContainer, /bin/sh)'*'timed out'* ]]
  assert_no_leaks "$ID-2" "$B"
}

@test "a failing startContainer hook fails start and the process never runs" {
  busybox_bundle "$B" sh -c 'echo ran >/hooklog/process'
  share_log
  add_hook startContainer "exit 5"
  hippo_create -b "$B" "$ID"
  run hippo start "$ID"
  [ "$status" -ne 0 ]
  [[ $output == *'error running hook #0 (startContainer, /bin/sh): exit status 5'* ]]
  wait_status "$ID" stopped
  [ ! -e "$LOG/process" ]
  hippo delete "$ID"
  assert_no_leaks "$ID" "$B"
}

@test "a failing poststart hook fails start and stops the container" {
  busybox_bundle "$B" sleep 1000
  add_hook poststart "exit 6"
  hippo_create -b "$B" "$ID"
  run hippo start "$ID"
  [ "$status" -ne 0 ]
  [[ $output == *'error running hook #0 (poststart, /bin/sh): exit status 6'* ]]
  wait_status "$ID" stopped
  hippo delete "$ID"
}

@test "a failing poststop hook is only a warning: delete succeeds, later hooks do not run" {
  busybox_bundle "$B" true
  add_hook poststop "exit 7"
  add_hook poststop "touch $LOG/second"
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  wait_status "$ID" stopped
  run hippo delete "$ID"
  [ "$status" -eq 0 ]
  [[ $output == *'error running hook #0 (poststop, /bin/sh): exit status 7'* ]]
  [ ! -e "$LOG/second" ]
  assert_no_leaks "$ID" "$B"
}

@test "a hook that cannot be executed fails clearly" {
  busybox_bundle "$B" true
  edit_config "$B" '.hooks.createRuntime = [{path: "/nonexistent/hook"}]'
  run hippo create -b "$B" "$ID"
  [ "$status" -ne 0 ]
  [[ $output == *'error running hook #0 (createRuntime, /nonexistent/hook): No such file or directory'* ]]
  assert_no_leaks "$ID" "$B"
}

@test "createContainer hooks run with the rootfs as their working directory, as in runc" {
  # Hook libraries write relative paths there (issue 15 item 9).
  busybox_bundle "$B" true
  add_hook createContainer "pwd >$LOG/cwd; touch created-by-hook"
  cd "$BATS_TEST_TMPDIR"  # where a hook without the fix would write
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "$(cat "$LOG/cwd")" = "$(realpath "$B/rootfs")" ]
  [ -e "$B/rootfs/created-by-hook" ]
}
