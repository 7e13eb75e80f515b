// Wait and Delete: decode, call the lifecycle layer, encode, publish. Exits themselves are
// reaped and ordered by the lifecycle layer (lifecycle.cpp) and published by
// TaskService::exited.

#include "containerd/events/task.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "shim/proto_util.hpp"
#include "shim/task_service.hpp"
#include "shim/task_support.hpp"

namespace hippo::shim {

namespace {

// Answers a Wait once the process's exit is reported.
std::function<void(const Process&)> wait_answer(ttrpc::Reply reply) {
  return [reply = std::move(reply)](const Process& exited) mutable {
    Timestamp at(exited.exited_at);
    Containerd__Task__V2__WaitResponse resp = CONTAINERD__TASK__V2__WAIT_RESPONSE__INIT;
    resp.exit_status = exited.exit_status;
    resp.exited_at = &at.ts;
    reply_message(reply, &resp.base);
  };
}

}  // namespace

void TaskService::wait(const ttrpc::CallContext& call, std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__WaitRequest, containerd__task__v2__wait_request__descriptor, req);
  auto found = lifecycle_.process(view(req->id), view(req->exec_id));
  if (!found) return reply_error(reply, found.error());
  auto [c, p] = *found;
  lifecycle_.wait(*c, *p, {call.connection_id, call.stream_id, wait_answer(std::move(reply))});
}

void TaskService::adopt(
    const std::vector<SnapshotContainer>& containers,
    const std::function<std::optional<AdoptedWait>(const SnapshotWaiter&)>& reply_for) {
  lifecycle_.adopt(containers, [&](const SnapshotWaiter& w) -> std::optional<Process::Waiter> {
    auto adopted = reply_for(w);
    if (!adopted) return std::nullopt;
    return Process::Waiter{adopted->connection, w.stream, wait_answer(std::move(adopted->reply))};
  });
}

void TaskService::remove(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__DeleteRequest, containerd__task__v2__delete_request__descriptor,
         req);
  auto found = lifecycle_.process(view(req->id), view(req->exec_id));
  if (!found) return reply_error(reply, found.error());
  auto [c, p] = *found;
  const bool container = p->is_init();
  const std::string id = c->id;
  auto removed = lifecycle_.remove(*c, *p);  // c and p are gone after this
  if (!removed) return reply_error(reply, removed.error());
  Timestamp at(removed->exited_at);
  if (container) {
    Containerd__Events__TaskDelete ev = CONTAINERD__EVENTS__TASK_DELETE__INIT;
    ev.container_id = const_cast<char*>(id.c_str());
    ev.pid = static_cast<uint32_t>(removed->pid);
    ev.exit_status = removed->exit_status;
    ev.exited_at = &at.ts;
    publish(TaskEvent::kDelete, pack(ev));
  }
  Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
  resp.pid = static_cast<uint32_t>(removed->pid);
  resp.exit_status = removed->exit_status;
  resp.exited_at = &at.ts;
  reply_message(reply, &resp.base);
}

}  // namespace hippo::shim
