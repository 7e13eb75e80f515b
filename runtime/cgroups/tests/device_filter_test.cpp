#include "runtime/cgroups/device_filter.hpp"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "base/unique_fd.hpp"

namespace hippo::cgroups {
namespace {

using Rules = std::vector<spec::DeviceRule>;

std::vector<bpf_insn> program(const Rules& rules) {
  auto p = device_filter_program(rules);
  EXPECT_TRUE(p) << p.error().message;
  return p.value_or(std::vector<bpf_insn>{});
}

TEST(DeviceFilter, DenyAllLeavesOnlyTheDefaultDevices) {
  const auto p = program({{.allow = false, .access = "rwm"}});
  EXPECT_TRUE(run_device_filter(p, 'c', 1, 3, "rw"));    // /dev/null
  EXPECT_TRUE(run_device_filter(p, 'c', 136, 7, "rw"));  // a pty
  EXPECT_TRUE(run_device_filter(p, 'b', 8, 0, "m"));     // mknod of anything is allowed
  EXPECT_FALSE(run_device_filter(p, 'b', 8, 0, "r"));    // opening it is not
  EXPECT_FALSE(run_device_filter(p, 'c', 1, 1, "r"));    // /dev/mem
  EXPECT_FALSE(run_device_filter(p, 'c', 10, 229, "rw"));
  EXPECT_FALSE(run_device_filter(p, 'c', 5, 1, "rw"));    // the host's console (runc 1.1)
  EXPECT_TRUE(run_device_filter(p, 'c', 5, 1, "m"));      // only its mknod, like any device
  EXPECT_TRUE(run_device_filter(p, 'c', 10, 200, "rw"));  // tun, as runc 1.1.5
}

TEST(DeviceFilter, LaterRulesWinAndAllowMustCoverTheAccess) {
  const auto p = program({{.allow = false, .access = "rwm"},
                          {.allow = true, .type = "c", .major = 10, .minor = 229, .access = "rw"},
                          {.allow = true, .type = "b", .major = 8, .access = "r"},
                          {.allow = false, .type = "b", .major = 8, .minor = 16, .access = "w"}});
  EXPECT_TRUE(run_device_filter(p, 'c', 10, 229, "rw"));
  EXPECT_TRUE(run_device_filter(p, 'b', 8, 0, "r"));
  EXPECT_FALSE(run_device_filter(p, 'b', 8, 0, "rw"));  // the rule grants r only
  EXPECT_TRUE(run_device_filter(p, 'b', 8, 16, "r"));
  EXPECT_FALSE(run_device_filter(p, 'b', 8, 16, "rw"));  // w is denied by the last rule
  EXPECT_FALSE(run_device_filter(p, 'c', 8, 0, "r"));    // type matters
}

TEST(DeviceFilter, AllowAllAfterDenyAllOpensEverything) {
  const auto p = program({{.allow = false, .access = "rwm"}, {.allow = true, .access = "rwm"}});
  EXPECT_TRUE(run_device_filter(p, 'b', 259, 3, "rwm"));
  EXPECT_TRUE(run_device_filter(p, 'c', 1, 1, "r"));
}

// Found by fuzz/device_filter.cpp: the program compared a major as a 32-bit immediate, so a
// rule for major 2^32+1 allowed major 1 (/dev/mem); such numbers are refused now.
TEST(DeviceFilter, ANumberNoDeviceHasIsRefused) {
  auto p =
      device_filter_program({{.allow = true, .type = "c", .major = 4294967297, .access = "r"}});
  ASSERT_FALSE(p);
  EXPECT_EQ(
      p.error().message,
      "linux.resources.devices[0].major: must be -1 (any) or 0 to 2147483647, got 4294967297");
}

// Type "a" is every device with every access, whatever its numbers and letters, as the kernel
// reads it on v1 and the systemd driver writes it (found by fuzz/device_filter.cpp: the
// program kept the numbers and letters of an "a" rule).
TEST(DeviceFilter, TypeAIsEveryDeviceWhateverItsNumbersAndAccess) {
  const auto allow = program(
      {{.allow = false, .access = "rwm"}, {.allow = true, .major = 7, .minor = 7, .access = "r"}});
  EXPECT_TRUE(run_device_filter(allow, 'b', 8, 0, "rw"));
  const auto deny = program(
      {{.allow = true, .access = "rwm"}, {.allow = false, .type = "a", .minor = 3, .access = "w"}});
  EXPECT_FALSE(run_device_filter(deny, 'b', 8, 0, "r"));
  EXPECT_TRUE(run_device_filter(deny, 'c', 1, 3, "r"));  // a default device, allowed after it
}

TEST(DeviceFilter, NoRulesStillDeniesWhatNoDefaultAllows) {
  const auto p = program({});
  EXPECT_TRUE(run_device_filter(p, 'c', 1, 5, "r"));
  EXPECT_FALSE(run_device_filter(p, 'c', 1, 1, "r"));
}

TEST(DeviceFilter, BadRulesNameTheRule) {
  auto p = device_filter_program(
      {{.allow = true, .access = "rwm"}, {.allow = true, .type = "x", .access = "r"}});
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "linux.resources.devices[1].type: unknown device type \"x\"");
}

// The kernel's verifier is the judge of the program's shape: load it (needs root and a kernel
// with cgroup device programs, which every host that runs containers has).
TEST(DeviceFilter, TheKernelVerifierAcceptsTheProgram) {
  if (::geteuid() != 0) GTEST_SKIP() << "loading an eBPF program needs root";
  const auto p = program({{.allow = false, .access = "rwm"},
                          {.allow = true, .type = "b", .major = 8, .access = "r"},
                          {.allow = false, .type = "c", .major = 1, .minor = 9, .access = "w"}});
  static constexpr char kLicense[] = "Apache-2.0";
  bpf_attr load{};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(p.data());
  load.insn_cnt = static_cast<uint32_t>(p.size());
  load.license = reinterpret_cast<uint64_t>(kLicense);
  os::UniqueFd fd(static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load)));
  EXPECT_TRUE(fd) << "BPF_PROG_LOAD: " << std::strerror(errno);
}

}  // namespace
}  // namespace hippo::cgroups
