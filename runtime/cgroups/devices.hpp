#pragma once
// The device rules every container gets, and the cgroup v1 text form of a device rule.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "oci-spec/spec.hpp"

namespace hippo::cgroups {

inline constexpr int64_t kAnyDevice = -1;  // a wildcard major or minor ("*")

// One of runc's always-allowed devices. Rules with a `path` are also the nodes the rootfs setup
// creates with mknod; the others (mknod wildcards, pts, ptmx, tun) only open access.
struct DefaultDevice {
  std::string_view path;  // "/dev/null", or "" for a rule that is not a node of its own
  char type;              // 'c' or 'b'
  int64_t major;
  int64_t minor;
  std::string_view access;  // "rwm", or "m" for the mknod wildcards
  uint32_t file_mode;       // permission bits of the node (0 when there is no node)
};

// runc's AllowedDevices, appended after the spec's own rules so that a spec that denies
// everything still leaves a working /dev (libcontainer/specconv/spec_linux.go).
std::span<const DefaultDevice> default_devices();

// The line a cgroup v1 devices.allow/devices.deny takes: "c 1:3 rwm", "a *:* rwm".
// `at` names the rule in errors ("linux.resources.devices[2]").
Result<std::string> device_rule_line(const spec::DeviceRule& rule, std::string_view at);
std::string device_rule_line(const DefaultDevice& device);

}  // namespace hippo::cgroups
