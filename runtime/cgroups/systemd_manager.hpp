#pragma once
// The systemd cgroup driver: the container's cgroup is a transient scope that systemd owns
// (Delegate=yes), started with the init's pid over D-Bus, so that systemd never rewrites or
// removes it behind our back (MESOS-3009). Resources go both to the unit's properties
// (SetUnitProperties runtime=true, so a daemon-reload re-applies our values, not stale ones)
// and to the cgroup files, which also carry what systemd cannot express (v1 cpuset, swap,
// swappiness, hugetlb). Freezing, pids and stats work on the unit's cgroup directories
// through the cgroupfs driver's code.

#include <memory>
#include <string>
#include <vector>

#include "runtime/cgroups/manager.hpp"
#include "runtime/cgroups/systemd_properties.hpp"

namespace hippo::cgroups {

struct SystemdScope {
  std::string unit;             // "hippo-c1.scope"
  std::string slice;            // "system.slice"
  std::string cgroup;           // "/system.slice/hippo-c1.scope", below the cgroup root
  std::string description;      // "hippo container c1"
  std::vector<Property> extra;  // org.systemd.property.* annotations, sent with the start
};

// create() checks the request and reaches systemd; the unit is started by the first attach()
// (a scope needs its first pid), which must come before the init execs. `root` is the cgroup
// mount root the unit's directories are found under.
std::unique_ptr<Manager> make_systemd_manager(SystemdScope scope,
                                              const std::string& root = "/sys/fs/cgroup");

}  // namespace hippo::cgroups
