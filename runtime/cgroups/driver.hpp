#pragma once
// Which cgroup driver places a container: cgroupfs (hippo writes the cgroup tree itself) or
// systemd (a transient scope over D-Bus), chosen by `--systemd-cgroup`, runc's SystemdCgroup
// option or config.yaml's cgroup_driver.

#include <cstdint>
#include <string_view>

#include "base/error.hpp"

namespace hippo::cgroups {

enum class Driver : uint8_t {
  cgroupfs,
  systemd,
  // systemd when it runs here (systemd_available()) and cgroupsPath is empty or of runc's
  // "slice:prefix:name" form; a cgroupsPath that is a path keeps to cgroupfs.
  automatic,
};

// "cgroupfs", "systemd", "auto" (config.yaml's values).
Result<Driver> parse_driver(std::string_view name);

// The driver for a container with this cgroupsPath; `automatic` resolved (it asks the bus).
Driver resolve_driver(Driver wanted, std::string_view cgroups_path);

// runc's systemd form "slice:prefix:name" rather than a path.
bool is_systemd_path(std::string_view cgroups_path);

}  // namespace hippo::cgroups
