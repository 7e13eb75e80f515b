#include "runtime/hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "base/syscalls.hpp"
#include "base/unique_fd.hpp"

extern char** environ;

namespace hippo::runtime {
namespace {

using os::UniqueFd;

// A pipe already holding `text`, its write end closed: the hook reads it at its own pace and
// nothing can raise SIGPIPE in us.
Result<UniqueFd> stdin_with(const std::string& text) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return fail_errno("pipe for hook stdin");
  UniqueFd rd(p[0]), wr(p[1]);
  if (text.size() > 65536) ::fcntl(wr.get(), F_SETPIPE_SZ, static_cast<int>(text.size()));
  const int capacity = ::fcntl(wr.get(), F_GETPIPE_SZ);
  if (capacity < 0 || static_cast<size_t>(capacity) < text.size()) {
    return fail("the container's state (" + std::to_string(text.size()) +
                " bytes) does not fit a hook's stdin pipe: are its annotations that large?");
  }
  for (size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(wr.get(), text.data() + done, text.size() - done);
    if (n <= 0) return fail_errno("write the state to the hook's stdin");
    done += static_cast<size_t>(n);
  }
  return rd;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.size() > 512) s = "…" + s.substr(s.size() - 512);
  return s;
}

Result<void> run_one(const std::string& what, const spec::Hook& hook,
                     const std::string& state_json) {
  auto in = stdin_with(state_json);
  if (!in) return std::unexpected(in.error());
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return fail_errno(what + ": pipe");
  UniqueFd out_rd(out[0]), out_wr(out[1]);

  std::vector<std::string> args = hook.args.value_or(spec::Strings{});
  if (args.empty()) args.push_back(hook.path);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = hook.env.value_or(spec::Strings{});
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  char** child_env = hook.env ? envp.data() : environ;

  // A failed execve sends its errno here; a successful one closes it (CLOEXEC), so the parent
  // reads EOF: "error running hook #0 (prestart, /x): No such file or directory", not a bare exit
  // status 127.
  int exec_err[2];
  if (::pipe2(exec_err, O_CLOEXEC) != 0) return fail_errno(what + ": pipe");
  UniqueFd err_rd(exec_err[0]), err_wr(exec_err[1]);

  const pid_t pid = ::fork();
  if (pid < 0) return fail_errno(what + ": fork");
  if (pid == 0) {
    ::dup2(in->get(), STDIN_FILENO);
    ::dup2(out_wr.get(), STDOUT_FILENO);
    ::dup2(out_wr.get(), STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(hook.path.c_str(), argv.data(), child_env);
    // Only async-signal-safe calls after fork: the shim may have threads.
    const int err = errno;
    [[maybe_unused]] auto n = ::write(err_wr.get(), &err, sizeof err);
    ::_exit(127);
  }
  out_wr.reset();
  err_wr.reset();
  in->reset();
  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(err_rd.get(), &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return fail_errno(what, exec_errno);
  }
  UniqueFd pidfd(os::sys::pidfd_open(pid));
  const auto deadline = hook.timeout
                            ? std::chrono::steady_clock::now() + std::chrono::seconds(*hook.timeout)
                            : std::chrono::steady_clock::time_point::max();
  std::string output;
  bool exited = false, timed_out = false;
  while (!exited) {
    int wait_ms = -1;
    if (hook.timeout) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        timed_out = true;
        break;
      }
      wait_ms = static_cast<int>(left.count());
    }
    pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {out_rd ? out_rd.get() : -1, POLLIN, 0}};
    if (::poll(fds, 2, wait_ms) < 0 && errno != EINTR) break;
    if (fds[1].revents) {
      char buf[4096];
      const ssize_t n = ::read(out_rd.get(), buf, sizeof buf);
      if (n > 0) {
        if (output.size() < 65536) output.append(buf, static_cast<size_t>(n));
      } else {
        out_rd.reset();
      }
    }
    if (fds[0].revents & POLLIN) exited = true;
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return fail(what + ": timed out after " + std::to_string(*hook.timeout) + " s", ETIMEDOUT);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                      : std::string("signal ") + strsignal(WTERMSIG(status));
  output = trimmed(std::move(output));
  return fail(what + ": " + how + (output.empty() ? "" : ": " + output));
}

}  // namespace

Result<void> run_hooks(std::string_view kind, const std::vector<spec::Hook>& hooks,
                       const std::string& state_json) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    // runc's phrase, which tools grep for; the kind and path say which hook it was.
    const std::string what = "error running hook #" + std::to_string(i) + " (" + std::string(kind) +
                             ", " + hooks[i].path + ")";
    if (auto ok = run_one(what, hooks[i], state_json); !ok) return ok;
  }
  return {};
}

}  // namespace hippo::runtime
