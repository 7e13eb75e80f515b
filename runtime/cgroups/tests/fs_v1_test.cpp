#include "runtime/cgroups/fs_v1.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "runtime/cgroups/devices.hpp"
#include "runtime/cgroups/tests/stand_in_tree.hpp"

namespace hippo::cgroups {
namespace {

constexpr int64_t MiB = 1024 * 1024;

// This machine's /proc/self/mountinfo (cgroup part), plus mounts a parser must not take.
constexpr std::string_view kHybridMountinfo =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

TEST(V1Layout, ParsesThisHostsHybridLayout) {
  const auto layout = parse_v1_layout(kHybridMountinfo, "/sys/fs/cgroup");
  EXPECT_EQ(layout.root, "/sys/fs/cgroup");
  EXPECT_EQ(layout.unified, "/sys/fs/cgroup/unified");
  EXPECT_EQ(layout.hierarchies,
            (std::vector<Hierarchy>{{"/sys/fs/cgroup/cpu", {"cpu"}, ""},
                                    {"/sys/fs/cgroup/cpuacct", {"cpuacct"}, ""},
                                    {"/sys/fs/cgroup/cpuset", {"cpuset"}, ""},
                                    {"/sys/fs/cgroup/memory", {"memory"}, ""},
                                    {"/sys/fs/cgroup/devices", {"devices"}, ""},
                                    {"/sys/fs/cgroup/freezer", {"freezer"}, ""},
                                    {"/sys/fs/cgroup/blkio", {"blkio"}, ""},
                                    {"/sys/fs/cgroup/pids", {"pids"}, ""},
                                    {"/sys/fs/cgroup/systemd", {}, "systemd"}}));
}

TEST(V1Layout, CoMountedControllersShareAHierarchy) {
  const auto layout = parse_v1_layout(
      "1 0 0:1 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
      "2 0 0:2 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,xattr,net_cls,net_prio\n"
      "3 0 0:3 / /sys/fs/cgroup/elogind rw - cgroup cgroup rw,name=elogind\n"
      "4 0 0:1 / /sys/fs/cgroup/cpu\\054cpuacct2 rw - cgroup cgroup rw,cpu,cpuacct\n"
      "5 0 0:4 / /mnt/elsewhere/memory rw - cgroup cgroup rw,memory\n"
      "6 0 0:5 / /sys/fs/cgroup/with\\040space rw - cgroup cgroup rw,pids\n",
      "/sys/fs/cgroup/");
  EXPECT_EQ(layout.unified, "");
  EXPECT_EQ(
      layout.hierarchies,
      (std::vector<Hierarchy>{{"/sys/fs/cgroup/cpu,cpuacct", {"cpu", "cpuacct"}, ""},
                              {"/sys/fs/cgroup/net_cls,net_prio", {"net_cls", "net_prio"}, ""},
                              {"/sys/fs/cgroup/with space", {"pids"}, ""}}));
}

TEST(V1Layout, ReadsThisProcess) {
  auto layout = read_v1_layout("/sys/fs/cgroup");
  ASSERT_TRUE(layout) << layout.error().message;
  EXPECT_EQ(layout->root, "/sys/fs/cgroup");
}

// A stand-in for this host: v1 hierarchies, name=systemd, and a cgroup2 "unified" mount that
// offers only hugetlb. The container path /hippo/c sits under an existing /hippo.
class FsV1 : public StandInTree {
 protected:
  void SetUp() override {
    StandInTree::SetUp();
    for (const char* h :
         {"cpuset", "memory", "cpu,cpuacct", "pids", "freezer", "devices", "systemd"}) {
      std::filesystem::create_directories(root_ / h / "hippo");
    }
    put("cpuset/cpuset.cpus", "0-1\n");
    put("cpuset/cpuset.mems", "0\n");
    put("cpuset/hippo/cpuset.cpus", "1\n");  // an existing level keeps its own
    put("cpuset/hippo/cpuset.mems", "");     // and an empty one is filled in
    put("unified/cgroup.controllers", "hugetlb\n");
    put("unified/cgroup.subtree_control", "");
    layout_.root = path();
    layout_.hierarchies = {{path("cpuset"), {"cpuset"}, ""},
                           {path("memory"), {"memory"}, ""},
                           {path("cpu,cpuacct"), {"cpu", "cpuacct"}, ""},
                           {path("pids"), {"pids"}, ""},
                           {path("freezer"), {"freezer"}, ""},
                           {path("devices"), {"devices"}, ""},
                           {path("systemd"), {}, "systemd"}};
    layout_.unified = path("unified");
  }
  std::unique_ptr<Manager> manager(const std::string& cgroup = "/hippo/c") const {
    return make_fs_v1_manager({cgroup}, layout_, Tree::stand_in);
  }
  V1Layout layout_;
};

TEST_F(FsV1, CreatePlacesTheCgroupInEveryHierarchy) {
  ASSERT_TRUE(manager()->create({}).has_value());
  for (const char* h :
       {"cpuset", "memory", "cpu,cpuacct", "pids", "freezer", "devices", "systemd", "unified"}) {
    EXPECT_TRUE(exists(std::string(h) + "/hippo/c")) << h;
  }
  EXPECT_EQ(content("unified/cgroup.subtree_control"), "");  // no hugetlb asked for
}

TEST_F(FsV1, CreateCopiesCpusetDownIntoEmptyLevels) {
  ASSERT_TRUE(manager()->create({}).has_value());
  EXPECT_EQ(content("cpuset/hippo/cpuset.cpus"), "1\n");
  EXPECT_EQ(content("cpuset/hippo/cpuset.mems"), "0\n");
  EXPECT_EQ(content("cpuset/hippo/c/cpuset.cpus"), "1\n");
  EXPECT_EQ(content("cpuset/hippo/c/cpuset.mems"), "0\n");
}

TEST_F(FsV1, SpecCpusetIsWrittenAfterTheInheritedOne) {
  spec::Resources r;
  r.cpu = spec::Cpu{.cpus = "0"};
  ASSERT_TRUE(manager()->create(r).has_value());
  EXPECT_EQ(content("cpuset/hippo/c/cpuset.cpus"), "1\n0\n");
}

TEST_F(FsV1, CreateAppliesLimitsAndTheDefaultDevicePolicy) {
  spec::Resources r;
  r.memory = spec::Memory{.limit = 64 * MiB};
  r.pids = spec::Pids{100};
  r.cpu = spec::Cpu{.shares = 512};
  ASSERT_TRUE(manager()->create(r).has_value());
  EXPECT_EQ(content("memory/hippo/c/memory.limit_in_bytes"), "67108864\n");
  EXPECT_EQ(content("pids/hippo/c/pids.max"), "100\n");
  EXPECT_EQ(content("cpu,cpuacct/hippo/c/cpu.shares"), "512\n");
  EXPECT_EQ(content("devices/hippo/c/devices.deny"), "a\n");
  std::string allowed;
  for (const auto& d : default_devices()) allowed += device_rule_line(d) + "\n";
  EXPECT_EQ(content("devices/hippo/c/devices.allow"), allowed);
}

TEST_F(FsV1, HugetlbGoesToTheCgroup2SideWhenOnlyItHasHugetlb) {
  spec::Resources r;
  r.hugepageLimits = std::vector<spec::HugepageLimit>{{"2MB", 4 * MiB}};
  auto m = manager();
  ASSERT_TRUE(m->create(r).has_value());
  EXPECT_EQ(content("unified/cgroup.subtree_control"), "+hugetlb\n");
  EXPECT_EQ(content("unified/hippo/cgroup.subtree_control"), "+hugetlb\n");
  EXPECT_EQ(content("unified/hippo/c/hugetlb.2MB.max"), "4194304\n");
  EXPECT_EQ(content("unified/hippo/c/hugetlb.2MB.rsvd.max"), "4194304\n");
  EXPECT_EQ(m->path_of("hugetlb"), "");  // not a v1 hierarchy
  EXPECT_EQ(m->path_of(""), path("unified/hippo/c"));
}

TEST_F(FsV1, HugetlbNowhereIsAClearErrorAndLeavesNothing) {
  put("unified/cgroup.controllers", "");
  spec::Resources r;
  r.hugepageLimits = std::vector<spec::HugepageLimit>{{"2MB", 4 * MiB}};
  auto ok = manager()->create(r);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message,
            "linux.resources.hugepageLimits: hugetlb is neither a cgroup v1 hierarchy under " +
                path() + " nor a controller the cgroup2 hierarchy " + path("unified") +
                " can enable");
  EXPECT_FALSE(exists("memory/hippo/c"));
  EXPECT_FALSE(exists("unified/hippo"));
  EXPECT_TRUE(exists("memory/hippo"));
}

TEST_F(FsV1, UnmountedControllerIsAnErrorAndLeavesNothing) {
  spec::Resources r;
  r.memory = spec::Memory{.limit = 64 * MiB};
  r.network = spec::Network{.classID = 7};
  auto ok = manager()->create(r);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message,
            "net_cls.classid: the cgroup v1 net_cls controller is not mounted under " + path());
  for (const char* h : {"cpuset", "memory", "systemd", "unified"}) {
    EXPECT_FALSE(exists(std::string(h) + "/hippo/c")) << h;
  }
  EXPECT_TRUE(exists("memory/hippo"));
}

