#pragma once
// Runs the runc binary: argv, optional stdin text, stdio fds for the container, captured
// stdout, and the last error of its JSON log as the error message.

#include <string>
#include <vector>

#include "base/error.hpp"
#include "runtime/backend.hpp"

namespace hippo::runtime::runc {

struct Command {
  std::vector<std::string> args;  // after the global flags
  std::string input;              // written to runc's stdin when io.stdin_fd < 0
  ProcessIo io;                   // the container's stdio (create, exec, run)
  bool capture_stdout = false;
};

struct Outcome {
  int exit_code = 0;
  std::string stdout_text;
};

// `global` is runc's global flags (--root, --systemd-cgroup); `log` is the JSON log file.
Result<Outcome> run(const std::string& binary, const std::vector<std::string>& global,
                    const std::string& log, const Command& command);

}  // namespace hippo::runtime::runc
