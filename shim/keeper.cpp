#include "shim/keeper.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <string>

#include "base/logging.hpp"
#include "shim/snapshot.hpp"

namespace hippo::shim {
namespace {

// fork() with one fd table for parent and child: what either opens or closes, the other sees.
// The raw syscall: glibc's clone() wants a new stack, and without CLONE_VM the child runs on a
// copy of ours, as after fork.
pid_t clone_sharing_fds() {
  return static_cast<pid_t>(
      ::syscall(SYS_clone, CLONE_FILES | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
}

bool is_planned_exit(const siginfo_t& info) {
  return info.si_code == CLD_EXITED && info.si_status == 0;
}

int wait_status(const siginfo_t& info) {
  return info.si_code == CLD_EXITED ? (info.si_status & 0xff) << 8 : info.si_status & 0x7f;
}

}  // namespace

int run_keeper(const std::function<int(const KeeperContext&)>& daemon, KeeperLimits limits) {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    log::error("keeper: pipe: " + std::string(std::strerror(errno)));
    return 1;
  }
  const int exits_r = pipe_fds[0], exits_w = pipe_fds[1];
  const auto record = SnapshotStore::create_fd();
  if (!record) {
    log::error("keeper: " + record.error().message);
    return 1;
  }
  std::deque<std::chrono::steady_clock::time_point> deaths;
  KeeperContext context{0, exits_r, exits_w, *record};

  auto start_daemon = [&]() -> pid_t {
    const pid_t pid = clone_sharing_fds();
    if (pid == 0) ::_exit(daemon(context));
    return pid;
  };
  pid_t daemon_pid = start_daemon();
  if (daemon_pid < 0) {
    log::error("keeper: clone: " + std::string(std::strerror(errno)));
    return 1;
  }
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED) != 0) {
      if (errno == EINTR) continue;
      return 1;  // ECHILD: not even the daemon is left
    }
    if (info.si_pid != daemon_pid) {
      // A pipe holds 8192 of them: more exits while no daemon reads are lost (logged).
      const KeeperExit exit{info.si_pid, wait_status(info)};
      if (::write(exits_w, &exit, sizeof exit) != sizeof exit) {
        log::error("keeper: the exit of " + std::to_string(exit.pid) + " is lost (pipe full)");
      }
      continue;
    }
    if (is_planned_exit(info)) return 0;
    const auto now = std::chrono::steady_clock::now();
    deaths.push_back(now);
    while (!deaths.empty() && now - deaths.front() > limits.window) deaths.pop_front();
    if (deaths.size() > limits.max_restarts) {
      log::error("keeper: the node daemon died " + std::to_string(deaths.size()) + " times in " +
                 std::to_string(limits.window.count()) + " s; giving up");
      return 1;
    }
    log::warn("keeper: the node daemon " + std::to_string(daemon_pid) +
              " ended; starting the next one");
    ++context.generation;
    daemon_pid = start_daemon();
    if (daemon_pid < 0) return 1;
  }
}

}  // namespace hippo::shim
