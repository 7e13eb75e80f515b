#pragma once
// Starts a container's init with clone3(CLONE_PIDFD | namespaces) and drives the parent side
// of the sync protocol (sync_protocol.hpp) until init reports ready or fails.

#include <sys/types.h>

#include <functional>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "runtime/linux/init_plan.hpp"

namespace hippo::os {

struct SpawnedInit {
  pid_t pid = -1;
  UniqueFd pidfd;
  UniqueFd seccomp_listener;        // SCMP_ACT_NOTIFY: the filter's notify fd, for the agent
  bool cloned_into_cgroup = false;  // plan.cgroup_fd took: the child never ran outside it
};

// Runs after the uid/gid maps are written and before init is told to go: place it in its
// cgroup here (also when plan.cgroup_fd put it in its cgroup2 one at clone: v1 hierarchies of a
// hybrid host still need it, and a move to where it already is changes nothing).
using BeforeGo = std::function<Result<void>(pid_t)>;

// Runs when init reports its mounts done (plan.parent_hooks): prestart and createRuntime hooks.
using OnHooks = std::function<Result<void>(pid_t)>;

// Runs right after init is told to go, while it sets itself up (on the other CPU, where there
// is one): what the parent must do before init is ready but init does not wait for.
using AfterGo = std::function<Result<void>(pid_t)>;

// On failure the child is killed and reaped; nothing of it remains.
Result<SpawnedInit> spawn_init(InitPlan& plan, const BeforeGo& before_go,
                               const OnHooks& on_hooks = {}, const AfterGo& after_go = {});

}  // namespace hippo::os
