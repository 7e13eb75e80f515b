#pragma once
// The shim daemon is a child subreaper: orphans of containers that share a pid namespace
// (with the host or another container) are re-parented to it and must be reaped, while its own
// children (inits and execs) are reaped only through their pidfds, so their exit statuses
// reach containerd.

#include <sys/types.h>

#include <functional>

namespace hippo::shim {

// Reaps every exited child of this process that `owned` does not claim, and returns how many.
// Never blocks and never reaps an owned child, whatever order the kernel lists children in.
int reap_orphans(const std::function<bool(pid_t)>& owned);

}  // namespace hippo::shim
