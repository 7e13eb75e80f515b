#include "shim/task_support.hpp"

namespace hippo::shim {

using ttrpc::Code;
using ttrpc::Status;

Status error_status(const Error& e, Code fallback) {
  Status s = ttrpc::to_status(e);
  if (s.code == Code::kUnknown) s.code = fallback;
  return s;
}

void reply_message(ttrpc::Reply& reply, const ProtobufCMessage* m) { reply(Status::Ok(), pack(m)); }
void reply_empty(ttrpc::Reply& reply) { reply(Status::Ok(), ""); }
void reply_error(ttrpc::Reply& reply, Code code, std::string message) {
  reply(Status{code, std::move(message)}, "");
}

Containerd__V1__Types__Status proto_status(ProcessState s) {
  switch (s) {
    case ProcessState::kCreated:
      return CONTAINERD__V1__TYPES__STATUS__CREATED;
    case ProcessState::kRunning:
      return CONTAINERD__V1__TYPES__STATUS__RUNNING;
    case ProcessState::kPaused:
      return CONTAINERD__V1__TYPES__STATUS__PAUSED;
    case ProcessState::kStopped:
    case ProcessState::kDeleted:
      return CONTAINERD__V1__TYPES__STATUS__STOPPED;
  }
  return CONTAINERD__V1__TYPES__STATUS__UNKNOWN;
}

}  // namespace hippo::shim
