#!/usr/bin/env bats
# process.terminal: runc's --console-socket protocol and `hippo run`'s own pty.

load ../helpers

setup_file() {
  build_busybox_rootfs
}

setup() {
  B=$BATS_TEST_TMPDIR/bundle
  ID=$(test_name)
  RECEIVER=$HIPPO_BUILD/tests/console-receiver
  SOCK=$BATS_TEST_TMPDIR/console.sock
}

teardown() {
  cleanup_containers
  [ -z "${RECV_PID:-}" ] || kill "$RECV_PID" 2>/dev/null || true
}

start_receiver() {  # start_receiver OUTPUT [INPUT]
  "$RECEIVER" "$SOCK" "$@" &
  RECV_PID=$!
  for i in $(seq 100); do [ -S "$SOCK" ] && return 0; sleep 0.05; done
  echo "console receiver did not listen on $SOCK" >&2
  return 1
}

@test "create --console-socket sends the pty master; the container's stdio is that pty" {
  busybox_bundle "$B" sh -c 'tty; stty size; echo done'
  edit_config "$B" '.process.terminal = true | .process.consoleSize = {"height": 33, "width": 101}'
  start_receiver "$BATS_TEST_TMPDIR/tty.out"
  hippo_create --console-socket "$SOCK" -b "$B" "$ID"
  hippo start "$ID"
  wait "$RECV_PID"
  RECV_PID=
  out=$(tr -d '\r' <"$BATS_TEST_TMPDIR/tty.out")
  [[ $out == "/dev/pts/0"* ]]
  [[ $out == *"33 101"* ]]
  [[ $out == *done* ]]
  wait_status "$ID" stopped
  hippo delete "$ID"
  assert_no_leaks "$ID" "$B"
}

@test "input written to the pty master reaches the container" {
  busybox_bundle "$B" sh -c 'read line; echo "got:$line"'
  edit_config "$B" '.process.terminal = true'
  start_receiver "$BATS_TEST_TMPDIR/tty.out" $'hello-pty\n'
  hippo_create --console-socket "$SOCK" -b "$B" "$ID"
  hippo start "$ID"
  wait "$RECV_PID"
  RECV_PID=
  grep -q 'got:hello-pty' "$BATS_TEST_TMPDIR/tty.out"
  hippo delete --force "$ID"
}

@test "run in the foreground gives the container a pty and relays its output" {
  busybox_bundle "$B" sh -c 'tty; echo relayed; exit 3'
  edit_config "$B" '.process.terminal = true'
  run hippo run -b "$B" "$ID" </dev/null
  [ "$status" -eq 3 ]
  [[ $output == *"/dev/pts/0"* ]]
  [[ $output == *relayed* ]]
  assert_no_leaks "$ID" "$B"
}

@test "a terminal without a console socket cannot detach; a socket without a terminal is refused" {
  busybox_bundle "$B" true
  edit_config "$B" '.process.terminal = true'
  run hippo create -b "$B" "$ID"
  [ "$status" -eq 1 ]
  [ "$output" = "hippo: cannot allocate tty if hippo will detach without setting console socket" ]
  assert_no_leaks "$ID" "$B"
  edit_config "$B" '.process.terminal = false'
  run hippo create --console-socket "$SOCK" -b "$B" "$ID"
  [ "$status" -eq 1 ]
  [ "$output" = "hippo: cannot use console socket if hippo will not detach or allocate tty" ]
  assert_no_leaks "$ID" "$B"
}
