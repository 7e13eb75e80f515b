#pragma once
// Bind sources the container's user namespace could not look up itself (a directory under a
// 0700 root-owned parent, say) are opened by the host's root, as runc 1.1 does
// (send_mountsources): a helper joins init's new mount namespace and opens each source O_PATH
// there, and init mounts it through /proc/self/fd/N. The fd must name a mount of init's own
// namespace: one opened in ours before the clone is refused by a bind in init's (EINVAL).

#include <sys/types.h>

#include <cstddef>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "runtime/linux/init_plan.hpp"

namespace hippo::os {

// One O_PATH fd per plan.mounts[i] with source_by_host, paired with i, opened as we are (the
// host's root) inside the mount namespace of `init`. Errors name the mount and the source.
Result<std::vector<std::pair<size_t, UniqueFd>>> open_mount_sources(pid_t init,
                                                                    const InitPlan& plan);

}  // namespace hippo::os
