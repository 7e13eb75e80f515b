#pragma once
// What this hippo build and host support, as the runtime-spec `features` document.

#include "oci-spec/features.hpp"

namespace hippo::runtime {

spec::Features host_features();

// Whether /sys/fs/cgroup is a cgroup2 mount (a pure v2 host) rather than v1 or hybrid.
bool unified_cgroup_host();

}  // namespace hippo::runtime
