// Create, Start and Exec: decode, call the lifecycle layer, encode, publish.

#include <utility>
#include <vector>

#include "containerd/events/task.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "oci-spec/schema.hpp"
#include "shim/proto_util.hpp"
#include "shim/runtime_options.hpp"
#include "shim/task_service.hpp"
#include "shim/task_support.hpp"

namespace hippo::shim {

using ttrpc::Code;

void TaskService::create(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__CreateTaskRequest,
         containerd__task__v2__create_task_request__descriptor, req);
  CreateRequest r;
  r.id = std::string(view(req->id));
  r.bundle = std::string(view(req->bundle));
  r.uris = {std::string(view(req->stdin)),
            std::string(view(req->stdout)),
            std::string(view(req->stderr)),
            req->terminal != 0,
            r.id,
            ns_};
  for (size_t i = 0; i < req->n_rootfs; ++i) {
    const auto* m = req->rootfs[i];
    RootfsMount rm{
        std::string(view(m->type)), std::string(view(m->source)), std::string(view(m->target)), {}};
    for (size_t k = 0; k < m->n_options; ++k) rm.options.emplace_back(m->options[k]);
    r.rootfs.push_back(std::move(rm));
  }
  if (req->options) {
    const auto options =
        decode_runtime_options(any_type_name(*req->options), view(req->options->value));
    r.runc = {options.binary_name, options.root, options.systemd_cgroup};
    r.no_pivot_root = options.no_pivot_root;
    r.no_new_keyring = options.no_new_keyring;
  }
  auto c = lifecycle_.create(std::move(r));
  if (!c) return reply_error(reply, c.error());

  Containerd__Events__TaskIO io = CONTAINERD__EVENTS__TASK_IO__INIT;
  io.stdin = req->stdin;
  io.stdout = req->stdout;
  io.stderr = req->stderr;
  io.terminal = req->terminal;
  Containerd__Events__TaskCreate ev = CONTAINERD__EVENTS__TASK_CREATE__INIT;
  ev.container_id = req->id;
  ev.bundle = req->bundle;
  ev.n_rootfs = req->n_rootfs;
  ev.rootfs = req->rootfs;
  ev.io = &io;
  ev.checkpoint = req->checkpoint;
  ev.pid = static_cast<uint32_t>((*c)->init.pid);
  publish(TaskEvent::kCreate, pack(ev));

  Containerd__Task__V2__CreateTaskResponse resp = CONTAINERD__TASK__V2__CREATE_TASK_RESPONSE__INIT;
  resp.pid = static_cast<uint32_t>((*c)->init.pid);
  reply_message(reply, &resp.base);
}

void TaskService::start(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__StartRequest, containerd__task__v2__start_request__descriptor, req);
  auto found = lifecycle_.process(view(req->id), view(req->exec_id));
  if (!found) return reply_error(reply, found.error());
  auto [c, p] = *found;
  if (auto ok = lifecycle_.start(*c, *p); !ok) return reply_error(reply, ok.error());
  // In the same turn of the loop as the start: an exit that races with it goes out after.
  if (p->is_init()) {
    Containerd__Events__TaskStart ev = CONTAINERD__EVENTS__TASK_START__INIT;
    ev.container_id = req->id;
    ev.pid = static_cast<uint32_t>(p->pid);
    publish(TaskEvent::kStart, pack(ev));
  } else {
    Containerd__Events__TaskExecStarted ev = CONTAINERD__EVENTS__TASK_EXEC_STARTED__INIT;
    ev.container_id = req->id;
    ev.exec_id = req->exec_id;
    ev.pid = static_cast<uint32_t>(p->pid);
    publish(TaskEvent::kExecStarted, pack(ev));
  }
  Containerd__Task__V2__StartResponse resp = CONTAINERD__TASK__V2__START_RESPONSE__INIT;
  resp.pid = static_cast<uint32_t>(p->pid);
  reply_message(reply, &resp.base);
}

void TaskService::exec(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__ExecProcessRequest,
         containerd__task__v2__exec_process_request__descriptor, req);
  auto c = lifecycle_.container(view(req->id));
  if (!c) return reply_error(reply, c.error());
  const std::string exec_id(view(req->exec_id));
  if (!req->spec || any_type_name(*req->spec) != kSpecProcessUrl) {
    return reply_error(
        reply, Code::kInvalidArgument,
        "exec " + exec_id + ": spec must be an OCI Process (" + std::string(kSpecProcessUrl) + ")");
  }
  auto spec = spec::read_document<spec::Process>(view(req->spec->value), "exec process");
  if (!spec)
    return reply_error(reply, Code::kInvalidArgument,
                       "exec " + exec_id + ": " + spec.error().message);
  StdioUris uris{std::string(view(req->stdin)),
                 std::string(view(req->stdout)),
                 std::string(view(req->stderr)),
                 req->terminal != 0,
                 {},
                 {}};
  if (auto p = lifecycle_.add_exec(**c, exec_id, std::move(*spec), std::move(uris)); !p) {
    return reply_error(reply, p.error());
  }
  Containerd__Events__TaskExecAdded ev = CONTAINERD__EVENTS__TASK_EXEC_ADDED__INIT;
  ev.container_id = req->id;
  ev.exec_id = req->exec_id;
  publish(TaskEvent::kExecAdded, pack(ev));
  reply_empty(reply);
}

}  // namespace hippo::shim
