#include "shim/process.hpp"

#include <sys/wait.h>

namespace hippo::shim {

std::string Process::name() const {
  if (is_init()) return "container " + container_id;
  return "exec " + exec_id + " in container " + container_id;
}

Result<void> Process::apply(Verb verb) {
  auto next = transition(state, verb);
  if (!next) return forward(next, name());
  state = *next;
  return {};
}

void Process::record_exit(const siginfo_t& info) {
  exit_status = exit_code(info);
  exited_at = std::chrono::system_clock::now();
}

uint32_t exit_code(const siginfo_t& info) {
  return info.si_code == CLD_EXITED ? static_cast<uint32_t>(info.si_status)
                                    : 128u + static_cast<uint32_t>(info.si_status);
}

}  // namespace hippo::shim
