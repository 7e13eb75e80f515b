// `ps`: the container's pids as JSON, or ps(1)'s table narrowed to the container's processes.
// As runc: the arguments after the id go to ps(1) as they are (default -ef), and its rows are
// kept when their PID column names one of the container's processes.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <iostream>
#include <set>
#include <sstream>

#include "base/unique_fd.hpp"
#include "runtime/cli/commands.hpp"

extern char** environ;

namespace hippo::cli {
namespace {

// Runs ps with `args` and returns what it printed on stdout and stderr (runc reads both).
Result<std::string> run_ps_tool(const std::vector<std::string>& args) {
  std::vector<std::string> owned{"ps"};
  owned.insert(owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : owned) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail_errno("pipe for ps");
  os::UniqueFd out_r(fds[0]), out_w(fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, out_w.get(), 2);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, "ps", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return fail_errno("run ps", rc);
  out_w.reset();
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(out_r.get(), buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    // One line for the user: ps's first (its complaint; the usage text follows it).
    const auto first = text.find_first_not_of('\n');
    text = first == std::string::npos ? "" : text.substr(first, text.find('\n', first) - first);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return fail("ps: exit status " + std::to_string(code) + ": " + text);
  }
  return text;
}

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  while (!line.empty()) {
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    const auto end = std::min(line.find_first_of(" \t"), line.size());
    out.push_back(line.substr(0, end));
    line.remove_prefix(end);
  }
  return out;
}

}  // namespace

Result<int> run_ps(const Context& ctx, const ParsedFlags& flags) {
  auto pids = make_backend(ctx)->pids(flags.args.at(0));
  if (!pids) return std::unexpected(pids.error());
  const auto format = flags.value_or("format", "table");
  if (format == "json") {
    std::cout << spec::Json(*pids).dump() << "\n";
    return 0;
  }
  if (format != "table") return fail("invalid format option \"" + format + "\": use table or json");
  std::vector<std::string> args(flags.args.begin() + 1, flags.args.end());
  if (args.empty()) args = {"-ef"};
  auto text = run_ps_tool(args);
  if (!text) return std::unexpected(text.error());
  std::istringstream lines(*text);
  std::string header;
  std::getline(lines, header);
  const auto columns = fields_of(header);
  const auto pid_column = std::ranges::find(columns, "PID") - columns.begin();
  if (pid_column == static_cast<long>(columns.size()))
    return fail("ps: no PID column in its output: \"" + header + "\"");
  const std::set<pid_t> wanted(pids->begin(), pids->end());
  std::cout << header << "\n";
  for (std::string line; std::getline(lines, line);) {
    const auto fields = fields_of(line);
    if (fields.empty()) continue;
    if (static_cast<long>(fields.size()) <= pid_column)
      return fail("ps: no PID field in \"" + line + "\"");
    const auto field = fields[static_cast<size_t>(pid_column)];
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), pid);
    if (ec != std::errc() || end != field.data() + field.size())
      return fail("ps: unable to parse pid \"" + std::string(field) + "\"");
    if (wanted.contains(pid)) std::cout << line << "\n";
  }
  return 0;
}

}  // namespace hippo::cli
