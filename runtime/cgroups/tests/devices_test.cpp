#include "runtime/cgroups/devices.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace hippo::cgroups {
namespace {

std::vector<std::string> lines() {
  std::vector<std::string> out;
  for (const auto& d : default_devices()) out.push_back(device_rule_line(d));
  return out;
}

TEST(DefaultDevices, AreRuncsAllowList) {
  EXPECT_EQ(lines(), (std::vector<std::string>{"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm",
                                               "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm",
                                               "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm"}));
}

// runc 1.1.5's AllowedDevices has no rule for /dev/console (c 5:1): with CAP_MKNOD a container
// could otherwise make the host's console and open it.
TEST(DefaultDevices, NeverAllowTheHostConsole) {
  for (const auto& d : default_devices()) {
    EXPECT_FALSE(d.type == 'c' && d.major == 5 && d.minor == 1) << device_rule_line(d);
  }
}

TEST(DefaultDevices, NodesToCreateHavePathsAndMode0666) {
  std::vector<std::string> paths;
  for (const auto& d : default_devices()) {
    if (d.path.empty()) {
      EXPECT_EQ(d.file_mode, 0u);
      continue;
    }
    paths.emplace_back(d.path);
    EXPECT_EQ(d.type, 'c');
    EXPECT_EQ(d.access, "rwm");
    EXPECT_EQ(d.file_mode, 0666u) << d.path;
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"/dev/null", "/dev/zero", "/dev/full", "/dev/random",
                                             "/dev/urandom", "/dev/tty"}));
}

TEST(DefaultDevices, AllAllowSomething) {
  for (const auto& d : default_devices()) {
    EXPECT_TRUE(d.type == 'c' || d.type == 'b');
    EXPECT_FALSE(d.access.empty());
  }
}

TEST(DeviceRuleLine, WildcardsForAbsentOrNegativeNumbers) {
  auto line = [](spec::DeviceRule r) {
    auto l = device_rule_line(r, "linux.resources.devices[0]");
    return l ? *l : l.error().message;
  };
  EXPECT_EQ(line({.allow = true, .type = "c", .major = 1, .minor = 3, .access = "rwm"}),
            "c 1:3 rwm");
  EXPECT_EQ(line({.allow = true, .access = "rwm"}), "a *:* rwm");
  EXPECT_EQ(line({.allow = true, .type = "b", .major = -1, .minor = 7, .access = "r"}), "b *:7 r");
  EXPECT_EQ(line({.allow = true, .type = "c", .major = 4, .access = "w"}), "c 4:* w");
  EXPECT_EQ(line({.allow = true, .type = "x", .access = "r"}),
            "linux.resources.devices[0].type: unknown device type \"x\"");
  // Numbers no device has (found by fuzz/device_filter.cpp: on v2, 4294967297 matched major 1).
  EXPECT_EQ(
      line({.allow = true, .type = "c", .major = 4294967297, .access = "r"}),
      "linux.resources.devices[0].major: must be -1 (any) or 0 to 2147483647, got 4294967297");
  EXPECT_EQ(line({.allow = true, .type = "c", .major = 1, .minor = -2, .access = "r"}),
            "linux.resources.devices[0].minor: must be -1 (any) or 0 to 2147483647, got -2");
  EXPECT_EQ(line({.allow = true, .type = "c", .access = "rwx"}),
            "linux.resources.devices[0].access: must be letters from \"rwm\", got \"rwx\"");
}

}  // namespace
}  // namespace hippo::cgroups
