#pragma once
// The life of a shim process (init or exec) as a small explicit machine. Handlers ask for a
// transition; an invalid one is an error, not an if scattered in a handler.
//
//   created --start--> running --pause--> paused --resume--> running
//   created | running | paused --exit--> stopped --delete--> deleted
//   created --delete--> deleted (never started)

#include <string_view>

#include "base/error.hpp"

namespace hippo::shim {

enum class ProcessState { kCreated, kRunning, kPaused, kStopped, kDeleted };

std::string_view state_name(ProcessState s);
// Ok when `from -> to` is allowed; else an error naming both ("cannot start a stopped process").
Result<void> check_transition(ProcessState from, ProcessState to, std::string_view verb);

}  // namespace hippo::shim
