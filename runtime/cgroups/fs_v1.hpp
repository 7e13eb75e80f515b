#pragma once
// The cgroupfs driver for cgroup v1 and hybrid hosts: one directory per hierarchy, found in
// /proc/self/mountinfo. The container is placed in every hierarchy (also name=systemd and, on a
// hybrid host, the cgroup2 one) so that it is fully inside its cgroup; resources go to the v1
// controllers, except hugetlb when only the cgroup2 side has it.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/cgroups/cgroup_files.hpp"
#include "runtime/cgroups/manager.hpp"

namespace hippo::cgroups {

struct Hierarchy {
  std::string mount;                     // "/sys/fs/cgroup/cpu,cpuacct"
  std::vector<std::string> controllers;  // {"cpu", "cpuacct"}; empty for name=systemd
  std::string name;                      // "systemd" for name=systemd, else empty

  bool operator==(const Hierarchy&) const = default;
};

struct V1Layout {
  std::string root;                    // "/sys/fs/cgroup"
  std::vector<Hierarchy> hierarchies;  // controller hierarchies and name=systemd
  std::string unified;                 // the cgroup2 mount of a hybrid host, or empty
};

// The cgroup mounts directly or deeper under `root` in a /proc/self/mountinfo text. Named
// hierarchies other than name=systemd are left out, as runc leaves them out.
V1Layout parse_v1_layout(std::string_view mountinfo, std::string_view root);
Result<V1Layout> read_v1_layout(const std::string& root);

// path_of() takes a v1 controller ("memory", "cpuacct" …), "name=systemd", or "" for the
// cgroup2 directory of a hybrid host; it is empty for a controller that is not mounted.
// A layout error is reported by every call that needs the layout.
std::unique_ptr<Manager> make_fs_v1_manager(const CgroupConfig& config, Result<V1Layout> layout,
                                            Tree tree = Tree::kernel);

}  // namespace hippo::cgroups
