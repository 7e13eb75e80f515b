#include "shim/process_state.hpp"

#include <iterator>
#include <string>

namespace hippo::shim {
namespace {

using S = ProcessState;

struct Row {
  Verb verb;
  S from;
  S to;
};

// Every allowed (verb, from) pair; anything absent is refused.
constexpr Row kTable[] = {
    {Verb::kStart, S::kCreated, S::kRunning},     {Verb::kPause, S::kRunning, S::kPaused},
    {Verb::kResume, S::kPaused, S::kRunning},     {Verb::kKill, S::kCreated, S::kCreated},
    {Verb::kKill, S::kRunning, S::kRunning},      {Verb::kKill, S::kPaused, S::kPaused},
    {Verb::kAddExec, S::kCreated, S::kCreated},   {Verb::kAddExec, S::kRunning, S::kRunning},
    {Verb::kStartExec, S::kRunning, S::kRunning}, {Verb::kExited, S::kCreated, S::kStopped},
    {Verb::kExited, S::kRunning, S::kStopped},    {Verb::kExited, S::kPaused, S::kStopped},
    {Verb::kRemove, S::kCreated, S::kDeleted},    {Verb::kRemove, S::kStopped, S::kDeleted},
};

}  // namespace

std::string_view state_name(ProcessState s) {
  switch (s) {
    case S::kCreated:
      return "created";
    case S::kRunning:
      return "running";
    case S::kPaused:
      return "paused";
    case S::kStopped:
      return "stopped";
    case S::kDeleted:
      return "deleted";
  }
  return "unknown";
}

std::string_view verb_name(Verb v) {
  switch (v) {
    case Verb::kStart:
      return "start";
    case Verb::kPause:
      return "pause";
    case Verb::kResume:
      return "resume";
    case Verb::kKill:
      return "kill";
    case Verb::kAddExec:
    case Verb::kStartExec:
      return "exec";
    case Verb::kExited:
      return "exit";
    case Verb::kRemove:
      return "delete";
  }
  return "unknown";
}

Result<ProcessState> transition(ProcessState from, Verb verb) {
  for (const Row& row : kTable) {
    if (row.verb == verb && row.from == from) return row.to;
  }
  const std::string state(state_name(from));
  switch (verb) {
    case Verb::kKill:
      // containerd treats NotFound from Kill as "already gone", not as a failure.
      return fail(ErrorKind::not_found, "process already finished: not found");
    case Verb::kAddExec:
    case Verb::kStartExec:
      return fail(ErrorKind::failed_precondition, "cannot exec in a " + state + " container");
    default:
      return fail(ErrorKind::failed_precondition,
                  "cannot " + std::string(verb_name(verb)) + " a " + state + " process");
  }
}

}  // namespace hippo::shim
