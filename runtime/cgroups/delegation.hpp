#pragma once
// What nesting needs of a container's cgroup L in every hierarchy it lives in, whatever the
// driver: killing everything in L's subtree (an inner runtime's cgroups, frozen ones too), and
// handing the subtree to a user namespace's root (the cgroup v2 delegation model, applied to
// v1 as well). The managers' kill_all() and delegate() are these; docs/nesting.md 3.3 and 4.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "runtime/cgroups/cgroup_files.hpp"
#include "runtime/cgroups/manager.hpp"

namespace hippo::cgroups {

// L's directory in every hierarchy `m` places it in (v1 controllers, name=systemd, cgroup2),
// each once, in that order; directories that do not exist are left out.
std::vector<std::string> cgroup_dirs(const Manager& m);

// Kills every process in the subtrees of `dirs` and waits, up to `timeout`, until none is
// left. v2 (and a hybrid host's cgroup2): "1" into cgroup.kill where the kernel has it (5.14).
// Then, also where it has not and on v1: freeze L (so nothing forks while its pids are read),
// SIGKILL every pid found in any directory below L in any hierarchy, thaw L and every freezer
// below it (a v1 task frozen by an inner runtime takes SIGKILL only once thawed), and again
// until the subtrees are empty.
Result<void> kill_subtrees(const std::vector<std::string>& dirs,
                           std::chrono::milliseconds timeout = kSettleTimeout);

// The files of one v2 cgroup its delegate may write: the names /sys/kernel/cgroup/delegate
// lists (`kernel_list`, its text), or cgroup.procs, cgroup.threads and cgroup.subtree_control
// when the kernel has no such file (empty text).
std::vector<std::string> v2_delegate_files(std::string_view kernel_list);
// The same for a v1 cgroup: cgroup.procs, tasks, cgroup.clone_children.
std::vector<std::string> v1_delegate_files();

// chowns to uid:gid each of `dirs` (v1 or v2, told by its files) and its delegate files, and
// on v2 its leaf "init" too if it exists. Never a limit file: the delegate makes cgroups below
// L (kernfs gives them its fsuid) but cannot change L's own limits. Missing files are skipped.
Result<void> delegate_dirs(const std::vector<std::string>& dirs, uid_t uid, gid_t gid);

}  // namespace hippo::cgroups
