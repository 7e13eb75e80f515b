// The hooks init runs itself (createContainer, startContainer) and the exec through the sealed
// trampoline that they and the container's program go through.
// Runs in the cloned child. Rules: no allocation, no locks, no exceptions, no logging library:
// raw system calls over the pre-built plan; a failed step reports {errno, what} to the parent and
// _exits. Fixed-size buffers live on the stack.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/syscalls.hpp"
#include "runtime/linux/init/steps.hpp"
#include "runtime/linux/sync_protocol.hpp"

namespace hippo::os::init {

void exec_through_trampoline(int trampoline_fd, char* const* argv, char* const* envp) {
  ::syscall(SYS_execveat, trampoline_fd, "", argv, envp, AT_EMPTY_PATH);
  // A seccomp profile may allow execve and not execveat: the same memfd through /proc.
  const int err = errno;
  Text path;
  proc_fd_path(path, trampoline_fd);
  ::execve(path.buf, argv, envp);
  errno = err;
}

// The state goes into a pipe before the fork (it fits: the state is far below a pipe's 64 KiB),
// so the hook may ignore its stdin without ever raising SIGPIPE here.
void run_hook(const HookRun& h, const std::string& head, const std::string& tail) {
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) die(h.what);
  Text pid;
  pid.add(static_cast<unsigned long>(g_host_pid));
  write_all(in[1], head.data(), head.size(), h.what.c_str());
  write_all(in[1], pid.buf, pid.len, h.what.c_str());
  write_all(in[1], tail.data(), tail.size(), h.what.c_str());
  ::close(in[1]);
  // The trampoline execs the hook, and its own exec succeeds: what the hook's execve would
  // fail with (a missing or non-executable file) is found here, in words.
  if (::access(h.path.c_str(), X_OK) != 0) die(h.what);
  // A failed execve sends its errno through exec_err; a successful one closes it (CLOEXEC).
  int exec_err[2];
  if (::pipe2(exec_err, O_CLOEXEC) != 0) die(h.what);
  const pid_t pid_of_hook = ::_Fork();
  if (pid_of_hook < 0) die(h.what, ": fork");
  if (pid_of_hook == 0) {
    ::dup2(in[0], STDIN_FILENO);
    exec_through_trampoline(g_trampoline_fd, h.exec_argv.data(), h.envp.data());
    const int err = errno;
    [[maybe_unused]] auto n = ::write(exec_err[1], &err, sizeof err);
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(exec_err[1]);
  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(exec_err[0], &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  ::close(exec_err[0]);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    ::waitpid(pid_of_hook, nullptr, 0);
    // "error running hook #0 (createContainer, /x): No such file or directory"
    die_with(exec_errno, h.what.c_str());
  }
  const int pidfd = sys::pidfd_open(pid_of_hook);
  if (h.timeout_s > 0 && pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    int rc;
    do {
      rc = ::poll(&p, 1, h.timeout_s * 1000);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) {
      ::kill(pid_of_hook, SIGKILL);
      ::waitpid(pid_of_hook, nullptr, 0);
      die_with(ETIMEDOUT, h.what.c_str());
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  int status = 0;
  while (::waitpid(pid_of_hook, &status, 0) < 0) {
    if (errno != EINTR) die(h.what);
  }
  if (!WIFEXITED(status)) die_with(0, h.what.c_str(), ": killed by a signal");
  if (WEXITSTATUS(status) != 0) {
    Text t;
    t.add(": exit status ").add(static_cast<unsigned long>(WEXITSTATUS(status)));
    die_with(0, h.what.c_str(), t.buf);
  }
}

// Mounts are done and the host's root is still reachable: the parent runs prestart and
// createRuntime now, then init runs createContainer in the container's namespaces.
void run_creation_hooks(const InitPlan& plan) {
  if (plan.parent_hooks) {
    SyncMessage msg{};
    msg.type = SyncType::kHooks;
    if (::send(plan.sync_fd, &msg, sizeof msg, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof msg))
      ::_exit(1);
    if (::recv(plan.sync_fd, &msg, sizeof msg, 0) != static_cast<ssize_t>(sizeof msg) ||
        msg.type != SyncType::kGo) {
      ::_exit(1);  // the parent's hooks failed: it kills us anyway
    }
  }
  // runc runs createContainer hooks with the rootfs as their working directory (before
  // pivot_root, it is the container's root to be); hook libraries write relative paths there.
  if (::chdir(plan.rootfs.c_str()) != 0) die("chdir rootfs ", plan.rootfs.c_str());
  for (const auto& h : plan.create_container_hooks)
    run_hook(h, plan.state_creating_head, plan.state_tail);
}

}  // namespace hippo::os::init
