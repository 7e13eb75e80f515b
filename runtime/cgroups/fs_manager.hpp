#pragma once
// Choosing the cgroupfs driver: make_fs_manager() (manager.hpp) looks at the host; the overload
// here lets a caller or a test name the cgroup version instead.

#include <cstdint>
#include <memory>
#include <string>

#include "runtime/cgroups/manager.hpp"

namespace hippo::cgroups {

enum class FsVersion : uint8_t { detect, v1, v2 };

// v2 when `root` is a cgroup2 mount (statfs f_type CGROUP2_SUPER_MAGIC), else v1: a tmpfs of
// v1 hierarchies, hybrid ones included (their cgroup2 mount sits below root, at "unified").
FsVersion detect_fs_version(const std::string& root);

std::unique_ptr<Manager> make_fs_manager(const CgroupConfig& config, const std::string& root,
                                         FsVersion version);

}  // namespace hippo::cgroups
