#pragma once
// The mounts part of the init plan: each config.json mount checked and turned into the steps
// init carries out (build_init_plan's helper, in its own file to keep both readable).

#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "oci-spec/spec.hpp"
#include "runtime/linux/init_plan.hpp"

namespace hippo::os {

// "/a/b" -> "a/b": a container path relative to the rootfs.
std::string relative_to_root(std::string_view container_path);

// Adds mount `m` to the plan, refusing what runc refuses (proc/sysfs on a non-directory …).
Result<void> add_mount(InitPlan& plan, const spec::Mount& m, const PlanOptions& options,
                       const spec::Linux& linux);

// --no-pivot: the mount points of whole proc and sysfs filesystems outside `rootfs` (a path
// without symlinks) in a mountinfo text. chroot leaves them reachable in the container's mount
// namespace, and while one is fully visible the kernel lets a user namespace made inside the
// container mount a fresh procfs (mnt_too_revealing); init detaches them (or, where it may not,
// covers them) before its MS_MOVE + chroot, as runc's msMoveRoot does.
std::vector<std::string> pseudo_filesystems_outside(std::string_view mountinfo,
                                                    std::string_view rootfs);

}  // namespace hippo::os
