#!/usr/bin/env bats
# linux.seccomp: the filter is compiled by libseccomp before the clone and loaded by init.

load ../helpers

setup_file() {
  build_busybox_rootfs
}

setup() {
  B=$BATS_TEST_TMPDIR/bundle
  ID=$(test_name)
}

teardown() {
  cleanup_containers
  if [ -n "${AGENT_PID:-}" ]; then kill "$AGENT_PID" 2>/dev/null || true; fi
}

# seccomp_rules JQ_SYSCALLS [DEFAULT_ACTION]: a filter (allow by default) with these rules.
seccomp_rules() {
  local rules
  rules=$(jq -cn "$1")
  # a writable rootfs: a refused mkdir is seccomp's doing, not EROFS
  edit_config "$B" '.root.readonly = false | .linux.seccomp = {defaultAction: $dflt, architectures: ["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"], syscalls: $rules}' \
    --argjson rules "$rules" --arg dflt "${2:-SCMP_ACT_ALLOW}"
}

@test "a rule denying mkdir with errno 1 makes mkdir /tmp/x fail with EPERM" {
  busybox_bundle "$B" sh -c 'mkdir /tmp/x; echo rc=$?; touch /tmp/file && echo touch-ok'
  seccomp_rules '[{names: ["mkdir","mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == *"mkdir: can't create directory '/tmp/x': Operation not permitted"* ]]
  [ "${lines[1]}" = rc=1 ]
  [ "${lines[2]}" = touch-ok ]
}

@test "errnoRet is returned as configured, and SCMP_ACT_ERRNO without it gives EPERM" {
  busybox_bundle "$B" sh -c 'mkdir /tmp/x; ln -s a /tmp/l'
  seccomp_rules '[{names: ["mkdir","mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 28},
                  {names: ["symlink","symlinkat"], action: "SCMP_ACT_ERRNO"}]'
  run hippo run -b "$B" "$ID"
  [[ ${lines[0]} == *"No space left on device"* ]]
  [[ ${lines[1]} == *"Operation not permitted"* ]]
}

@test "the filter is in force: Seccomp mode 2 with one filter" {
  busybox_bundle "$B" grep -E '^Seccomp' /proc/self/status
  seccomp_rules '[{names: ["mkdir"], action: "SCMP_ACT_ERRNO"}]'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} =~ Seccomp:[[:space:]]+2 ]]
  [[ ${lines[1]} =~ Seccomp_filters:[[:space:]]+1 ]]
}

@test "defaultAction SCMP_ACT_ERRNO with defaultErrnoRet and an allow list" {
  # Everything busybox sh needs here is allowed; getpid is not and returns the default errno.
  busybox_bundle "$B" sh -c 'echo start; mkdir /tmp/d; echo rc=$?'
  allow=$(jq -cn '[{names: ["read","write","openat","open","close","fstat","newfstatat","stat","lstat",
    "mmap","munmap","mprotect","brk","rt_sigaction","rt_sigprocmask","rt_sigreturn","ioctl","access",
    "execve","exit","exit_group","arch_prctl","set_tid_address","set_robust_list","prlimit64","getuid",
    "geteuid","getgid","getegid","getpid","getppid","fcntl","dup2","dup3","wait4","clone","clone3","fork","vfork",
    "uname","getcwd","chdir","lseek","readlink","brk","futex","rseq","getrandom","statx","pread64",
    "sendmsg","sendto","recvmsg","socket","connect","poll","ppoll","pselect6","faccessat","faccessat2",
    "sigaltstack","capget","capset","setresuid","setresgid","setgroups","getdents64","umask","prctl",
    "seccomp","sched_getaffinity","mremap","madvise","tgkill","gettid","sysinfo","times","getpgrp","setpgid",
    "kill","pipe","pipe2","nanosleep","clock_nanosleep","newuname","readlinkat","writev","close_range"],
    action: "SCMP_ACT_ALLOW"}]')
  seccomp_rules "$allow" SCMP_ACT_ERRNO
  edit_config "$B" '.linux.seccomp.defaultErrnoRet = 38'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = start ]
  [[ ${lines[1]} == *"Function not implemented"* ]]
  [ "${lines[2]}" = rc=1 ]
}

@test "argument conditions: EQ on one argument, several conditions on the same argument are alternatives" {
  busybox_bundle "$B" sh -c 'touch /tmp/f; chmod 700 /tmp/f; echo a=$?; chmod 750 /tmp/f; echo b=$?; chmod 755 /tmp/f; echo c=$?'
  # busybox's chmod calls chmod(path, mode): the mode is argument 1 (0700 = 448, 0750 = 488)
  seccomp_rules '[{names: ["chmod"], action: "SCMP_ACT_ERRNO",
                   args: [{index: 1, value: 448, op: "SCMP_CMP_EQ"}, {index: 1, value: 488, op: "SCMP_CMP_EQ"}]}]'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [[ $output == *a=1* ]]
  [[ $output == *b=1* ]]
  [[ $output == *c=0* ]]
}

