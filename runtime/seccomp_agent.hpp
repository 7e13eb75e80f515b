#pragma once
// Hands a seccomp notify fd (SCMP_ACT_NOTIFY) to the agent listening on linux.seccomp.listenerPath.
// The protocol is the runtime-spec's: one message on a SOCK_STREAM unix socket carrying the
// ContainerProcessState JSON ({"ociVersion", "fds": ["seccompFd"], "pid", "metadata", "state"})
// with the fd attached as SCM_RIGHTS, index i of "fds" naming the i-th fd.

#include <sys/types.h>

#include <string>

#include "base/error.hpp"
#include "oci-spec/state.hpp"

namespace hippo::runtime {

// The JSON the agent receives (exposed for tests).
std::string container_process_state(const spec::OciState& state, pid_t pid,
                                    const std::string& metadata);

Result<void> send_to_seccomp_agent(const std::string& listener_path, int listener_fd,
                                   const std::string& process_state_json);

}  // namespace hippo::runtime
