#pragma once
// A container the shim runs: its init, its execs and the backend that holds it. Every
// operation asks the transition table first (process_state.hpp), then the backend, then moves
// the states; errors name the container and the step ("exec e1 in container c1: cannot exec in
// a paused container"). Nothing here touches the event loop: lifecycle.hpp watches the pidfds
// and reports exits in the order exited() gives.

#include <signal.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "oci-spec/spec.hpp"
#include "runtime/backend.hpp"
#include "runtime/oom_watch.hpp"
#include "shim/process.hpp"

namespace hippo::shim {

class Container {
 public:
  std::string id;
  std::string bundle;
  runtime::Backend* backend = nullptr;  // the one backend_choice picked for it
  bool rootfs_mounted = false;
  Process init;
  std::map<std::string, std::unique_ptr<Process>, std::less<>> execs;
  std::optional<runtime::OomWatch> oom;
  bool init_exit_deferred = false;  // the init's exit waits for the execs' exits to go out
  // The init is not pid 1 of its pid namespace (the host's or another container's): its exit
  // does not end the others, so the shim kills them, as runc's shim does.
  bool kill_all_on_exit = false;

  // The init for an empty exec_id; NotFound otherwise.
  Result<Process*> process(std::string_view exec_id);

  Result<void> start();
  // ExecProcess: a created exec, its stdio opened (the spec's terminal set from the request).
  Result<Process*> add_exec(const std::string& exec_id, spec::Process spec, StdioUris uris);
  Result<void> start_exec(Process& exec);
  // The container's processes move together: the init and every running exec.
  Result<void> pause();
  Result<void> resume();
  Result<void> kill(Process& p, int signal, bool all);

  // `p` was reaped with `info`: records the exit and returns the processes whose exits are to
  // be reported now, in order. An init's exit waits until its execs' exits are out (runc's
  // shim does the same: containerd takes the init's exit as the end of the task).
  std::vector<Process*> exited(Process& p, const siginfo_t& info);
  // Whether p's exit has been reported: Wait then answers at once.
  bool exit_reported(const Process& p) const;
  bool execs_live() const;

  // Delete of an exec (created or stopped): checks and forgets it.
  Result<void> remove_exec(Process& exec);
  // Delete of the container, once its init is created or stopped: a created init is killed and
  // reaped, the backend removes the container, the rootfs is unmounted. Later steps run even if
  // an earlier one failed (containerd's `delete` action retries); their errors are logged.
  Result<void> remove();
};

}  // namespace hippo::shim
