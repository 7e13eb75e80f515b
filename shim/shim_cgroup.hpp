#pragma once
// runc Options ShimCgroup: `start` moves the shim daemon it forked into that cgroup, as
// containerd's runc shim does (cgroups.Load + Add on v1, the unified path on v2). The cgroup
// must exist: the shim joins it, it does not create it.

#include <sys/types.h>

#include <string>

#include "base/error.hpp"

namespace hippo::shim {

// Writes `pid` to cgroup.procs of `path` (an absolute cgroup path): on a cgroup2 `root`, the
// one directory; on v1, the directory in every mounted hierarchy under `root` that has it
// (none having it is an error). Errors name the file and the kernel's reason.
Result<void> join_shim_cgroup(pid_t pid, const std::string& path,
                              const std::string& root = "/sys/fs/cgroup");

}  // namespace hippo::shim