@test "argument conditions: MASKED_EQ, GT, and conditions on two arguments must all hold" {
  busybox_bundle "$B" sh -c 'touch /tmp/f; chmod 701 /tmp/f; echo a=$?; chmod 601 /tmp/f; echo b=$?; chmod 066 /tmp/f; echo c=$?; chmod 4055 /tmp/f; echo d=$?'
  # deny when (mode & 0700) == 0700; deny with ENOSPC when mode > 04000 (2048) and path != 0
  seccomp_rules '[{names: ["chmod"], action: "SCMP_ACT_ERRNO", args: [{index: 1, value: 448, valueTwo: 448, op: "SCMP_CMP_MASKED_EQ"}]},
                  {names: ["chmod"], action: "SCMP_ACT_ERRNO", errnoRet: 28,
                   args: [{index: 1, value: 2048, op: "SCMP_CMP_GT"}, {index: 0, value: 0, op: "SCMP_CMP_NE"}]}]'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [[ $output == *a=1* ]]
  [[ $output == *b=0* ]]
  [[ $output == *c=0* ]]
  [[ $output == *"No space left on device"* ]]
  [[ $output == *d=1* ]]
}

@test "SCMP_ACT_KILL_PROCESS kills the process with SIGSYS" {
  busybox_bundle "$B" sh -c 'echo before; exec mkdir /tmp/x'
  seccomp_rules '[{names: ["mkdir","mkdirat"], action: "SCMP_ACT_KILL_PROCESS"}]'
  run hippo run -b "$B" "$ID"
  [[ $output == *before* ]]
  [ "$status" -eq $((128 + 31)) ]
  [ ! -d "$B/rootfs/tmp/x" ]
}

@test "syscall names unknown to libseccomp are ignored, like runc" {
  busybox_bundle "$B" sh -c 'mkdir /tmp/x; echo rc=$?'
  seccomp_rules '[{names: ["no_such_syscall_hippo", "mkdir"], action: "SCMP_ACT_ERRNO"}]'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = rc=1 ]
}

@test "an unknown seccomp action is an error naming it, and nothing is left behind" {
  busybox_bundle "$B"
  seccomp_rules '[{names: ["mkdir"], action: "SCMP_ACT_EXPLODE"}]'
  run hippo run -b "$B" "$ID"
  [ "$status" -ne 0 ]
  [[ $output == *'linux.seccomp.syscalls[0].action'*'SCMP_ACT_EXPLODE'* ]]
  assert_no_leaks "$ID" "$B"
}

@test "flags LOG and SPEC_ALLOW are accepted by the kernel" {
  busybox_bundle "$B" sh -c 'mkdir /tmp/x; echo rc=$?'
  seccomp_rules '[{names: ["mkdir"], action: "SCMP_ACT_ERRNO"}]'
  edit_config "$B" '.linux.seccomp.flags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = rc=1 ]
}

@test "without noNewPrivileges the filter is loaded while init still has CAP_SYS_ADMIN" {
  busybox_bundle "$B" sh -c 'grep -E "^(NoNewPrivs|CapEff)" /proc/self/status; mkdir /tmp/x; echo rc=$?'
  seccomp_rules '[{names: ["mkdir"], action: "SCMP_ACT_ERRNO"}]'
  edit_config "$B" '.process.noNewPrivileges = false'
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  [[ $output == *"NoNewPrivs:	0"* ]]
  # the default capabilities: no CAP_SYS_ADMIN left for the process itself
  [[ $output == *"CapEff:	0000000020000420"* ]]
  [ "${lines[-1]}" = rc=1 ]
}

@test "exec'd processes get the container's filter too" {
  busybox_bundle "$B" sleep 1000
  seccomp_rules '[{names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 28}]'
  hippo_create -b "$B" "$ID"
  hippo start "$ID"
  run hippo exec "$ID" sh -c 'mkdir /tmp/x; echo rc=$?'
  [[ $output == *"No space left on device"* ]]
  [ "${lines[-1]}" = rc=1 ]
  hippo delete --force "$ID"
}

@test "SCMP_ACT_NOTIFY: the agent on listenerPath receives the notify fd with the container's state" {
  agent=$HIPPO_BUILD/tests/seccomp-agent
  [ -x "$agent" ] || { echo "missing $agent: build the tests" >&2; return 1; }
  busybox_bundle "$B" sh -c 'mkdir /tmp/x; echo rc=$?'
  seccomp_rules '[{names: ["mkdir"], action: "SCMP_ACT_NOTIFY"}]'
  sock=$BATS_TEST_TMPDIR/agent.sock
  edit_config "$B" '.linux.seccomp.listenerPath = $s | .linux.seccomp.listenerMetadata = "meta-42"' --arg s "$sock"
  "$agent" "$sock" "$BATS_TEST_TMPDIR/agent" 3>&- &
  AGENT_PID=$!
  for i in $(seq 100); do [ -e "$BATS_TEST_TMPDIR/agent.ready" ] && break; sleep 0.1; done
  run hippo run -b "$B" "$ID"
  [ "$status" -eq 0 ]
  # the agent answered the notified mkdir with EXDEV
  [[ $output == *"Invalid cross-device link"* ]]
  [ "${lines[-1]}" = rc=1 ]
  wait "$AGENT_PID"
  AGENT_PID=
  [[ $(cat "$BATS_TEST_TMPDIR/agent.fd") == *"seccomp notify"* ]]
  j=$BATS_TEST_TMPDIR/agent.json
  [ "$(jq -c .fds "$j")" = '["seccompFd"]' ]
  [ "$(jq -r .metadata "$j")" = meta-42 ]
  [ "$(jq -r .state.id "$j")" = "$ID" ]
  [ "$(jq -r .state.bundle "$j")" = "$B" ]
  [ "$(jq -r .state.status "$j")" = creating ]
  [ "$(jq -r .pid "$j")" -gt 0 ]
  [ "$(jq -r .pid "$j")" = "$(jq -r .state.pid "$j")" ]
}

