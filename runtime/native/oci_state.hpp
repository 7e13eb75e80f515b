#pragma once
// The OCI state document as the native backend hands it out: to hooks on stdin, to a seccomp
// agent with the notify fd; and the pid file runc's --pid-file writes.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "oci-spec/spec.hpp"
#include "oci-spec/state.hpp"

namespace hippo::runtime::native {

spec::OciState oci_state(const std::string& id, spec::Status status, pid_t pid,
                         const std::string& bundle, const spec::Spec& s);

// oci_state as the JSON text a hook reads.
std::string hook_state(const std::string& id, spec::Status status, pid_t pid,
                       const std::string& bundle, const spec::Spec& s);

// The hooks of one kind (&spec::Hooks::prestart ...), none when config.json has none.
const std::vector<spec::Hook>& hooks_of(const spec::Spec& s,
                                        std::optional<std::vector<spec::Hook>> spec::Hooks::*kind);

// SCMP_ACT_NOTIFY: the agent at listenerPath gets the filter's fd with the container's state.
// Nothing to do without a listener.
Result<void> hand_over_listener(const os::UniqueFd& listener, const spec::Spec& s,
                                const spec::OciState& state, pid_t pid);

// `pid` into `file`, atomically as runc writes it: a watcher never reads a partial pid.
Result<void> write_pid_file(const std::string& file, pid_t pid);

}  // namespace hippo::runtime::native
