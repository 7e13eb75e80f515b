#include "shim/task_support.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include "base/file_io.hpp"

namespace hippo::shim {

using ttrpc::Code;
using ttrpc::Status;

Status error_status(const Error& e, Code fallback) {
  Status s = ttrpc::to_status(e);
  if (s.code == Code::kUnknown) s.code = fallback;
  return s;
}

bool is_pid_namespace_init(pid_t pid) {
  auto status = read_text_file("/proc/" + std::to_string(pid) + "/status");
  if (!status) return false;
  const auto at = status->find("\nNSpid:");
  if (at == std::string::npos) return false;
  const auto end = status->find('\n', at + 1);
  const auto line = std::string_view(*status).substr(at + 1, end - at - 1);
  const auto last = line.find_last_of(" \t");
  return last != std::string_view::npos && line.substr(last + 1) == "1";
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

uint32_t exit_code(const siginfo_t& info) {
  return info.si_code == CLD_EXITED ? static_cast<uint32_t>(info.si_status)
                                    : 128u + static_cast<uint32_t>(info.si_status);
}

bool relay_once(int in, int out) {
  char buf[8192];
  const ssize_t n = ::read(in, buf, sizeof buf);
  if (n <= 0) return n < 0 && errno == EAGAIN;
  if (out >= 0) [[maybe_unused]] auto w = ::write(out, buf, static_cast<size_t>(n));
  return true;
}

}  // namespace hippo::shim
