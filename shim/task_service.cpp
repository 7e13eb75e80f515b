// The Task service: method registration, event publishing, the events the lifecycle layer
// reports (exits, OOM kills), Connect and Shutdown. The handlers live in task_create.cpp,
// task_exit.cpp and task_control.cpp.

#include "shim/task_service.hpp"

#include <unistd.h>

#include "containerd/events/task.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "shim/proto_util.hpp"
#include "shim/task_support.hpp"

namespace hippo::shim {

using ttrpc::Code;

TaskService::TaskService(ttrpc::EventLoop& loop, Publisher& publisher,
                         runtime::BackendChoice default_choice, std::string ns,
                         std::function<void()> request_exit, Lifecycle::BackendFactory make_backend)
    : publisher_(publisher),
      ns_(ns),
      request_exit_(std::move(request_exit)),
      lifecycle_(loop, *this, std::move(default_choice), std::move(ns), std::move(make_backend)) {}

TaskService::~TaskService() = default;

void TaskService::register_with(ttrpc::Server& server) {
  using Method = void (TaskService::*)(std::string_view, Reply);
  const std::pair<const char*, Method> methods[] = {
      {"Create", &TaskService::create},
      {"Start", &TaskService::start},
      {"Delete", &TaskService::remove},
      {"Exec", &TaskService::exec},
      {"State", &TaskService::state},
      {"Kill", &TaskService::kill},
      {"Pids", &TaskService::pids},
      {"CloseIO", &TaskService::close_io},
      {"ResizePty", &TaskService::resize_pty},
      {"Update", &TaskService::update},
      {"Connect", &TaskService::connect},
      {"Shutdown", &TaskService::shutdown},
      {"Stats", &TaskService::stats},
  };
  // `shim delete` tells a live daemon it removed a container (shim/delete_action.cpp): the
  // payload is the container id. Not containerd's API: hippo's own service name.
  server.register_method(kNodeService, "Forget",
                         [this](const ttrpc::CallContext&, std::string_view id, Reply reply) {
                           lifecycle_.forget(id);
                           reply(ttrpc::Status{}, "");
                           if (lifecycle_.size() == 0 && on_empty_disconnect_)
                             on_empty_disconnect_();
                         });
  server.on_disconnect([this](uint64_t connection) {
    lifecycle_.forget_waiters(connection);
    if (lifecycle_.size() == 0 && on_empty_disconnect_) on_empty_disconnect_();
  });
  for (const char* service : {"containerd.task.v2.Task", "containerd.task.v3.Task"}) {
    for (const auto& [name, method] : methods) {
      server.register_method(
          service, name,
          [this, method](const ttrpc::CallContext&, std::string_view payload, Reply reply) {
            (this->*method)(payload, std::move(reply));
          });
    }
    server.register_method(service, "Wait", [this](const auto& call, std::string_view p, Reply r) {
      wait(call, p, std::move(r));
    });
    server.register_method(service, "Pause", [this](const auto&, std::string_view p, Reply r) {
      pause(p, std::move(r), false);
    });
    server.register_method(service, "Resume", [this](const auto&, std::string_view p, Reply r) {
      pause(p, std::move(r), true);
    });
    for (const char* name : {"Checkpoint"}) {
      server.register_method(service, name, [name](const auto&, std::string_view, Reply r) {
        reply_error(r, Code::kUnimplemented,
                    std::string(name) + " is not implemented by hippo yet");
      });
    }
  }
}

void TaskService::publish(TaskEvent event, std::string bytes) {
  const auto& name = task_event_name(event);
  publisher_.publish(std::string(name.topic), std::string(name.type_url), std::move(bytes));
}

void TaskService::exited(const Container& c, const Process& p) {
  Timestamp at(p.exited_at);
  Containerd__Events__TaskExit ev = CONTAINERD__EVENTS__TASK_EXIT__INIT;
  ev.container_id = const_cast<char*>(c.id.c_str());
  // Consumers (Docker) take id == container_id as "the container died".
  const std::string id = p.is_init() ? c.id : p.exec_id;
  ev.id = const_cast<char*>(id.c_str());
  ev.pid = static_cast<uint32_t>(p.pid);
  ev.exit_status = p.exit_status;
  ev.exited_at = &at.ts;
  publish(TaskEvent::kExit, pack(ev));
}

void TaskService::oom(const Container& c) {
  Containerd__Events__TaskOOM ev = CONTAINERD__EVENTS__TASK_OOM__INIT;
  ev.container_id = const_cast<char*>(c.id.c_str());
  publish(TaskEvent::kOom, pack(ev));
}

void TaskService::connect(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__ConnectRequest, containerd__task__v2__connect_request__descriptor,
         req);
  Containerd__Task__V2__ConnectResponse resp = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
  resp.shim_pid = static_cast<uint32_t>(::getpid());
  if (auto c = lifecycle_.container(view(req->id)))
    resp.task_pid = static_cast<uint32_t>((*c)->init.pid);
  reply_message(reply, &resp.base);
}

void TaskService::shutdown(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__ShutdownRequest, containerd__task__v2__shutdown_request__descriptor,
         req);
  reply_empty(reply);
  // A grouped daemon goes on while it hosts other containers (a node daemon decides itself
  // when an empty one goes).
  if (lifecycle_.size() == 0) request_exit_();
}

}  // namespace hippo::shim
