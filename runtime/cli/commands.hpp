#pragma once
// The `hippo` subcommands: runc's set, with runc's flags, plus `validate`.

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/flags.hpp"
#include "runtime/backend.hpp"
#include "runtime/config.hpp"

namespace hippo::cli {

struct GlobalOptions {
  std::string root;  // --root, or the config's state_root
  std::string log;   // --log; empty: stderr
  std::string log_format = "text";
  bool systemd_cgroup = false;
  bool debug = false;
};

struct Context {
  std::string_view command;  // the subcommand being run
  GlobalOptions global;
  runtime::Config config;
};

// A handler returns the process exit code, or an error that main prints as one line.
using Handler = Result<int> (*)(const Context&, const ParsedFlags&);

struct Command {
  std::string_view name;
  std::string_view args_usage;  // "<container-id>"
  std::string_view summary;
  std::span<const FlagSpec> flags;
  int min_args = 0;
  int max_args = 0;  // -1: any number
  bool stop_at_first_arg = false;
  Handler run = nullptr;
  // The exit status when `run` fails. runc exec exits 255 for every failure after its
  // arguments were counted (so a caller tells them from the process's own status); 1 elsewhere.
  int error_exit = 1;
};

std::span<const Command> commands();

// The backend config.yaml names: native (state under --root) or an external runc (its own
// --root: runc_root).
std::unique_ptr<runtime::Backend> make_backend(const Context& ctx);
const Command* find_command(std::string_view name);

// Handlers, grouped by the file that holds them.
Result<int> run_spec(const Context&, const ParsedFlags&);      // spec_commands.cpp
Result<int> run_features(const Context&, const ParsedFlags&);  // spec_commands.cpp
Result<int> run_validate(const Context&, const ParsedFlags&);  // spec_commands.cpp
Result<int> run_create(const Context&, const ParsedFlags&);    // lifecycle_commands.cpp
Result<int> run_run(const Context&, const ParsedFlags&);
Result<int> run_start(const Context&, const ParsedFlags&);
Result<int> run_state(const Context&, const ParsedFlags&);
Result<int> run_kill(const Context&, const ParsedFlags&);
Result<int> run_delete(const Context&, const ParsedFlags&);
Result<int> run_list(const Context&, const ParsedFlags&);
Result<int> run_ps(const Context&, const ParsedFlags&);  // ps_command.cpp
Result<int> run_pause(const Context&, const ParsedFlags&);
Result<int> run_resume(const Context&, const ParsedFlags&);
Result<int> run_exec(const Context&, const ParsedFlags&);    // exec_command.cpp
Result<int> run_update(const Context&, const ParsedFlags&);  // update_commands.cpp
Result<int> run_events(const Context&, const ParsedFlags&);
Result<int> run_not_implemented(const Context&, const ParsedFlags&);  // command_table.cpp
Result<int> run_cdi(const Context&, const ParsedFlags&);              // cdi_command.cpp

}  // namespace hippo::cli
