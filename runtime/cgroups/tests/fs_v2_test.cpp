#include "runtime/cgroups/fs_v2.hpp"

#include <gtest/gtest.h>

#include "runtime/cgroups/fs_manager.hpp"
#include "runtime/cgroups/tests/stand_in_tree.hpp"

namespace hippo::cgroups {
namespace {

constexpr int64_t MiB = 1024 * 1024;

// A cgroup2 root offering six controllers, "cpu" already on; an existing cgroup "a" that the
// container path /a/b/c goes through.
class FsV2 : public StandInTree {
 protected:
  void SetUp() override {
    StandInTree::SetUp();
    put("cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
    put("cgroup.subtree_control", "cpu\n");
    put("a/cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
    put("a/cgroup.subtree_control", "");
  }
  std::unique_ptr<Manager> manager(const std::string& cgroup = "/a/b/c") const {
    return make_fs_v2_manager({cgroup}, path(), Tree::stand_in);
  }
  static spec::Resources limits(int64_t memory, int64_t pids) {
    spec::Resources r;
    r.memory = spec::Memory{.limit = memory};
    r.pids = spec::Pids{pids};
    return r;
  }
};

TEST_F(FsV2, CreateEnablesControllersInAncestorsOnly) {
  auto m = manager();
  ASSERT_TRUE(m->create(limits(64 * MiB, 100)).has_value());
  // The root keeps what it had and gains the rest, in cgroup.controllers order.
  EXPECT_EQ(content("cgroup.subtree_control"), "cpu\n+cpuset +io +memory +hugetlb +pids\n");
  EXPECT_EQ(content("a/cgroup.subtree_control"), "+cpuset +cpu +io +memory +hugetlb +pids\n");
  EXPECT_EQ(content("a/b/cgroup.subtree_control"), "+cpuset +cpu +io +memory +hugetlb +pids\n");
  EXPECT_FALSE(exists("a/b/c/cgroup.subtree_control"));  // the leaf will hold tasks
  EXPECT_EQ(content("a/b/c/memory.max"), "67108864\n");
  EXPECT_EQ(content("a/b/c/pids.max"), "100\n");
}

TEST_F(FsV2, CreateSkipsControllersAlreadyEnabled) {
  put("cgroup.subtree_control", "cpuset cpu io memory hugetlb pids\n");
  ASSERT_TRUE(manager()->create({}).has_value());
  EXPECT_EQ(content("cgroup.subtree_control"), "cpuset cpu io memory hugetlb pids\n");
}

TEST_F(FsV2, UpdateWritesOnlyTheFieldsGiven) {
  auto m = manager();
  ASSERT_TRUE(m->create(limits(64 * MiB, 100)).has_value());
  spec::Resources r;
  r.memory = spec::Memory{.limit = 128 * MiB};
  ASSERT_TRUE(m->update(r).has_value());
  EXPECT_EQ(content("a/b/c/memory.max"), "67108864\n134217728\n");
  EXPECT_EQ(content("a/b/c/pids.max"), "100\n");
}

TEST_F(FsV2, UpdateOfCpuPeriodKeepsTheLiveQuota) {
  auto m = manager();
  ASSERT_TRUE(m->create({}).has_value());
  put("a/b/c/cpu.max", "50000 100000\n");
  spec::Resources r;
  r.cpu = spec::Cpu{.period = 20000};
  ASSERT_TRUE(m->update(r).has_value());
  EXPECT_EQ(content("a/b/c/cpu.max"), "50000 100000\n50000 20000\n");
  put("a/b/c/cpu.max", "max 20000\n");
  r.cpu = spec::Cpu{.quota = 10000};
  ASSERT_TRUE(m->update(r).has_value());
  EXPECT_EQ(content("a/b/c/cpu.max"), "max 20000\n10000 20000\n");
}

TEST_F(FsV2, UpdateChecksUsageWhenAsked) {
  auto m = manager();
  ASSERT_TRUE(m->create({}).has_value());
  put("a/b/c/memory.current", "100000000\n");
  spec::Resources r;
  r.memory = spec::Memory{.limit = 64 * MiB, .checkBeforeUpdate = true};
  auto ok = m->update(r);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message,
            "linux.resources.memory: rejecting memory limit 67108864 <= usage "
            "100000000 of " +
                path("a/b/c"));
  EXPECT_FALSE(exists("a/b/c/memory.max"));
}

TEST_F(FsV2, DestroyRemovesOnlyWhatItMade) {
  auto m = manager();
  ASSERT_TRUE(m->create(limits(64 * MiB, 100)).has_value());
  ASSERT_TRUE(m->destroy().has_value());
  EXPECT_FALSE(exists("a/b"));
  EXPECT_TRUE(exists("a/cgroup.subtree_control"));
  EXPECT_TRUE(exists("cgroup.controllers"));
  EXPECT_TRUE(m->destroy().has_value());  // already gone is success
}

TEST_F(FsV2, DestroyLeavesAncestorsOtherContainersUse) {
  auto first = manager("/a/b/c");
  auto second = manager("/a/b/d");
  ASSERT_TRUE(first->create({}).has_value());
  ASSERT_TRUE(second->create({}).has_value());
  ASSERT_TRUE(first->destroy().has_value());
  EXPECT_FALSE(exists("a/b/c"));
  EXPECT_TRUE(exists("a/b/d"));
}

TEST_F(FsV2, DestroyFromAnotherProcessRemovesTheLeaf) {
  ASSERT_TRUE(manager()->create({}).has_value());
  ASSERT_TRUE(manager()->destroy().has_value());  // a new manager, as `hippo delete` makes
  EXPECT_FALSE(exists("a/b/c"));
  EXPECT_TRUE(exists("a/b"));  // not known to be ours
}

TEST_F(FsV2, FailedCreateLeavesNothing) {
  std::filesystem::remove(path("cgroup.controllers"));
  std::filesystem::create_directory(path("cgroup.controllers"));  // unreadable as a file
  auto ok = manager()->create(limits(64 * MiB, 100));
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message, "read " + path("cgroup.controllers") + ": Is a directory");
  EXPECT_FALSE(exists("a/b"));
  EXPECT_TRUE(exists("a"));
}

TEST_F(FsV2, RefusedResourcesMakeNothing) {
  spec::Resources r;
  r.devices = std::vector<spec::DeviceRule>{{.allow = false, .access = "rwx"}};
  auto ok = manager()->create(r);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message,
            "linux.resources.devices[0].access: must be letters from \"rwm\", got \"rwx\"");
  EXPECT_FALSE(exists("a/b"));
}

TEST_F(FsV2, AttachWritesTheLeafProcs) {
  auto m = manager();
  ASSERT_TRUE(m->create({}).has_value());
  ASSERT_TRUE(m->attach(4242).has_value());
  EXPECT_EQ(content("a/b/c/cgroup.procs"), "4242\n");
  EXPECT_EQ(m->pids().value(), (std::vector<pid_t>{4242}));
}

TEST_F(FsV2, FreezeWaitsForTheEventsFile) {
  auto m = manager();
  ASSERT_TRUE(m->create({}).has_value());
  EXPECT_FALSE(m->frozen().value());
  put("a/b/c/cgroup.events", "populated 1\nfrozen 1\n");
  ASSERT_TRUE(m->freeze().has_value());
  EXPECT_EQ(content("a/b/c/cgroup.freeze"), "1\n");
  EXPECT_TRUE(m->frozen().value());
  put("a/b/c/cgroup.events", "populated 1\nfrozen 0\n");
  ASSERT_TRUE(m->thaw().has_value());
  EXPECT_EQ(content("a/b/c/cgroup.freeze"), "1\n0\n");
}

TEST_F(FsV2, StatsReadTheV2Files) {
  auto m = manager();
  ASSERT_TRUE(m->create({}).has_value());
  put("a/b/c/memory.current", "1000\n");
  put("a/b/c/memory.peak", "2000\n");
  put("a/b/c/memory.max", "max\n");
  put("a/b/c/memory.events", "low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\n");
  put("a/b/c/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
  put("a/b/c/pids.current", "3\n");
  put("a/b/c/pids.max", "max\n");
  auto s = m->stats();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->memory.usage, 1000u);
  EXPECT_EQ(s->memory.max_usage, 2000u);
  EXPECT_EQ(s->memory.limit, UINT64_MAX);
  EXPECT_EQ(s->memory.failcnt, 7u);
  EXPECT_EQ(s->memory.oom_kills, 1u);
  EXPECT_EQ(s->cpu_usage_ns, 1500000u);
  EXPECT_EQ(s->pids_current, 3u);
  EXPECT_EQ(s->pids_limit, 0u);
  EXPECT_EQ(s->cpu_user_ns, 1000000u);
  EXPECT_EQ(s->cpu_system_ns, 500000u);
  EXPECT_EQ(s->cpu_periods, 0u);  // no cpu controller here: no throttling numbers
  EXPECT_TRUE(s->io.empty());
}

TEST_F(FsV2, StatsCarryWhatContainerdsV2MetricsHold) {
  auto m = manager();
  ASSERT_TRUE(m->create({}).has_value());
  put("a/b/c/memory.current", "1000\n");
  put("a/b/c/memory.max", "4096000\n");
  put("a/b/c/memory.events", "low 1\nhigh 2\nmax 3\noom 4\noom_kill 5\n");
  put("a/b/c/memory.swap.current", "300\n");
  put("a/b/c/memory.swap.max", "max\n");
  put("a/b/c/memory.swap.events", "high 0\nmax 2\nfail 0\n");
  put("a/b/c/memory.stat", "anon 8192\nfile 4096\nkernel_stack 16384\npgfault 12\n");
  put("a/b/c/cpu.stat",
      "usage_usec 30\nuser_usec 20\nsystem_usec 10\nnr_periods 9\nnr_throttled 3\n"
      "throttled_usec 7\n");
  put("a/b/c/io.stat",
      "254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
      "8:16 rbytes=512 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n");
  auto s = m->stats();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->memory.low_events, 1u);
  EXPECT_EQ(s->memory.high_events, 2u);
  EXPECT_EQ(s->memory.failcnt, 3u);
  EXPECT_EQ(s->memory.oom_events, 4u);
  EXPECT_EQ(s->memory.oom_kills, 5u);
  EXPECT_EQ(s->memory.swap_usage, 300u);
  EXPECT_EQ(s->memory.swap_limit, UINT64_MAX);
  EXPECT_EQ(s->memory.swap_failcnt, 2u);
  EXPECT_EQ(s->memory.max_usage, 0u);  // memory.peak is 5.19+
  EXPECT_EQ(s->memory.stat.at("anon"), 8192u);
  EXPECT_EQ(s->memory.stat.at("file"), 4096u);
  EXPECT_EQ(s->memory.stat.size(), 4u);
  EXPECT_EQ(s->cpu_usage_ns, 30000u);
  EXPECT_EQ(s->cpu_periods, 9u);
  EXPECT_EQ(s->cpu_throttled_periods, 3u);
  EXPECT_EQ(s->cpu_throttled_ns, 7000u);
  EXPECT_EQ(s->io, (std::vector<IoDeviceStats>{{254, 0, 4096, 8192, 1, 2}, {8, 16, 512, 0, 1, 0}}));
}

TEST_F(FsV2, StatsNameAFileTheyCannotRead) {
  auto m = manager();
  ASSERT_TRUE(m->create({}).has_value());
  put("a/b/c/io.stat", "sda rbytes=1\n");
  auto s = m->stats();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "read " + path("a/b/c/io.stat") + ": not a device \"sda\"");
}

TEST_F(FsV2, PathOfIsTheLeafForAnyController) {
  auto m = make_fs_manager({"/a/b/c"}, path(), FsVersion::v2);
  EXPECT_EQ(m->path_of("memory"), path("a/b/c"));
  EXPECT_EQ(m->path_of(""), path("a/b/c"));
}

TEST(FsVersionDetect, Cgroup2MountIsV2) {
  EXPECT_EQ(detect_fs_version(std::filesystem::temp_directory_path().string()), FsVersion::v1);
  if (std::filesystem::exists("/sys/fs/cgroup/unified/cgroup.controllers")) {
    EXPECT_EQ(detect_fs_version("/sys/fs/cgroup/unified"), FsVersion::v2);
  }
}

}  // namespace
}  // namespace hippo::cgroups
