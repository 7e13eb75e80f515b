#pragma once
// containerd's Task API (containerd.task.v2.Task and, with the same handlers,
// containerd.task.v3.Task) over hippo's runtime backend, in the shim daemon's event loop.
// Every container process is the daemon's child with a pidfd in the loop; it is reaped in one
// place (on_exit), and events leave through one ordered Publisher.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "oci-spec/spec.hpp"
#include "runtime/backend.hpp"
#include "runtime/oom_watch.hpp"
#include "runtime/runc/runc_backend.hpp"
#include "shim/metrics.hpp"
#include "shim/process_state.hpp"
#include "shim/publisher.hpp"
#include "shim/stdio.hpp"
#include "shim/ttrpc/server.hpp"

namespace hippo::shim {

struct Process {
  std::string container_id;
  std::string exec_id;  // empty for init
  ProcessState state = ProcessState::kCreated;
  pid_t pid = 0;
  os::UniqueFd pidfd;
  uint32_t exit_status = 0;
  std::chrono::system_clock::time_point exited_at{};
  StdioUris uris;
  Stdio stdio;
  os::UniqueFd pty;
  std::vector<ttrpc::Reply> waiters;
  std::optional<spec::Process> exec_spec;  // until Start
};

struct Container {
  std::string id;
  runtime::Backend* backend = nullptr;  // native, or a runc backend chosen by its options
  std::string bundle;
  bool rootfs_mounted = false;
  Process init;
  std::map<std::string, std::unique_ptr<Process>> execs;
  std::optional<runtime::OomWatch> oom;
  bool init_exit_deferred = false;  // waiting for exec exits to go out first
  // The init is not pid 1 of its pid namespace (the host's or another container's): its exit
  // does not end the others, so the shim kills them, as runc's shim does.
  bool kill_all_on_exit = false;
};

class TaskService {
 public:
  // `runc`: the daemon's default backend is that external runc (config.yaml backend: runc);
  // otherwise `backend` (native).
  TaskService(ttrpc::EventLoop& loop, Publisher& publisher,
              std::unique_ptr<runtime::Backend> backend, std::string ns,
              std::function<void()> request_exit,
              std::optional<runtime::RuncOptions> runc = std::nullopt);
  ~TaskService();
  void register_with(ttrpc::Server& server);
  size_t container_count() const { return containers_.size(); }
  // Whether `pid` is one of ours (reaped through its pidfd, not by the orphan reaper).
  bool owns(pid_t pid) const;

 private:
  using Reply = ttrpc::Reply;
  void create(std::string_view payload, Reply reply);
  void start(std::string_view payload, Reply reply);
  void remove(std::string_view payload, Reply reply);
  void exec(std::string_view payload, Reply reply);
  void state(std::string_view payload, Reply reply);
  void kill(std::string_view payload, Reply reply);
  void wait(std::string_view payload, Reply reply);
  void pids(std::string_view payload, Reply reply);
  void pause(std::string_view payload, Reply reply, bool resume);
  void close_io(std::string_view payload, Reply reply);
  void resize_pty(std::string_view payload, Reply reply);
  void update(std::string_view payload, Reply reply);
  void stats(std::string_view payload, Reply reply);
  void connect(std::string_view payload, Reply reply);
  void shutdown(std::string_view payload, Reply reply);

  Container* find(std::string_view id);
  Process* find_process(Container& c, std::string_view exec_id);
  // The container (and process) a request names, or nullptr after replying NotFound.
  Container* lookup(std::string_view id, Reply& reply);
  std::pair<Container*, Process*> lookup(std::string_view id, std::string_view exec_id, Reply& reply);
  void watch_process(Container& c, Process& p);
  void watch_terminal(Process& p);
  void on_exit(const std::string& container_id, const std::string& exec_id);
  void publish_exit(Container& c, Process& p);
  void drain_oom(Container& c);
  void publish(std::string topic, std::string type_url, std::string bytes);

  ttrpc::EventLoop& loop_;
  Publisher& publisher_;
  std::unique_ptr<runtime::Backend> backend_;
  std::map<std::string, std::unique_ptr<runtime::Backend>> runc_backends_;  // by binary
  std::string ns_;
  std::function<void()> request_exit_;
  std::optional<runtime::RuncOptions> default_runc_;
  MetricsVersion metrics_version_ = host_metrics_version();
  std::map<std::string, std::unique_ptr<Container>, std::less<>> containers_;
};

}  // namespace hippo::shim