TEST_F(FsV1, AttachJoinsEveryHierarchy) {
  auto m = manager();
  ASSERT_TRUE(m->create({}).has_value());
  ASSERT_TRUE(m->attach(777).has_value());
  for (const char* h :
       {"cpuset", "memory", "cpu,cpuacct", "pids", "freezer", "devices", "systemd", "unified"}) {
    EXPECT_EQ(content(std::string(h) + "/hippo/c/cgroup.procs"), "777\n") << h;
  }
  EXPECT_EQ(m->pids().value(), (std::vector<pid_t>{777}));
}

TEST_F(FsV1, UpdateWritesOnlyTheFieldsGiven) {
  auto m = manager();
  spec::Resources r;
  r.memory = spec::Memory{.limit = 64 * MiB};
  r.pids = spec::Pids{100};
  ASSERT_TRUE(m->create(r).has_value());
  spec::Resources change;
  change.memory = spec::Memory{.limit = 128 * MiB};
  ASSERT_TRUE(m->update(change).has_value());
  EXPECT_EQ(content("memory/hippo/c/memory.limit_in_bytes"), "67108864\n134217728\n");
  EXPECT_EQ(content("pids/hippo/c/pids.max"), "100\n");
  EXPECT_EQ(content("devices/hippo/c/devices.deny"), "a\n");  // devices not given: untouched
}

