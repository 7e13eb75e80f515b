#pragma once
// `hippo run` and `hippo exec` as a user at a terminal sees them, for every backend: the
// container's process is started through the Backend operations (create_process/start,
// spawn_exec), then waited for here while signals are forwarded to it and, with a terminal, our
// stdio is relayed to its pty. The shim does neither: it reaps through its own event loop.

#include "base/error.hpp"
#include "runtime/backend.hpp"

namespace hippo::runtime {

struct RunOptions {
  bool detach = false;
  bool keep = false;  // do not delete the container after it exits
};

// create + start; in the foreground waits and returns the exit code (128+N for signal N) and
// deletes the container it created unless `keep`.
Result<int> run_container(Backend& backend, const CreateOptions& options, const RunOptions& run);

// Runs a process in the container; in the foreground (not options.detach) waits and returns
// its exit code.
Result<int> exec_in_container(Backend& backend, const ExecOptions& options);

}  // namespace hippo::runtime