@test "SCMP_ACT_NOTIFY without an agent listening fails the create clearly and leaves nothing" {
  busybox_bundle "$B"
  seccomp_rules '[{names: ["mkdir"], action: "SCMP_ACT_NOTIFY"}]'
  edit_config "$B" '.linux.seccomp.listenerPath = $s' --arg s "$BATS_TEST_TMPDIR/nobody.sock"
  run hippo run -b "$B" "$ID"
  [ "$status" -ne 0 ]
  [[ $output == *"failed to connect with seccomp agent"*"linux.seccomp.listenerPath"*"nobody.sock"*": connect: No such file or directory"* ]]
  assert_no_leaks "$ID" "$B"
}

# probe_bundle ARGS...: a busybox bundle with the static syscall-probe at /bin/syscall-probe.
probe_bundle() {
  local probe=$HIPPO_BUILD/tests/syscall-probe
  [ -x "$probe" ] || { echo "missing $probe: build the tests" >&2; return 1; }
  busybox_bundle "$B" "$@"
  cp "$probe" "$B/rootfs/bin/syscall-probe"
}

# What busybox sh and the static probe need, as a JSON array of names (no clone3, close_range,
# faccessat2: the highest named here is rseq, 334 on x86_64; init needs the send calls).
probe_allow_list() {
  jq -cn '["read","write","openat","open","close","fstat","newfstatat","stat","lstat","mmap",
    "munmap","mprotect","brk","rt_sigaction","rt_sigprocmask","rt_sigreturn","ioctl","access",
    "execve","exit","exit_group","arch_prctl","set_tid_address","set_robust_list","prlimit64",
    "getuid","geteuid","getgid","getegid","getpid","getppid","fcntl","dup2","dup3","wait4",
    "clone","fork","vfork","uname","getcwd","chdir","lseek","readlink","futex","rseq",
    "getrandom","pread64","writev","sigaltstack","capget","capset","setresuid","setresgid",
    "setgroups","umask","prctl","seccomp","gettid","faccessat","readlinkat","statx","sendmsg",
    "sendto","recvmsg","recvfrom","poll","ppoll","kill","tgkill","nanosleep","clock_nanosleep"]'
}

@test "ENOSYS, not the default errno, for syscalls above the highest the profile names (runc's stub)" {
  # issue 15 item 5. The profile names faccessat2 (439): 440 (process_madvise), 441
  # (epoll_pwait2) and 449 (futex_waitv) exist in this kernel and are newer than the profile;
  # getpriority (140) and openat2 (437) are older and not allowed: the default EPERM.
  probe_bundle syscall-probe 440 441 449 140 437 39
  seccomp_rules "[{names: $(probe_allow_list | jq -c '. + ["faccessat2"]'), action: \"SCMP_ACT_ALLOW\"}]" SCMP_ACT_ERRNO
  run hippo run -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf '440:ENOSYS\n441:ENOSYS\n449:ENOSYS\n140:EPERM\n437:EPERM\n39:ok')" ]
}

@test "clone3 gets ENOSYS under a profile that stops before it, so libc falls back to clone" {
  probe_bundle syscall-probe 435 140
  seccomp_rules "[{names: $(probe_allow_list), action: \"SCMP_ACT_ALLOW\"}]" SCMP_ACT_ERRNO
  run hippo run -b "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf '435:ENOSYS\n140:EPERM')" ]
}

@test "SCMP_ACT_NOTIFY on write is refused, as runc does: the agent's fd is handed over by a write" {
  busybox_bundle "$B"
  seccomp_rules '[{names: ["mkdir", "write"], action: "SCMP_ACT_NOTIFY"}]'
  edit_config "$B" '.linux.seccomp.listenerPath = $s' --arg s "$BATS_TEST_TMPDIR/agent.sock"
  run hippo run -b "$B" "$ID"
  [ "$status" -ne 0 ]
  [ "$output" = "hippo: invalid configuration: config.json: linux.seccomp.syscalls[0].names: SCMP_ACT_NOTIFY cannot be used for the write syscall" ]
  assert_no_leaks "$ID" "$B"
}
