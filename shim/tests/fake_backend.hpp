#pragma once
// A test-only runtime::Backend: the processes are real (short-lived children of the test with
// pidfds, reaped by the code under test), only the container around them is pretended. The
// init waits on a pipe until start() and then runs `/bin/sh -c <init_script>`; an exec runs
// its spec's args at once. kill(all) signals every process it spawned for the container.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/syscalls.hpp"
#include "base/unique_fd.hpp"
#include "runtime/backend.hpp"

namespace hippo::shim::test_support {

class FakeBackend : public runtime::Backend {
 public:
  struct Settings {
    std::string init_script = "exec /bin/sleep 1000";
    // false: kill(all) reaches the init only, so execs outlive it (a shared pid namespace whose
    // other processes the runtime cannot find).
    bool kill_all_reaches_execs = true;
  };
  explicit FakeBackend(std::shared_ptr<Settings> settings) : settings_(std::move(settings)) {}

  Result<runtime::ProcessHandle> create_process(const runtime::CreateOptions& o) override {
    int gate[2];
    if (::pipe2(gate, O_CLOEXEC) != 0) return fail_errno("pipe");
    os::UniqueFd gate_read(gate[0]), gate_write(gate[1]);
    auto handle = spawn({"/bin/sh", "-c", settings_->init_script}, o.io, gate_read.get());
    if (!handle) return handle;
    auto& c = containers_[o.id];
    c.start_gate = std::move(gate_write);
    c.init_pid = handle->pid;
    c.pidfds.emplace_back(::fcntl(handle->pidfd.get(), F_DUPFD_CLOEXEC, 3));
    return handle;
  }

  Result<runtime::ProcessHandle> spawn_exec(const runtime::ExecOptions& o) override {
    auto it = containers_.find(o.id);
    if (it == containers_.end()) return fail(ErrorKind::not_found, "fake: no container " + o.id);
    auto handle = spawn(o.process ? o.process->args.value_or(std::vector<std::string>{})
                                  : std::vector<std::string>{},
                        o.io, -1);
    if (!handle) return handle;
    if (settings_->kill_all_reaches_execs) {
      it->second.pidfds.emplace_back(::fcntl(handle->pidfd.get(), F_DUPFD_CLOEXEC, 3));
    }
    return handle;
  }

  Result<void> start(const std::string& id) override {
    auto it = containers_.find(id);
    if (it == containers_.end() || !it->second.start_gate)
      return fail(ErrorKind::failed_precondition, "fake: not created");
    const char go = 1;
    if (::write(it->second.start_gate.get(), &go, 1) != 1) return fail_errno("fake start");
    it->second.start_gate.reset();
    return {};
  }

  Result<void> kill(const std::string& id, int signal, bool) override {
    for (auto& fd : containers_[id].pidfds) (void)os::sys::pidfd_send_signal(fd.get(), signal);
    return {};
  }
  Result<void> remove(const std::string& id, bool) override {
    containers_.erase(id);
    return {};
  }
  Result<void> pause(const std::string& id) override { return record("pause " + id); }
  Result<void> resume(const std::string& id) override { return record("resume " + id); }
  Result<spec::RuntimeState> state(const std::string& id) override {
    spec::RuntimeState s;
    s.id = id;
    s.pid = containers_[id].init_pid;
    return s;
  }
  Result<std::string> memory_cgroup_dir(const std::string&) override {
    return fail(ErrorKind::unimplemented, "fake: no cgroups");
  }
  Result<std::vector<pid_t>> pids(const std::string& id) override {
    return std::vector<pid_t>{containers_[id].init_pid};
  }
  Result<void> create(const runtime::CreateOptions&) override { return unsupported(); }
  Result<std::vector<spec::RuntimeState>> list() override { return unsupported(); }
  Result<void> update(const std::string&, const spec::Resources&) override { return unsupported(); }
  Result<spec::Stats> stats(const std::string&) override { return unsupported(); }

  std::vector<std::string> calls;

 private:
  struct Container {
    os::UniqueFd start_gate;
    pid_t init_pid = 0;
    std::vector<os::UniqueFd> pidfds;
  };

  static std::unexpected<Error> unsupported() {
    return fail(ErrorKind::unimplemented, "fake: not supported");
  }
  Result<void> record(std::string call) {
    calls.push_back(std::move(call));
    return {};
  }

  // fork + execve; between them only async-signal-safe calls over data built before the fork.
  static Result<runtime::ProcessHandle> spawn(std::vector<std::string> args, runtime::ProcessIo io,
                                              int gate) {
    if (args.empty()) return fail(ErrorKind::invalid_argument, "fake: no args");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    char* envp[] = {nullptr};
    const pid_t pid = ::fork();
    if (pid < 0) return fail_errno("fork");
    if (pid == 0) {
      const int fds[] = {io.stdin_fd, io.stdout_fd, io.stderr_fd};
      for (int i = 0; i < 3; ++i) {
        if (fds[i] >= 0) ::dup2(fds[i], i);
      }
      char go = 0;
      if (gate >= 0 && ::read(gate, &go, 1) != 1) ::_exit(111);  // deleted before start
      ::execve(argv[0], argv.data(), envp);
      ::_exit(127);
    }
    runtime::ProcessHandle h;
    h.pid = pid;
    h.pidfd = os::UniqueFd(os::sys::pidfd_open(pid));  // our child: it cannot be reaped before
    if (!h.pidfd) return fail_errno("pidfd_open");
    return h;
  }

  std::shared_ptr<Settings> settings_;
  std::map<std::string, Container> containers_;
};

}  // namespace hippo::shim::test_support
