#include "runtime/foreground.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/syscalls.hpp"
#include "runtime/linux/console.hpp"

namespace hippo::runtime {
namespace {

using os::UniqueFd;

// The signals a user sends to a foreground container through us. They are blocked before the
// process is created (the container's init and exec'd processes reset their mask) so that none
// is lost between the spawn and the forwarding loop, and read from a signalfd.
class ForwardedSignals {
 public:
  ForwardedSignals() {
    sigemptyset(&set_);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH})
      sigaddset(&set_, s);
    sigprocmask(SIG_BLOCK, &set_, &old_);
  }
  ~ForwardedSignals() { sigprocmask(SIG_SETMASK, &old_, nullptr); }
  ForwardedSignals(const ForwardedSignals&) = delete;
  ForwardedSignals& operator=(const ForwardedSignals&) = delete;
  const sigset_t& set() const { return set_; }

 private:
  sigset_t set_{}, old_{};
};

// The runc backend's processes are children of a runc that has exited by the time we hold
// their pidfd: as a subreaper we inherit them, so waitid(P_PIDFD) can reap them and read their
// exit code. The native backend's are our children already.
void become_subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

// Moves one buffer from `in` to `out`; false at end of input (EOF, EIO of a closed pty, EAGAIN).
bool copy_once(int in, int out) {
  char buf[16384];
  ssize_t n;
  do {
    n = ::read(in, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  for (ssize_t done = 0; done < n;) {
    ssize_t w = ::write(out, buf + done, static_cast<size_t>(n - done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    done += w;
  }
  return true;
}

// One signal read from the signalfd: SIGWINCH resizes the pty, anything else goes to the process.
void forward_one(int sfd, const UniqueFd& pidfd, const UniqueFd& master) {
  signalfd_siginfo si{};
  if (::read(sfd, &si, sizeof si) != sizeof si) return;
  if (si.ssi_signo == SIGWINCH && master) {
    os::copy_window_size(STDIN_FILENO, master.get());
  } else {
    os::sys::pidfd_send_signal(pidfd.get(), static_cast<int>(si.ssi_signo));
  }
}

// Waits for the process behind `pidfd` (our child) to exit while forwarding signals to it and,
// with a terminal, relaying between our stdio and the pty master. Returns its exit code.
Result<int> wait_and_relay(const UniqueFd& pidfd, UniqueFd master, const sigset_t& forward) {
  os::RawMode raw(master ? STDIN_FILENO : -1);
  UniqueFd sfd(::signalfd(-1, &forward, SFD_CLOEXEC));
  if (!sfd) return fail_errno("signalfd");
  bool stdin_open = static_cast<bool>(master);
  for (;;) {
    pollfd fds[4] = {{pidfd.get(), POLLIN, 0},
                     {sfd.get(), POLLIN, 0},
                     {master ? master.get() : -1, POLLIN, 0},
                     {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
    if (::poll(fds, 4, -1) < 0) {
      if (errno == EINTR) continue;
      return fail_errno("wait for container");
    }
    if (fds[1].revents & POLLIN) forward_one(sfd.get(), pidfd, master);
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!copy_once(master.get(), STDOUT_FILENO)) master.reset();
    }
    if (fds[3].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!copy_once(STDIN_FILENO, master.get())) stdin_open = false;
    }
    if (fds[0].revents & POLLIN) break;
  }
  if (master) {
    // What the container wrote just before it exited is still in the pty.
    ::fcntl(master.get(), F_SETFL, ::fcntl(master.get(), F_GETFL) | O_NONBLOCK);
    while (copy_once(master.get(), STDOUT_FILENO)) {
    }
  }
  siginfo_t info{};
  if (::waitid(P_PIDFD, static_cast<id_t>(pidfd.get()), &info, WEXITED) != 0) {
    return fail_errno("wait for the container's process");
  }
  return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
}

Result<int> run_detached(Backend& backend, const CreateOptions& options) {
  if (auto ok = backend.create(options); !ok) return forward(ok);
  if (auto ok = backend.start(options.id); !ok) {
    (void)backend.remove(options.id, true);
    return forward(ok);
  }
  return 0;
}

// `created` tells the caller whether there is a container of ours to delete afterwards.
Result<int> run_attached(Backend& backend, const CreateOptions& options, bool& created) {
  const ForwardedSignals signals;
  become_subreaper();
  // With a terminal we are the console socket's receiver ourselves.
  CreateOptions local = options;
  local.receive_pty = true;
  local.start_at_once = true;
  auto init = backend.create_process(local);
  if (!init) return forward(init);
  created = true;
  if (init->pty_master) os::copy_window_size(STDIN_FILENO, init->pty_master.get());
  if (!init->started) {
    if (auto ok = backend.start(options.id); !ok) return forward(ok);
  }
  return wait_and_relay(init->pidfd, std::move(init->pty_master), signals.set());
}

}  // namespace

Result<int> run_container(Backend& backend, const CreateOptions& options, const RunOptions& run) {
  if (run.detach) return run_detached(backend, options);
  bool created = false;
  auto code = run_attached(backend, options, created);
  // Only what this run created is deleted: a duplicate id must not remove the other container.
  if (created && !run.keep) {
    if (auto ok = backend.remove(options.id, true); !ok && code) return forward(ok);
  }
  return code;
}

Result<int> exec_in_container(Backend& backend, const ExecOptions& options) {
  ExecOptions local = options;
  // In the foreground without a console socket we relay the pty ourselves.
  local.receive_pty = !options.detach && options.console_socket.empty();
  if (options.detach) {
    auto child = backend.spawn_exec(local);
    if (!child) return forward(child);
    return 0;
  }
  const ForwardedSignals signals;
  become_subreaper();
  auto child = backend.spawn_exec(local);
  if (!child) return forward(child);
  if (child->pty_master) os::copy_window_size(STDIN_FILENO, child->pty_master.get());
  return wait_and_relay(child->pidfd, std::move(child->pty_master), signals.set());
}

}  // namespace hippo::runtime
