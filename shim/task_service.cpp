// The Task service: method registration, container lookup, event publishing, Connect and
// Shutdown. The handlers live in task_create.cpp, task_exit.cpp and task_control.cpp.

#include "shim/task_service.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>


#include "containerd/events/task.pb-c.h"
#include "containerd/runc/options.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "oci-spec/schema.hpp"
#include "base/syscalls.hpp"
#include "runtime/runc/runc_backend.hpp"
#include "shim/proto_util.hpp"
#include "base/file_io.hpp"
#include "shim/metrics.hpp"
#include "shim/rootfs.hpp"
#include "shim/runtime_options.hpp"
#include "shim/task_support.hpp"

namespace hippo::shim {

using ttrpc::Code;
using ttrpc::Status;

TaskService::TaskService(ttrpc::EventLoop& loop, Publisher& publisher,
                         std::unique_ptr<runtime::Backend> backend, std::string ns,
                         std::function<void()> request_exit,
                         std::optional<runtime::RuncOptions> runc)
    : loop_(loop), publisher_(publisher), backend_(std::move(backend)), ns_(std::move(ns)),
      request_exit_(std::move(request_exit)), default_runc_(std::move(runc)) {
  if (default_runc_) backend_ = runtime::make_runc_backend(*default_runc_);
}

TaskService::~TaskService() = default;

void TaskService::register_with(ttrpc::Server& server) {
  using Method = void (TaskService::*)(std::string_view, Reply);
  const std::pair<const char*, Method> methods[] = {
      {"Create", &TaskService::create},     {"Start", &TaskService::start},
      {"Delete", &TaskService::remove},     {"Exec", &TaskService::exec},
      {"State", &TaskService::state},       {"Kill", &TaskService::kill},
      {"Wait", &TaskService::wait},         {"Pids", &TaskService::pids},
      {"CloseIO", &TaskService::close_io},  {"ResizePty", &TaskService::resize_pty},
      {"Update", &TaskService::update},     {"Connect", &TaskService::connect},
      {"Shutdown", &TaskService::shutdown},
  };
  for (const char* service : {"containerd.task.v2.Task", "containerd.task.v3.Task"}) {
    for (const auto& [name, method] : methods) {
      server.register_method(service, name, [this, method](const ttrpc::CallContext&,
                                                           std::string_view payload, Reply reply) {
        (this->*method)(payload, std::move(reply));
      });
    }
    server.register_method(service, "Pause", [this](const auto&, std::string_view p, Reply r) {
      pause(p, std::move(r), false);
    });
    server.register_method(service, "Resume", [this](const auto&, std::string_view p, Reply r) {
      pause(p, std::move(r), true);
    });
    server.register_method(service, "Stats", [this](const auto&, std::string_view p, Reply r) {
      stats(p, std::move(r));
    });
    for (const char* name : {"Checkpoint"}) {
      server.register_method(service, name, [name](const auto&, std::string_view, Reply r) {
        reply_error(r, Code::kUnimplemented, std::string(name) + " is not implemented by hippo yet");
      });
    }
  }
}

bool TaskService::owns(pid_t pid) const {
  for (const auto& [id, c] : containers_) {
    if (c->init.pid == pid) return true;
    for (const auto& [eid, p] : c->execs) {
      if (p->pid == pid) return true;
    }
  }
  return false;
}

Container* TaskService::find(std::string_view id) {
  auto it = containers_.find(id);
  return it == containers_.end() ? nullptr : it->second.get();
}

Container* TaskService::lookup(std::string_view id, Reply& reply) {
  Container* c = find(id);
  if (!c) reply_error(reply, Code::kNotFound, "container " + std::string(id) + " not found");
  return c;
}

std::pair<Container*, Process*> TaskService::lookup(std::string_view id, std::string_view exec_id,
                                                    Reply& reply) {
  Container* c = lookup(id, reply);
  if (!c) return {nullptr, nullptr};
  Process* p = find_process(*c, exec_id);
  if (!p) reply_error(reply, Code::kNotFound, "process " + std::string(exec_id) + " not found");
  return {c, p};
}

Process* TaskService::find_process(Container& c, std::string_view exec_id) {
  if (exec_id.empty()) return &c.init;
  auto it = c.execs.find(std::string(exec_id));
  return it == c.execs.end() ? nullptr : it->second.get();
}

void TaskService::publish(std::string topic, std::string type_url, std::string bytes) {
  publisher_.publish(std::move(topic), std::move(type_url), std::move(bytes));
}

void TaskService::connect(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__ConnectRequest, containerd__task__v2__connect_request__descriptor, req);
  Containerd__Task__V2__ConnectResponse resp = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
  resp.shim_pid = static_cast<uint32_t>(::getpid());
  if (Container* c = find(view(req->id))) resp.task_pid = static_cast<uint32_t>(c->init.pid);
  reply_message(reply, &resp.base);
}

void TaskService::shutdown(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__ShutdownRequest, containerd__task__v2__shutdown_request__descriptor, req);
  reply_empty(reply);
  // A grouped daemon goes on while it hosts other containers.
  if (containers_.empty()) request_exit_();
}

}  // namespace hippo::shim
