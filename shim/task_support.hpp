#pragma once
// Helpers shared by the Task API handlers (task_*.cpp): replies, status mapping, exit codes.

#include <signal.h>
#include <sys/types.h>

#include <string>

#include "containerd/types/task.pb-c.h"
#include "base/error.hpp"
#include "shim/process_state.hpp"
#include "shim/proto_util.hpp"
#include "shim/ttrpc/server.hpp"

namespace hippo::shim {

inline constexpr const char* kSpecProcessUrl = "types.containerd.io/opencontainers/runtime-spec/1/Process";
inline constexpr const char* kResourcesUrl = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";

// ENOENT → NotFound, EEXIST → AlreadyExists, else `fallback`: the codes containerd maps to
// errdefs.
ttrpc::Status error_status(const Error& e, ttrpc::Code fallback = ttrpc::Code::kUnknown);
void reply_message(ttrpc::Reply& reply, const ProtobufCMessage* m);
void reply_empty(ttrpc::Reply& reply);
void reply_error(ttrpc::Reply& reply, ttrpc::Code code, std::string message);
Containerd__V1__Types__Status proto_status(ProcessState s);
// The exit status containerd reports: the code, or 128 + the signal.
uint32_t exit_code(const siginfo_t& info);
// Copies what is available from `in` to `out` without blocking; false at EOF or on error.
bool relay_once(int in, int out);
// Whether `pid` is 1 in its innermost pid namespace (the last NSpid field): then the kernel
// ends every other process of that namespace when it exits. Unknown counts as "no".
bool is_pid_namespace_init(pid_t pid);

}  // namespace hippo::shim

// Decodes the request `payload` into `var`, or answers InvalidArgument and returns.
#define DECODE(Type, descriptor, var)                                              \
  auto var = unpack<Type>(descriptor, payload);                                   \
  if (!var) return reply_error(reply, ttrpc::Code::kInvalidArgument, "malformed " #Type)