TEST_F(FsV1, FreezeAndThawThroughFreezerState) {
  auto m = manager();
  ASSERT_TRUE(m->create({}).has_value());
  EXPECT_FALSE(m->frozen().value());
  ASSERT_TRUE(m->freeze().has_value());
  EXPECT_EQ(content("freezer/hippo/c/freezer.state"), "FROZEN\n");
  EXPECT_TRUE(m->frozen().value());
  ASSERT_TRUE(m->thaw().has_value());
  EXPECT_FALSE(m->frozen().value());
}

TEST_F(FsV1, FrozenByAnAncestorIsNotPaused) {
  auto m = manager();
  ASSERT_TRUE(m->create({}).has_value());
  put("freezer/hippo/c/freezer.state", "FROZEN\n");
  put("freezer/hippo/c/freezer.self_freezing", "0\n");
  EXPECT_FALSE(m->frozen().value());
}

TEST_F(FsV1, StatsReadTheV1Files) {
  auto m = manager();
  ASSERT_TRUE(m->create({}).has_value());
  put("memory/hippo/c/memory.usage_in_bytes", "100\n");
  put("memory/hippo/c/memory.max_usage_in_bytes", "200\n");
  put("memory/hippo/c/memory.limit_in_bytes", "9223372036854771712\n");
  put("memory/hippo/c/memory.failcnt", "4\n");
  put("memory/hippo/c/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  put("cpu,cpuacct/hippo/c/cpuacct.usage", "123456\n");
  put("pids/hippo/c/pids.current", "5\n");
  put("pids/hippo/c/pids.max", "max\n");
  auto s = m->stats();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->memory.usage, 100u);
  EXPECT_EQ(s->memory.max_usage, 200u);
  EXPECT_EQ(s->memory.limit, 9223372036854771712u);
  EXPECT_EQ(s->memory.failcnt, 4u);
  EXPECT_EQ(s->memory.oom_kills, 2u);
  EXPECT_EQ(s->cpu_usage_ns, 123456u);
  EXPECT_EQ(s->pids_current, 5u);
  EXPECT_EQ(s->pids_limit, 0u);
  // without swap accounting, cpu.stat or blkio the rest stays 0
  EXPECT_EQ(s->memory.swap_limit, 0u);
  EXPECT_EQ(s->cpu_throttled_periods, 0u);
  EXPECT_TRUE(s->io.empty());
}

