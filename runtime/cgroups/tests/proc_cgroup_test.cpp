#include "runtime/cgroups/proc_cgroup.hpp"

#include <gtest/gtest.h>

namespace hippo::cgroups {
namespace {

constexpr std::string_view kHybrid =
    "12:pids:/ns/c1\n"
    "11:cpu,cpuacct:/ns/c1\n"
    "5:memory:/ns/c1\n"
    "0::/ns/c1\n";

TEST(ProcCgroup, V1MemoryLineWins) {
  EXPECT_EQ(memory_dir_from_proc(kHybrid, "/sys/fs/cgroup", false).value(),
            "/sys/fs/cgroup/memory/ns/c1");
}

TEST(ProcCgroup, CoMountedMemoryKeepsTheMountName) {
  EXPECT_EQ(memory_dir_from_proc("3:cpu,memory:/x\n", "/cg", false).value(), "/cg/cpu,memory/x");
  // "memory" as a substring of another name is not the memory controller.
  EXPECT_FALSE(memory_dir_from_proc("3:name=notmemory:/x\n", "/cg", false).has_value());
}

TEST(ProcCgroup, UnifiedLineOnV2) {
  EXPECT_EQ(memory_dir_from_proc("0::/system.slice/a.scope\n", "/sys/fs/cgroup", true).value(),
            "/sys/fs/cgroup/system.slice/a.scope");
}

TEST(ProcCgroup, MissingEntryIsAnError) {
  auto r = memory_dir_from_proc("0::/x\n", "/sys/fs/cgroup", false);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no memory controller"), std::string::npos);
  EXPECT_FALSE(memory_dir_from_proc("garbage", "/sys/fs/cgroup", true).has_value());
}

TEST(ProcCgroup, OwnPidOnThisHost) {
  // Every process has a memory cgroup on a v1/hybrid host and a unified one on v2.
  auto dir = memory_dir_of_pid(::getpid());
  ASSERT_TRUE(dir) << dir.error().message;
  EXPECT_EQ(dir->rfind("/sys/fs/cgroup/", 0), 0u);
}

}  // namespace
}  // namespace hippo::cgroups
