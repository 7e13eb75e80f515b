#pragma once
// The native backend: hippo creates containers itself (linux/spawn, linux/init_child) and
// places them in cgroups through the cgroupfs or the systemd driver. Its operations live in
// files by what they do: create.cpp (create: each step with its own undo), lifecycle.cpp
// (start, kill, delete, pause, resume, update, state, list, stats), exec.cpp (a process in a
// running container). Private to hippo_runtime: users get it from make_native_backend.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"
#include "runtime/backend.hpp"
#include "runtime/bundle.hpp"
#include "runtime/cgroups/driver.hpp"
#include "runtime/native/container_record.hpp"

namespace hippo::runtime::native {

class NativeBackend final : public Backend {
 public:
  explicit NativeBackend(NativeOptions options);

  // create.cpp
  Result<void> create(const CreateOptions& options) override;
  Result<ProcessHandle> create_process(const CreateOptions& options) override;

  // exec.cpp
  Result<ProcessHandle> spawn_exec(const ExecOptions& options) override;

  // lifecycle.cpp
  Result<void> start(const std::string& id) override;
  Result<spec::RuntimeState> state(const std::string& id) override;
  Result<std::vector<spec::RuntimeState>> list() override;
  Result<void> kill(const std::string& id, int signal, bool all) override;
  Result<void> remove(const std::string& id, bool force) override;
  Result<void> pause(const std::string& id) override;
  Result<void> resume(const std::string& id) override;
  Result<void> update(const std::string& id, const spec::Resources& resources) override;
  Result<spec::Stats> stats(const std::string& id) override;
  Result<std::vector<pid_t>> pids(const std::string& id) override;
  Result<std::string> memory_cgroup_dir(const std::string& id) override;

 private:
  struct CreatedInit {
    pid_t pid;
    os::UniqueFd pidfd;    // we are init's parent until this process exits
    bool started = false;  // CreateOptions::start_at_once took
  };

  // lifecycle.cpp
  Result<Inspected> inspect(const std::string& id, ContainerDir::Wait wait);
  // A healthy container for the commands that act on one; an incomplete or corrupt one is an
  // error that says what is wrong.
  Result<Opened> open(const std::string& id);

  // create.cpp. `console_fd`: where init sends its pty master when the caller receives it
  // itself (hippo run in the foreground); otherwise --console-socket is connected.
  // `config_rules`: config.json's own device rules, before CDI added any.
  Result<CreatedInit> create_init(const CreateOptions& options, const Bundle& bundle,
                                  int console_fd,
                                  const std::vector<spec::DeviceRule>& config_rules);

  // The hooks start and delete run, from config.json: parsed again unless this backend created
  // the container (hippo run creates, starts and deletes in one process). Null without hooks or
  // a readable config.json (no hooks run then, as before).
  std::shared_ptr<const spec::Spec> hooks_spec(const StoredState& st) const;

  NativeOptions options_;
  cgroups::Driver driver_;
  // config.json as create_process read it (before CDI's edits, as a later read finds it); the
  // spec is kept only when it has hooks.
  struct CreatedSpec {
    std::string id, bundle;
    std::shared_ptr<const spec::Spec> with_hooks;
  };
  std::optional<CreatedSpec> created_;
};

}  // namespace hippo::runtime::native
