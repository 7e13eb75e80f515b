// hippo: a runc-compatible command line over hippo's runtime library.
// Usage: hippo [global options] command [command options] [arguments...]

#include <seccomp.h>

#include <iostream>
#include <string>
#include <vector>

#include "base/logging.hpp"
#include "hippo/version.hpp"
#include "oci-spec/config.hpp"
#include "runtime/bundle.hpp"
#include "runtime/cli/commands.hpp"

namespace hippo::cli {
namespace {

constexpr FlagSpec kGlobalFlags[] = {
    {"debug", 0, false, false, "enable debug logging"},
    {"log", 0, true, false, "set the log file to write hippo logs to (default is '/dev/stderr')"},
    {"log-format", 0, true, false, "set the log format ('text' (default), or 'json')"},
    {"root", 0, true, false,
     "root directory for storage of container state (default: state_root of config.yaml, "
     "/run/hippo)"},
    {"systemd-cgroup", 0, false, false,
     "enable systemd cgroup support, expects cgroupsPath to be of form \"slice:prefix:name\" for "
     "e.g. \"system.slice:hippo:434234\""},
    {"config", 0, true, false,
     "hippo's config.yaml (default: $HIPPO_CONFIG, then /etc/hippo/config.yaml)"},
    {"criu", 0, true, false, "accepted for runc compatibility; hippo does not use CRIU"},
    {"rootless", 0, true, false, "accepted for runc compatibility ('true', 'false' or 'auto')"},
    {"version", 'v', false, false, "print the version"},
};

void print_version() {
  const auto* v = seccomp_version();
  std::cout << "hippo version " << kVersion << "\n"
            << "commit: " << kGitCommit << "\n"
            << "spec: " << spec::kOciVersion << "\n"
            << "libseccomp: " << v->major << "." << v->minor << "." << v->micro << "\n";
}

void print_help() {
  std::cout << "NAME:\n   hippo - a runc-compatible container runtime in C++\n\n"
            << "USAGE:\n   hippo [global options] command [command options] [arguments...]\n\n"
            << "COMMANDS:\n";
  for (const auto& c : commands()) {
    std::cout << "   " << c.name << std::string(12 - c.name.size(), ' ') << c.summary << "\n";
  }
  std::cout << "\nGLOBAL OPTIONS:\n"
            << flags_help(kGlobalFlags) << "   --help, -h" << std::string(16, ' ') << "show help\n";
}

void print_command_help(const Command& c) {
  std::cout << "NAME:\n   hippo " << c.name << " - " << c.summary << "\n\nUSAGE:\n   hippo "
            << c.name << " [command options] " << c.args_usage << "\n";
  if (!c.flags.empty()) std::cout << "\nOPTIONS:\n" << flags_help(c.flags);
}

bool takes_container_id(const Command& c) { return c.args_usage.starts_with("<container-id>"); }

Result<void> check_arg_count(const Command& c, const ParsedFlags& flags) {
  const auto n = static_cast<int>(flags.args.size());
  const bool exact = c.min_args == c.max_args;
  if (n >= c.min_args && (c.max_args < 0 || n <= c.max_args)) return {};
  std::string want = exact ? "exactly " + std::to_string(c.min_args)
                     : c.max_args < 0
                         ? "at least " + std::to_string(c.min_args)
                         : std::to_string(c.min_args) + " to " + std::to_string(c.max_args);
  return fail(std::string(c.name) + ": expects " + want + " argument(s)" +
              (c.args_usage.empty() ? "" : ": " + std::string(c.args_usage)) + ", got " +
              std::to_string(n));
}

// The edge: one error becomes one line on stderr and, when --log names a file, the same message
// there for engines (go-runc and Docker read it). Without --log the logger is stderr itself, so
// the line is written once, as runc does.
int report(const Error& e, bool log_to_file = false) {
  if (log_to_file) log::error(e.message);
  std::cerr << "hippo: " << e.message << "\n";
  return 1;
}

int run(const std::vector<std::string>& argv) {
  auto global = parse_flags(kGlobalFlags, argv, /*stop_at_first_arg=*/true);
  if (!global) return report(global.error());
  if (global->enabled("version")) {
    print_version();
    return 0;
  }
  if (global->enabled("help") || global->args.empty()) {
    print_help();
    return 0;
  }

  Context ctx;
  ctx.global.log = global->value_or("log", "");
  ctx.global.log_format = global->value_or("log-format", "text");
  ctx.global.debug = global->enabled("debug");
  ctx.global.systemd_cgroup = global->enabled("systemd-cgroup");

  auto format = log::parse_log_format(ctx.global.log_format);
  if (!format) return report(format.error());
  // Logging first, so that a bad config.yaml is reported in --log too.
  if (auto ok = log::init_logging(ctx.global.log, *format,
                                  ctx.global.debug ? log::Level::debug : log::Level::info);
      !ok) {
    return report(ok.error());
  }
  const bool to_file = !ctx.global.log.empty();
  auto config = runtime::load_config(global->value("config"));
  if (!config) return report(config.error(), to_file);
  ctx.config = std::move(*config);
  if (!ctx.global.debug) {
    auto level = log::parse_log_level(ctx.config.log_level);
    if (!level) return report(level.error(), to_file);
    log::set_level(*level);
  }
  ctx.global.root = global->value_or("root", ctx.config.state_root);

  const std::string& name = global->args.front();
  const Command* command = find_command(name);
  if (!command) {
    return report(Error{0, "unknown command \"" + name + "\" (see hippo --help)"}, to_file);
  }
  ctx.command = command->name;
  const std::vector<std::string> rest(global->args.begin() + 1, global->args.end());
  auto flags = parse_flags(command->flags, rest, command->stop_at_first_arg);
  if (!flags) return report(flags.error().context(name), to_file);
  if (flags->enabled("help")) {
    print_command_help(*command);
    return 0;
  }
  if (auto ok = check_arg_count(*command, *flags); !ok) return report(ok.error(), to_file);
  // Every command that names a container checks the id before anything touches the state
  // root (or a runc backend's): "..", "a/b" and the like never become a path.
  if (takes_container_id(*command) && !flags->args.empty()) {
    if (auto ok = runtime::validate_container_id(flags->args.front()); !ok) {
      report(ok.error(), to_file);
      return command->error_exit;  // runc exec: 255 for a bad id too
    }
  }
  auto code = command->run(ctx, *flags);
  if (!code) {
    report(code.error(), to_file);
    return command->error_exit;
  }
  return *code;
}

}  // namespace
}  // namespace hippo::cli

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return hippo::cli::run(args);
}
