#pragma once
// Helpers shared by the Task API handlers (task_*.cpp): replies and status mapping.

#include <string>

#include "base/error.hpp"
#include "containerd/types/task.pb-c.h"
#include "shim/process_state.hpp"
#include "shim/proto_util.hpp"
#include "shim/task_events.hpp"
#include "shim/ttrpc/server.hpp"

namespace hippo::shim {

// The ttrpc status of an error (ttrpc::to_status), `fallback` when its kind says nothing.
ttrpc::Status error_status(const Error& e, ttrpc::Code fallback = ttrpc::Code::kUnknown);
void reply_message(ttrpc::Reply& reply, const ProtobufCMessage* m);
void reply_empty(ttrpc::Reply& reply);
void reply_error(ttrpc::Reply& reply, ttrpc::Code code, std::string message);
inline void reply_error(ttrpc::Reply& reply, const Error& e) { reply(error_status(e), ""); }
Containerd__V1__Types__Status proto_status(ProcessState s);

}  // namespace hippo::shim

// Decodes the request `payload` into `var`, or answers InvalidArgument and returns.
#define DECODE(Type, descriptor, var)           \
  auto var = unpack<Type>(descriptor, payload); \
  if (!var) return reply_error(reply, ttrpc::Code::kInvalidArgument, "malformed " #Type)
