#pragma once
// The pluggable "containerizer": what the CLI and the shim ask of a runtime backend. The native
// backend creates containers itself (clone3, namespaces, rootfs, cgroups); the runc backend
// drives an external runc binary with the same operations. Waiting for a process in the
// foreground (`hippo run`, `hippo exec`) is not a backend's business: foreground.hpp does it
// over these operations for both.

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "oci-spec/spec.hpp"
#include "oci-spec/state.hpp"
#include "oci-spec/stats.hpp"
#include "runtime/config.hpp"

namespace hippo::runtime {

// The container process's stdio, for callers that wire it themselves (the shim); -1 inherits
// the caller's.
struct ProcessIo {
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
};

// A process the caller now owns: it is the caller's child, watched through the pidfd.
struct ProcessHandle {
  pid_t pid = -1;
  os::UniqueFd pidfd;
  os::UniqueFd pty_master;  // with a terminal and receive_pty
  bool started = false;     // start_at_once took: the process runs its program already
};

struct CreateOptions {
  std::string id;
  std::string bundle;
  std::string pid_file;        // --pid-file: init's pid written here (atomically)
  std::string console_socket;  // --console-socket (terminal containers)
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
  ProcessIo io;
  bool receive_pty = false;  // a terminal's pty master comes back in ProcessHandle
  // create_process for `run` in the foreground: init goes on to its program once ready, with no
  // exec fifo and no separate start (poststart hooks run before create_process returns). A
  // backend that cannot (runc), or a spec with startContainer hooks, leaves `started` false.
  bool start_at_once = false;
  // The systemd driver for this container whatever NativeOptions::cgroup_driver says (the shim:
  // runc Options' SystemdCgroup). Later commands use the driver the container was created with.
  bool systemd_cgroup = false;
};

// `hippo exec`: either a whole process (--process) or overrides of the container's own
// process from config.json (args, env added, cwd, user, terminal), as runc exec does.
struct ExecOptions {
  std::string id;
  std::optional<spec::Process> process;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  std::optional<uint32_t> uid, gid;
  std::vector<uint32_t> additional_gids;
  std::vector<std::string> caps;  // --cap: added to bounding, effective, permitted, ambient
  std::optional<std::string> apparmor_profile, process_label;  // --apparmor, --process-label
  bool tty = false;
  bool no_new_privs = false;
  bool detach = false;
  bool ignore_paused = false;
  int preserve_fds = 0;
  // --cgroup: sub-cgroups of the container's to run in, by controller ("" for all of them;
  // runc's `[<controller>[,<controller>]:]<path>`). Empty: the container's cgroup.
  std::map<std::string, std::string> sub_cgroups;
  std::string pid_file;
  std::string console_socket;
  ProcessIo io;
  bool receive_pty = false;
};

// The process an exec runs: options.process, or the container's own process from
// <bundle>/config.json with the overrides applied (runc exec's rules). Both backends use it.
Result<spec::Process> exec_process_spec(const ExecOptions& options, const std::string& bundle);

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Result<void> create(const CreateOptions& options) = 0;
  // create, keeping the init as our child (the shim reaps it through the pidfd).
  virtual Result<ProcessHandle> create_process(const CreateOptions& options) = 0;
  // exec without waiting: the process is our child, stdio as options.io says.
  virtual Result<ProcessHandle> spawn_exec(const ExecOptions& options) = 0;
  virtual Result<void> start(const std::string& id) = 0;
  virtual Result<spec::RuntimeState> state(const std::string& id) = 0;
  virtual Result<std::vector<spec::RuntimeState>> list() = 0;
  virtual Result<void> kill(const std::string& id, int signal, bool all) = 0;
  virtual Result<void> remove(const std::string& id, bool force) = 0;  // `delete`
  virtual Result<void> pause(const std::string& id) = 0;
  virtual Result<void> resume(const std::string& id) = 0;
  virtual Result<void> update(const std::string& id, const spec::Resources& resources) = 0;
  virtual Result<spec::Stats> stats(const std::string& id) = 0;
  virtual Result<std::vector<pid_t>> pids(const std::string& id) = 0;
  // The directory OOM events of the container's memory cgroup are read from.
  virtual Result<std::string> memory_cgroup_dir(const std::string& id) = 0;
};

struct NativeOptions {
  std::string state_root = "/run/hippo";
  // config.yaml's values: "cgroupfs", "systemd" or "auto" (systemd where it runs and cgroupsPath
  // is empty or of the slice:prefix:name form).
  std::string cgroup_driver = "cgroupfs";
  std::string systemd_slice = "system.slice";  // for a cgroupsPath that names no slice
  NestingConfig nesting;  // config.yaml's nesting keys: create resolves each container's mode
  // config.yaml's cdi_spec_dirs: where create resolves cdi.k8s.io/ annotations (docs/devices.md).
  std::vector<std::string> cdi_spec_dirs = {"/etc/cdi", "/var/run/cdi"};
};

// config.yaml's cgroup_driver and systemd_slice, with state under `state_root`.
NativeOptions native_options(const Config& config, std::string state_root);

std::unique_ptr<Backend> make_native_backend(const NativeOptions& options);

}  // namespace hippo::runtime
