#pragma once
// The shim's lifecycle layer (what containerd's runc shim keeps in process/ and its service's
// container table): the containers of one daemon, created on the backend their options choose
// (runtime/backend_choice.hpp), every process a child of the daemon with its pidfd in the
// event loop, reaped in one place (on_exit) and reported in the order Container::exited gives.
// Requests come in as calls with typed results; TaskService only decodes, calls, encodes and
// publishes.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "runtime/backend.hpp"
#include "runtime/backend_choice.hpp"
#include "shim/container.hpp"
#include "shim/rootfs.hpp"
#include "shim/snapshot.hpp"
#include "shim/ttrpc/event_loop.hpp"

namespace hippo::shim {

// What happens without a request: exits and OOM kills, for TaskService to publish.
class LifecycleEvents {
 public:
  virtual ~LifecycleEvents() = default;
  virtual void exited(const Container& c, const Process& p) = 0;
  virtual void oom(const Container& c) = 0;
};

struct CreateRequest {
  std::string id;
  std::string bundle;
  StdioUris uris;
  std::vector<RootfsMount> rootfs;
  runtime::RuncOverrides runc;  // containerd.runc.v1.Options: may choose an external runc
  bool no_pivot_root = false;
  bool no_new_keyring = false;
};

// What Delete reports.
struct Removed {
  pid_t pid = 0;
  uint32_t exit_status = 0;
  std::chrono::system_clock::time_point exited_at{};
};

class Lifecycle {
 public:
  using BackendFactory =
      std::function<std::unique_ptr<runtime::Backend>(const runtime::BackendChoice&)>;

  // `default_choice`: the daemon's config.yaml choice; `make` builds a backend for a choice
  // (tests pass a fake).
  Lifecycle(ttrpc::EventLoop& loop, LifecycleEvents& events, runtime::BackendChoice default_choice,
            std::string ns, BackendFactory make = runtime::make_backend);
  ~Lifecycle();
  Lifecycle(const Lifecycle&) = delete;
  Lifecycle& operator=(const Lifecycle&) = delete;

  Result<Container*> create(CreateRequest request);
  Result<Container*> container(std::string_view id);
  // The container and its process (init for an empty exec_id).
  Result<std::pair<Container*, Process*>> process(std::string_view id, std::string_view exec_id);

  Result<void> start(Container& c, Process& p);
  Result<Process*> add_exec(Container& c, const std::string& exec_id, spec::Process spec,
                            StdioUris uris);
  Result<void> pause(Container& c) { return c.pause(); }
  Result<void> resume(Container& c) { return c.resume(); }
  Result<void> kill(Container& c, Process& p, int signal, bool all) {
    return c.kill(p, signal, all);
  }
  // `waiter.done` runs once p's exit is reported: now, if it already is.
  void wait(Container& c, Process& p, Process::Waiter waiter);
  // The connection closed: its pending Waits will never be answered (and must not pile up).
  void forget_waiters(uint64_t connection);
  // Deletes an exec, or the container (and forgets it) for the init.
  Result<Removed> remove(Container& c, Process& p);

  size_t size() const { return containers_.size(); }
  // Drops container `id` without touching its processes or state: `shim delete` has removed it
  // already (containerd's cleanup of a task whose connection closed; shim/delete_action.cpp).
  bool forget(std::string_view id);

  // Node mode's adoption (shim/snapshot.hpp): every container as a successor needs it, one at
  // a time, in id order: each is read into `scratch` (every field set, its memory reused) and
  // handed to `each`, which may swap it with another.
  void snapshot_each(SnapshotContainer& scratch,
                     const std::function<void(SnapshotContainer&)>& each) const;
  // Takes over a dead daemon's containers; `waiter` makes a recorded Wait one of ours (nullopt:
  // its connection is gone). Exits found meanwhile are reported once the loop runs.
  using AdoptedWaiter = std::function<std::optional<Process::Waiter>(const SnapshotWaiter&)>;
  void adopt(const std::vector<SnapshotContainer>& containers, const AdoptedWaiter& waiter);
  // The keeper reaped `pid` (a dead daemon's process, now the keeper's child) with
  // `wait_status` (waitpid's encoding).
  void keeper_exited(pid_t pid, int wait_status);
  // Whether `pid` is a live process of ours (reaped through its pidfd, not by the orphan reaper).
  bool owns(pid_t pid) const;

 private:
  runtime::Backend& backend_for(const runtime::BackendChoice& choice);
  void watch(Container& c, Process& p);
  void watch_terminal(Process& p);
  void stop_watching(Process& p);
  // Every watch of c: its processes' and its OOM watch's.
  void stop_watching(Container& c);
  void watch_oom(Container& c);
  void on_exit(const std::string& container_id, const std::string& exec_id);
  // The rest of on_exit once `p` is reaped (by us, or by the keeper for an adopted process).
  void reaped(Container& c, Process& p, const siginfo_t& info);
  void adopt_process(Container& c, Process& p, const SnapshotProcess& r,
                     const AdoptedWaiter& waiter);
  // Then, once the client has read the output FIFOs (or stopped reading):
  void await_drained_output(const std::string& container_id, const std::string& exec_id,
                            const siginfo_t& info, std::optional<size_t> unread_before,
                            std::chrono::milliseconds stalled);
  // The rest of an exit, once its output is through: events, waiters.
  void report_exit(Container& c, Process& p, const siginfo_t& info);
  void drain_oom(Container& c);

  ttrpc::EventLoop& loop_;
  LifecycleEvents& events_;
  runtime::BackendChoice default_choice_;
  std::string ns_;
  BackendFactory make_;
  std::map<std::string, std::unique_ptr<runtime::Backend>> backends_;  // by choice
  std::map<std::string, std::unique_ptr<Container>, std::less<>> containers_;
  // Exits the keeper reported for adopted processes whose pidfd has not said so yet.
  std::map<pid_t, int> keeper_exits_;
};

}  // namespace hippo::shim
