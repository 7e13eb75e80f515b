#pragma once
// containerd's Task API (containerd.task.v2.Task and, with the same handlers,
// containerd.task.v3.Task) over the shim's lifecycle layer (lifecycle.hpp), in the daemon's
// event loop. The handlers only decode a request, call the lifecycle, encode the reply and
// publish the event (task_events.hpp names them); the states, the exit order and the backends
// live in the lifecycle layer.

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>

#include "runtime/backend_choice.hpp"
#include "shim/lifecycle.hpp"
#include "shim/metrics.hpp"
#include "shim/publisher.hpp"
#include "shim/task_events.hpp"
#include "shim/ttrpc/server.hpp"

namespace hippo::shim {

// hippo's own ttrpc service beside containerd's Task API: Forget (payload: a container id).
inline constexpr const char* kNodeService = "hippo.shim.v1.Node";

class TaskService final : public LifecycleEvents {
 public:
  // `default_choice`: the backend config.yaml chose for this daemon; a container's runc
  // Options may choose another (runtime/backend_choice.hpp).
  TaskService(ttrpc::EventLoop& loop, Publisher& publisher, runtime::BackendChoice default_choice,
              std::string ns, std::function<void()> request_exit,
              Lifecycle::BackendFactory make_backend = runtime::make_backend);
  ~TaskService() override;
  void register_with(ttrpc::Server& server);
  size_t container_count() const { return lifecycle_.size(); }
  // Called when a connection closes and no container is left (the node daemon's idle wait).
  void on_empty_disconnect(std::function<void()> hook) { on_empty_disconnect_ = std::move(hook); }
  // Whether `pid` is one of ours (reaped through its pidfd, not by the orphan reaper).
  bool owns(pid_t pid) const { return lifecycle_.owns(pid); }

  // Node mode's adoption (shim/snapshot.hpp): the containers as a successor needs them, and
  // taking a dead daemon's over. `reply_for` answers a recorded Wait on its adopted connection
  // (nullopt: that connection is gone).
  void snapshot_each(SnapshotContainer& scratch,
                     const std::function<void(SnapshotContainer&)>& each) const {
    lifecycle_.snapshot_each(scratch, each);
  }
  struct AdoptedWait {
    uint64_t connection = 0;  // the adopted connection's new id
    ttrpc::Reply reply;
  };
  void adopt(const std::vector<SnapshotContainer>& containers,
             const std::function<std::optional<AdoptedWait>(const SnapshotWaiter&)>& reply_for);
  void keeper_exited(pid_t pid, int wait_status) { lifecycle_.keeper_exited(pid, wait_status); }

  void exited(const Container& c, const Process& p) override;
  void oom(const Container& c) override;

 private:
  using Reply = ttrpc::Reply;
  void create(std::string_view payload, Reply reply);
  void start(std::string_view payload, Reply reply);
  void remove(std::string_view payload, Reply reply);
  void exec(std::string_view payload, Reply reply);
  void state(std::string_view payload, Reply reply);
  void kill(std::string_view payload, Reply reply);
  void wait(const ttrpc::CallContext& call, std::string_view payload, Reply reply);
  void pids(std::string_view payload, Reply reply);
  void pause(std::string_view payload, Reply reply, bool resume);
  void close_io(std::string_view payload, Reply reply);
  void resize_pty(std::string_view payload, Reply reply);
  void update(std::string_view payload, Reply reply);
  void stats(std::string_view payload, Reply reply);
  void connect(std::string_view payload, Reply reply);
  void shutdown(std::string_view payload, Reply reply);

  void publish(TaskEvent event, std::string bytes);

  Publisher& publisher_;
  std::string ns_;
  std::function<void()> request_exit_;
  std::function<void()> on_empty_disconnect_;
  MetricsVersion metrics_version_ = host_metrics_version();
  Lifecycle lifecycle_;
};

}  // namespace hippo::shim
