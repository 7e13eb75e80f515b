#pragma once
// The mounts part of the init plan: each config.json mount checked and turned into the steps
// init carries out (build_init_plan's helper, in its own file to keep both readable).

#include <string>
#include <string_view>

#include "base/error.hpp"
#include "oci-spec/spec.hpp"
#include "runtime/linux/init_plan.hpp"

namespace hippo::os {

// "/a/b" -> "a/b": a container path relative to the rootfs.
std::string relative_to_root(std::string_view container_path);

// Adds mount `m` to the plan, refusing what runc refuses (proc/sysfs on a non-directory …).
Result<void> add_mount(InitPlan& plan, const spec::Mount& m, const PlanOptions& options,
                       const spec::Linux& linux);

}  // namespace hippo::os
