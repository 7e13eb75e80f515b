#pragma once
// What the systemd driver asks of systemd, as data with no I/O: the unit a cgroupsPath of runc's
// "slice:prefix:name" form names, and linux.resources (plus org.systemd.property.* annotations)
// as transient unit properties for the host's hierarchy. Unit-tested without a bus.

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/error.hpp"
#include "oci-spec/spec.hpp"

namespace hippo::cgroups {

// systemd's "infinity" for limits (MemoryLimit, TasksMax, CPUQuotaPerSecUSec …).
inline constexpr uint64_t kInfinity = std::numeric_limits<uint64_t>::max();

struct ScopeName {
  std::string slice;  // "system.slice"
  std::string unit;   // "hippo-c1.scope"
  // The unit's cgroup below the cgroup root, slices expanded: "/system.slice/hippo-c1.scope".
  std::string cgroup;
};

// "a-b.slice" -> "/a.slice/a-b.slice", as systemd nests a dashed slice in its prefixes;
// "-.slice" is the root "/". Errors for a name systemd would refuse.
Result<std::string> expand_slice(std::string_view slice);

// cgroupsPath "slice:prefix:name" (or empty) for container `id`: an empty slice is
// `default_slice`, an empty path is "<default_slice>:hippo:<id>", the unit is
// "<prefix>-<name>.scope" ("<name>.scope" without a prefix). Errors name config.json's field.
Result<ScopeName> parse_scope_name(std::string_view cgroups_path, std::string_view id,
                                   std::string_view default_slice);

// A D-Bus variant value of the types unit properties use.
struct DeviceAllow {
  std::string path;    // "/dev/char/1:3", "char-pts", "block-*"
  std::string access;  // "rwm"
  bool operator==(const DeviceAllow&) const = default;
};
using PropertyValue = std::variant<bool, uint64_t, int64_t, uint32_t, int32_t, double, std::string,
                                   std::vector<uint32_t>,      // "au" (PIDs)
                                   std::vector<uint8_t>,       // "ay" (AllowedCPUs bitmask)
                                   std::vector<DeviceAllow>>;  // "a(ss)"
struct Property {
  std::string name;
  PropertyValue value;
  bool operator==(const Property&) const = default;
};
// The D-Bus signature of a value: "b", "t", "au", "a(ss)" …
std::string_view signature_of(const PropertyValue& value);

enum class UnitHierarchy : uint8_t { v1, v2 };  // hybrid counts as v1: its controllers are there

struct SystemdFeatures {
  UnitHierarchy hierarchy = UnitHierarchy::v1;
  int version = 0;  // systemd's major version (252); gates newer properties
};

// The resource properties systemd knows for `f.hierarchy`, for the fields set in `resources`
// only (so an update sends only what changes). `major_name(type, major)` finds the
// /proc/devices name of a major for device rules with a wildcard minor ("char-pts");
// `for_create` adds the device policy even when the spec has no rules, as create applies
// runc's default devices. Errors for values systemd would refuse.
using MajorName = std::string (*)(char type, int64_t major);
Result<std::vector<Property>> resource_properties(const spec::Resources& resources,
                                                  const SystemdFeatures& f, bool for_create,
                                                  MajorName major_name);

// "0-2,5" -> the little-endian bitmask systemd's AllowedCPUs/AllowedMemoryNodes take.
Result<std::vector<uint8_t>> cpu_mask(std::string_view list, std::string_view at);

// Properties from annotations "org.systemd.property.<Name>", as runc takes them: the value in
// GVariant text form ("'text'", "true", "uint64 5", "@t 5", "5" (int32), "1.5"); a Name ending
// in "Sec" (not "USec") takes seconds and is sent as <Name without Sec>USec in microseconds.
Result<std::vector<Property>> annotation_properties(const spec::StringMap& annotations);

// The /proc/devices name of a character ('c') or block ('b') major, or "" if unknown.
std::string proc_devices_name(char type, int64_t major);

}  // namespace hippo::cgroups
