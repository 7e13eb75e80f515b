// Requests on a running task: State, Kill, Pids, Pause/Resume, CloseIO, ResizePty, Update,
// Stats: decode, call the lifecycle layer (or the container's backend for what has no state),
// encode, publish.

#include <sys/ioctl.h>
#include <termios.h>

#include <memory>
#include <vector>

#include "containerd/events/task.pb-c.h"
#include "containerd/runc/options.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "oci-spec/schema.hpp"
#include "shim/metrics.hpp"
#include "shim/proto_util.hpp"
#include "shim/task_service.hpp"
#include "shim/task_support.hpp"

namespace hippo::shim {

using ttrpc::Code;

#define LOOKUP(id, exec_id)                                 \
  auto found = lifecycle_.process(view(id), view(exec_id)); \
  if (!found) return reply_error(reply, found.error());     \
  auto [c, p] = *found
#define LOOKUP_CONTAINER(id)                            \
  auto found = lifecycle_.container(view(id));          \
  if (!found) return reply_error(reply, found.error()); \
  Container* c = *found

void TaskService::state(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__StateRequest, containerd__task__v2__state_request__descriptor, req);
  LOOKUP(req->id, req->exec_id);
  Timestamp at(p->exited_at);
  Containerd__Task__V2__StateResponse resp = CONTAINERD__TASK__V2__STATE_RESPONSE__INIT;
  const std::string id = p->exec_id.empty() ? c->id : p->exec_id;
  resp.id = const_cast<char*>(id.c_str());
  resp.bundle = c->bundle.data();
  resp.pid = static_cast<uint32_t>(p->pid);
  resp.status = proto_status(p->state);
  resp.stdin = p->uris.stdin_uri.data();
  resp.stdout = p->uris.stdout_uri.data();
  resp.stderr = p->uris.stderr_uri.data();
  resp.terminal = p->uris.terminal;
  resp.exit_status = p->exit_status;
  if (p->state == ProcessState::kStopped) resp.exited_at = &at.ts;
  resp.exec_id = p->exec_id.data();
  reply_message(reply, &resp.base);
}

void TaskService::kill(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__KillRequest, containerd__task__v2__kill_request__descriptor, req);
  LOOKUP(req->id, req->exec_id);
  if (auto ok = lifecycle_.kill(*c, *p, static_cast<int>(req->signal), req->all); !ok) {
    return reply_error(reply, ok.error());
  }
  reply_empty(reply);
}

void TaskService::pids(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__PidsRequest, containerd__task__v2__pids_request__descriptor, req);
  LOOKUP_CONTAINER(req->id);
  auto pids = c->backend->pids(c->id);
  if (!pids) return reply_error(reply, pids.error().context("pids of container " + c->id));
  std::vector<Containerd__V1__Types__ProcessInfo> infos(pids->size());
  std::vector<Containerd__V1__Types__ProcessInfo*> ptrs;
  std::vector<std::unique_ptr<OwnedAny>> details;
  for (size_t i = 0; i < pids->size(); ++i) {
    containerd__v1__types__process_info__init(&infos[i]);
    infos[i].pid = static_cast<uint32_t>((*pids)[i]);
    for (const auto& [eid, p] : c->execs) {
      if (p->pid == (*pids)[i]) {
        Containerd__Runc__V1__ProcessDetails d = CONTAINERD__RUNC__V1__PROCESS_DETAILS__INIT;
        d.exec_id = const_cast<char*>(eid.c_str());
        details.push_back(std::make_unique<OwnedAny>("containerd.runc.v1.ProcessDetails", pack(d)));
        infos[i].info = &details.back()->any;
      }
    }
    ptrs.push_back(&infos[i]);
  }
  Containerd__Task__V2__PidsResponse resp = CONTAINERD__TASK__V2__PIDS_RESPONSE__INIT;
  resp.n_processes = ptrs.size();
  resp.processes = ptrs.data();
  reply_message(reply, &resp.base);
}

void TaskService::pause(std::string_view payload, Reply reply, bool resume) {
  DECODE(Containerd__Task__V2__PauseRequest, containerd__task__v2__pause_request__descriptor, req);
  LOOKUP_CONTAINER(req->id);
  auto ok = resume ? lifecycle_.resume(*c) : lifecycle_.pause(*c);
  if (!ok) return reply(error_status(ok.error(), Code::kFailedPrecondition), "");
  Containerd__Events__TaskPaused ev =
      CONTAINERD__EVENTS__TASK_PAUSED__INIT;  // same shape as TaskResumed
  ev.container_id = req->id;
  publish(resume ? TaskEvent::kResumed : TaskEvent::kPaused, pack(ev));
  reply_empty(reply);
}

void TaskService::close_io(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__CloseIORequest, containerd__task__v2__close_iorequest__descriptor,
         req);
  LOOKUP(req->id, req->exec_id);
  if (req->stdin) p->stdio.stdin_keepalive.reset();
  reply_empty(reply);
}

void TaskService::resize_pty(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__ResizePtyRequest,
         containerd__task__v2__resize_pty_request__descriptor, req);
  LOOKUP(req->id, req->exec_id);
  if (p->pty) {
    winsize ws{};
    ws.ws_col = static_cast<unsigned short>(req->width);
    ws.ws_row = static_cast<unsigned short>(req->height);
    ::ioctl(p->pty.get(), TIOCSWINSZ, &ws);
  }
  reply_empty(reply);
}

void TaskService::update(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__UpdateTaskRequest,
         containerd__task__v2__update_task_request__descriptor, req);
  LOOKUP_CONTAINER(req->id);
  if (!req->resources || any_type_name(*req->resources) != kResourcesUrl) {
    return reply_error(reply, Code::kInvalidArgument,
                       "update: resources must be LinuxResources JSON");
  }
  auto resources = spec::read_document<spec::Resources>(view(req->resources->value), "resources");
  if (!resources) return reply_error(reply, Code::kInvalidArgument, resources.error().message);
  if (auto ok = c->backend->update(c->id, *resources); !ok) {
    return reply_error(reply, ok.error().context("update container " + c->id));
  }
  reply_empty(reply);
}

void TaskService::stats(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__StatsRequest, containerd__task__v2__stats_request__descriptor, req);
  LOOKUP_CONTAINER(req->id);
  auto st = c->backend->stats(c->id);
  if (!st)
    return reply(error_status(st.error().context("stats of container " + c->id), Code::kNotFound),
                 "");
  auto metrics = encode_metrics(*st, metrics_version_);
  OwnedAny any(std::move(metrics.type_url), std::move(metrics.bytes));
  Containerd__Task__V2__StatsResponse resp = CONTAINERD__TASK__V2__STATS_RESPONSE__INIT;
  resp.stats = &any.any;
  reply_message(reply, &resp.base);
}

}  // namespace hippo::shim