TEST_F(FsV1, StatsCarryWhatContainerdsV1MetricsHold) {
  layout_.hierarchies.push_back({path("blkio"), {"blkio"}, ""});
  std::filesystem::create_directories(path("blkio"));
  auto m = manager();
  ASSERT_TRUE(m->create({}).has_value());
  for (const char* f : {"memory.usage_in_bytes", "memory.max_usage_in_bytes",
                        "memory.limit_in_bytes", "memory.failcnt"}) {
    put(std::string("memory/hippo/c/") + f, "1\n");
  }
  put("memory/hippo/c/memory.memsw.usage_in_bytes", "300\n");
  put("memory/hippo/c/memory.memsw.max_usage_in_bytes", "400\n");
  put("memory/hippo/c/memory.memsw.limit_in_bytes", "500\n");
  put("memory/hippo/c/memory.memsw.failcnt", "6\n");
  put("memory/hippo/c/memory.stat", "cache 4096\nrss 8192\ntotal_rss 8192\n");
  put("cpu,cpuacct/hippo/c/cpuacct.usage", "3000\n");
  put("cpu,cpuacct/hippo/c/cpuacct.usage_percpu", "1000 2000 \n");
  put("cpu,cpuacct/hippo/c/cpuacct.stat", "user 3\nsystem 1\n");  // USER_HZ ticks
  put("cpu,cpuacct/hippo/c/cpu.stat", "nr_periods 10\nnr_throttled 4\nthrottled_time 777\n");
  put("pids/hippo/c/pids.current", "1\n");
  put("pids/hippo/c/pids.max", "9\n");
  put("blkio/hippo/c/blkio.throttle.io_service_bytes_recursive",
      "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Discard 0\n"
      "8:0 Total 12288\n8:16 Read 512\n8:16 Write 0\nTotal 12800\n");
  put("blkio/hippo/c/blkio.throttle.io_serviced_recursive",
      "8:0 Read 1\n8:0 Write 2\n8:0 Total 3\nTotal 3\n");
  auto s = m->stats();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->memory.swap_usage, 300u);
  EXPECT_EQ(s->memory.swap_max_usage, 400u);
  EXPECT_EQ(s->memory.swap_limit, 500u);
  EXPECT_EQ(s->memory.swap_failcnt, 6u);
  EXPECT_EQ(s->memory.stat.at("cache"), 4096u);
  EXPECT_EQ(s->memory.stat.at("rss"), 8192u);
  EXPECT_EQ(s->cpu_per_cpu_ns, (std::vector<uint64_t>{1000, 2000}));
  const uint64_t tick = 1000000000ULL / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
  EXPECT_EQ(s->cpu_user_ns, 3 * tick);
  EXPECT_EQ(s->cpu_system_ns, 1 * tick);
  EXPECT_EQ(s->cpu_periods, 10u);
  EXPECT_EQ(s->cpu_throttled_periods, 4u);
  EXPECT_EQ(s->cpu_throttled_ns, 777u);
  EXPECT_EQ(s->pids_limit, 9u);
  EXPECT_EQ(s->io, (std::vector<IoDeviceStats>{{8, 0, 4096, 8192, 1, 2}, {8, 16, 512, 0, 0, 0}}));
  put("cpu,cpuacct/hippo/c/cpuacct.usage_user", "2500\n");  // ns, preferred where present
  put("cpu,cpuacct/hippo/c/cpuacct.usage_sys", "500\n");
  s = m->stats();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->cpu_user_ns, 2500u);
  EXPECT_EQ(s->cpu_system_ns, 500u);
}

TEST_F(FsV1, DestroyRemovesWhatItMadeAndKeepsTheRest) {
  auto m = manager("/hippo/new/c");
  ASSERT_TRUE(m->create({}).has_value());
  ASSERT_TRUE(m->destroy().has_value());
  for (const char* h : {"cpuset", "memory", "systemd", "unified"}) {
    EXPECT_FALSE(exists(std::string(h) + "/hippo/new")) << h;
  }
  EXPECT_TRUE(exists("memory/hippo"));
  EXPECT_FALSE(exists("unified/hippo"));  // made by this manager too
}

TEST_F(FsV1, PathOfNamesEachHierarchy) {
  auto m = manager();
  EXPECT_EQ(m->path_of("memory"), path("memory/hippo/c"));
  EXPECT_EQ(m->path_of("cpuacct"), path("cpu,cpuacct/hippo/c"));
  EXPECT_EQ(m->path_of("name=systemd"), path("systemd/hippo/c"));
  EXPECT_EQ(m->path_of("net_cls"), "");
}

TEST_F(FsV1, NoHierarchiesIsAnError) {
  auto m = make_fs_v1_manager({"/x"}, V1Layout{path(), {}, ""}, Tree::stand_in);
  auto ok = m->create({});
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message, "no cgroup v1 hierarchy is mounted under " + path());
}

TEST_F(FsV1, BadPathIsAnError) {
  auto ok = manager("/../etc")->create({});
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message, "cgroup path \"/../etc\": \"..\" is not allowed");
}

}  // namespace
}  // namespace hippo::cgroups
