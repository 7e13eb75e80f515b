#pragma once
// Where a running process's cgroup lives on the host, read from /proc/<pid>/cgroup: how the
// shim finds the memory cgroup of a container it did not create itself (the runc backend),
// as containerd's runc shim does for its OOM watch.

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/error.hpp"

namespace hippo::cgroups {

// The memory cgroup dir of a /proc/<pid>/cgroup document: v1 `N:memory:/p` → <root>/memory/p
// (also the `memory,…` co-mounted forms), else the unified `0::/p` → <root>/p when <root> is
// a cgroup2 mount (on a hybrid host the unified tree has no memory controller).
Result<std::string> memory_dir_from_proc(std::string_view proc_cgroup, const std::string& root,
                                         bool root_is_v2);

// The same for a live pid, against /sys/fs/cgroup.
Result<std::string> memory_dir_of_pid(pid_t pid);

}  // namespace hippo::cgroups
