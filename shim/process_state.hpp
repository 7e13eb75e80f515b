#pragma once
// The life of a shim process (init or exec) as one transition table, in the manner of
// containerd's runc shim (process/*_state.go): every verb the lifecycle layer performs on a
// process is looked up here first; a verb its state does not allow is an error of kind
// failed_precondition (kill of a finished process: not_found, as containerd expects), never an
// if in a handler.
//
//   created --start--> running --pause--> paused --resume--> running
//   created | running | paused --exited--> stopped --remove--> deleted
//   created --remove--> deleted (never started)
//   kill: created | running | paused (stays)
//
// Two verbs ask the container, i.e. its init's state: add_exec (ExecProcess: created or
// running; a paused container refuses it, as runc-v2's pausedState.Exec does) and start_exec
// (running only).

#include <string_view>

#include "base/error.hpp"

namespace hippo::shim {

enum class ProcessState { kCreated, kRunning, kPaused, kStopped, kDeleted };

enum class Verb { kStart, kPause, kResume, kKill, kAddExec, kStartExec, kExited, kRemove };

std::string_view state_name(ProcessState s);
std::string_view verb_name(Verb v);

// The state `verb` leads to from `from`, or an error naming both ("cannot start a running
// process", "cannot exec in a paused container").
Result<ProcessState> transition(ProcessState from, Verb verb);

}  // namespace hippo::shim
