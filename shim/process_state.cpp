#include "shim/process_state.hpp"

#include <string>

namespace hippo::shim {

std::string_view state_name(ProcessState s) {
  switch (s) {
    case ProcessState::kCreated:
      return "created";
    case ProcessState::kRunning:
      return "running";
    case ProcessState::kPaused:
      return "paused";
    case ProcessState::kStopped:
      return "stopped";
    case ProcessState::kDeleted:
      return "deleted";
  }
  return "unknown";
}

Result<void> check_transition(ProcessState from, ProcessState to, std::string_view verb) {
  using S = ProcessState;
  bool ok = false;
  switch (to) {
    case S::kRunning:
      ok = from == S::kCreated || from == S::kPaused;
      break;
    case S::kPaused:
      ok = from == S::kRunning;
      break;
    case S::kStopped:
      ok = from == S::kCreated || from == S::kRunning || from == S::kPaused;
      break;
    case S::kDeleted:
      ok = from == S::kCreated || from == S::kStopped;
      break;
    case S::kCreated:
      ok = false;
      break;
  }
  if (ok) return {};
  return fail("cannot " + std::string(verb) + " a " + std::string(state_name(from)) + " process");
}

}  // namespace hippo::shim
