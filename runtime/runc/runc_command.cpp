#include "runtime/runc/runc_command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/file_io.hpp"
#include "base/unique_fd.hpp"

extern char** environ;

namespace hippo::runtime::runc {
namespace {

using os::UniqueFd;

// The last "error" message runc wrote to its JSON log (go-runc reads errors the same way).
std::string last_error(const std::string& log) {
  auto text = read_text_file(log);
  std::string message;
  if (!text) return message;
  std::string_view rest = *text;
  while (!rest.empty()) {
    const auto nl = std::min(rest.find('\n'), rest.size());
    auto j = nlohmann::json::parse(rest.substr(0, nl), nullptr, false);
    if (j.is_object() && j.value("level", "") == "error") message = j.value("msg", "");
    rest.remove_prefix(std::min(nl + 1, rest.size()));
  }
  return message;
}

}  // namespace

Result<Outcome> run(const std::string& binary, const std::vector<std::string>& global,
                    const std::string& log, const Command& command) {
  std::vector<std::string> args{binary};
  args.insert(args.end(), global.begin(), global.end());
  args.insert(args.end(), {"--log", log, "--log-format", "json"});
  args.insert(args.end(), command.args.begin(), command.args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
  if (command.io.stdin_fd < 0 && ::pipe2(in_pipe, O_CLOEXEC) != 0)
    return fail_errno("pipe for runc");
  if (command.capture_stdout && ::pipe2(out_pipe, O_CLOEXEC) != 0)
    return fail_errno("pipe for runc");
  UniqueFd in_r(in_pipe[0]), in_w(in_pipe[1]), out_r(out_pipe[0]), out_w(out_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const int in_fd = command.io.stdin_fd >= 0 ? command.io.stdin_fd : in_r.get();
  const int out_fd = command.capture_stdout ? out_w.get() : command.io.stdout_fd;
  posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
  if (out_fd >= 0) posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  if (command.io.stderr_fd >= 0)
    posix_spawn_file_actions_adddup2(&actions, command.io.stderr_fd, 2);
  // runc starts with no signal blocked and default dispositions, not the shim daemon's.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, binary.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return fail_errno("run " + binary, rc);
  in_r.reset();
  out_w.reset();
  if (in_w) {
    [[maybe_unused]] auto n = ::write(in_w.get(), command.input.data(), command.input.size());
    in_w.reset();
  }
  Outcome outcome;
  if (out_r) {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out_r.get(), buf, sizeof buf)) > 0)
      outcome.stdout_text.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (outcome.exit_code != 0 && !command.args.empty() && command.args.front() != "run") {
    const auto message = last_error(log);
    return fail(binary + " " + command.args.front() + ": " +
                (message.empty() ? "exit status " + std::to_string(outcome.exit_code) : message));
  }
  return outcome;
}

}  // namespace hippo::runtime::runc
