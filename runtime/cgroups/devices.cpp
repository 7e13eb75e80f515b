#include "runtime/cgroups/devices.hpp"

#include <array>
#include <limits>
#include <utility>

namespace hippo::cgroups {
namespace {

constexpr uint32_t kNodeMode = 0666;

constexpr std::array kDefaultDevices{
    // mknod of any device; opening one still needs its own rule.
    DefaultDevice{"", 'c', kAnyDevice, kAnyDevice, "m", 0},
    DefaultDevice{"", 'b', kAnyDevice, kAnyDevice, "m", 0},
    DefaultDevice{"/dev/null", 'c', 1, 3, "rwm", kNodeMode},
    DefaultDevice{"/dev/zero", 'c', 1, 5, "rwm", kNodeMode},
    DefaultDevice{"/dev/full", 'c', 1, 7, "rwm", kNodeMode},
    DefaultDevice{"/dev/random", 'c', 1, 8, "rwm", kNodeMode},
    DefaultDevice{"/dev/urandom", 'c', 1, 9, "rwm", kNodeMode},
    DefaultDevice{"/dev/tty", 'c', 5, 0, "rwm", kNodeMode},
    // ptmx is a symlink into devpts: rules, not nodes.
    DefaultDevice{"", 'c', 5, 2, "rwm", 0},             // /dev/ptmx
    DefaultDevice{"", 'c', 136, kAnyDevice, "rwm", 0},  // /dev/pts/*
    // /dev/net/tun: in runc 1.1.x (and again from 1.2.0 on, after its removal in 1.2.0-rc.1
    // broke users: opencontainers/runc#3468).
    DefaultDevice{"", 'c', 10, 200, "rwm", 0},
    // Deliberately absent: c 5:1, the host's /dev/console. runc 1.1 never allows it, with or
    // without process.terminal: a container's console is a bind of its own pty (c 136:N,
    // allowed above), so a rule for 5:1 would only let a container with CAP_MKNOD make a node
    // of the host's console and open it.
};

std::string number(int64_t n) { return n < 0 ? "*" : std::to_string(n); }

std::string line(char type, int64_t major, int64_t minor, std::string_view access) {
  return std::string(1, type) + ' ' + number(major) + ':' + number(minor) + ' ' +
         std::string(access);
}

}  // namespace

std::span<const DefaultDevice> default_devices() { return kDefaultDevices; }

Result<std::string> device_rule_line(const spec::DeviceRule& rule, std::string_view at) {
  const std::string type = rule.type.value_or("a");
  if (type != "a" && type != "b" && type != "c") {
    return fail(ErrorKind::invalid_argument,
                std::string(at) + ".type: unknown device type \"" + type + "\"");
  }
  const std::string access = rule.access.value_or("");
  // runc refuses an empty access too: the kernel would read it as "no access at all" for c/b.
  if (access.empty() || access.find_first_not_of("rwm") != std::string::npos) {
    return fail(ErrorKind::invalid_argument,
                std::string(at) + ".access: must be letters from \"rwm\", got \"" + access + "\"");
  }
  // The kernel's device numbers are unsigned 32-bit (v2's filter compares them as signed 32-bit
  // immediates): a number beyond would match another device there, or "*" in the v1 line.
  for (auto [field, n] : {std::pair{".major", rule.major}, std::pair{".minor", rule.minor}}) {
    if (n && (*n < kAnyDevice || *n > std::numeric_limits<int32_t>::max())) {
      return fail(std::string(at) + field + ": must be -1 (any) or 0 to 2147483647, got " +
                      std::to_string(*n),
                  EINVAL);
    }
  }
  return line(type[0], rule.major.value_or(kAnyDevice), rule.minor.value_or(kAnyDevice), access);
}

std::string device_rule_line(const DefaultDevice& device) {
  return line(device.type, device.major, device.minor, device.access);
}

}  // namespace hippo::cgroups
