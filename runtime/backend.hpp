#pragma once
// The pluggable "containerizer": what the CLI and the shim ask of a runtime backend. The native
// backend creates containers itself (clone3, namespaces, rootfs, cgroups); a runc backend will
// drive an external runc binary with the same operations.

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "oci-spec/error.hpp"
#include "oci-spec/spec.hpp"
#include "oci-spec/state.hpp"
#include "runtime/cgroups/manager.hpp"

namespace hippo::runtime {

struct CreateOptions {
  std::string id;
  std::filesystem::path bundle;
  std::string pid_file;        // --pid-file: init's pid written here (atomically)
  std::string console_socket;  // --console-socket (terminal containers)
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
};

struct RunOptions {
  bool detach = false;
  bool keep = false;  // do not delete the container after it exits
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
  bool tty = false;
  bool no_new_privs = false;
  bool detach = false;
  bool ignore_paused = false;
  int preserve_fds = 0;
  std::string pid_file;
  std::string console_socket;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Result<void> create(const CreateOptions& options) = 0;
  virtual Result<void> start(const std::string& id) = 0;
  // create + start; in the foreground waits and returns the exit code (128+N for signal N).
  virtual Result<int> run(const CreateOptions& options, const RunOptions& run) = 0;
  // Runs a process in the container; in the foreground returns its exit code.
  virtual Result<int> exec(const ExecOptions& options) = 0;
  virtual Result<spec::RuntimeState> state(const std::string& id) = 0;
  virtual Result<std::vector<spec::RuntimeState>> list() = 0;
  virtual Result<void> kill(const std::string& id, int signal, bool all) = 0;
  virtual Result<void> remove(const std::string& id, bool force) = 0;  // `delete`
  virtual Result<void> pause(const std::string& id) = 0;
  virtual Result<void> resume(const std::string& id) = 0;
  virtual Result<void> update(const std::string& id, const spec::Resources& resources) = 0;
  virtual Result<cgroups::Stats> stats(const std::string& id) = 0;
  virtual Result<std::vector<pid_t>> pids(const std::string& id) = 0;
  // The directory OOM events of the container's memory cgroup are read from.
  virtual Result<std::string> memory_cgroup_dir(const std::string& id) = 0;
};

struct NativeOptions {
  std::filesystem::path state_root = "/run/hippo";
};

std::unique_ptr<Backend> make_native_backend(const NativeOptions& options);

}  // namespace hippo::runtime
