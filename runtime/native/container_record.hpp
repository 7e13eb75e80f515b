#pragma once
// A container as its state directory holds it (state_store.hpp), judged: healthy with its OCI
// status, or what is wrong with it (a create that did not finish, an unreadable record).

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "base/error.hpp"
#include "oci-spec/state.hpp"
#include "runtime/cgroups/manager.hpp"
#include "runtime/state_store.hpp"

namespace hippo::runtime::native {

// A container directory as found, healthy or not. `problem` is empty for a healthy one;
// otherwise it says what is wrong (status incomplete or corrupt; see with_hint), and `state`
// holds what could still be read (cleanup.json when state.json is unreadable), if anything.
struct Inspected {
  ContainerDir dir;
  std::optional<StoredState> state;
  std::unique_ptr<cgroups::Manager> cgroup;  // when `state` is known
  spec::Status status = spec::Status::incomplete;
  std::string problem;
};

// A healthy container whose state is open: its dir (locked), stored state and cgroup.
struct Opened {
  ContainerDir dir;
  StoredState state;
  std::unique_ptr<cgroups::Manager> cgroup;
  spec::Status status;
};

// Reads what <root>/<id> holds and judges it: a complete record gives the OCI status; a record
// without an init (pid 0), or none at all, is a create that did not finish (creating while
// another command holds the lock, else incomplete); an unreadable state.json is corrupt.
Result<Inspected> inspect_dir(ContainerDir dir);

// A problem as the user reads it: what is wrong and what to do about it.
std::string with_hint(const Inspected& c);

// `state` and `list`'s document for what was found.
spec::RuntimeState to_runtime_state(const StoredState& st, spec::Status status);

// SIGKILLs the init (by pid and start time) and everything in its cgroup and the cgroups below
// it (Manager::kill_all), and waits up to `timeout` for the init to be gone.
Result<void> end_processes(Inspected& c, std::chrono::milliseconds timeout);

}  // namespace hippo::runtime::native
