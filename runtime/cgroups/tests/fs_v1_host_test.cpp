// The v1 driver against this machine's real /sys/fs/cgroup (v1 hybrid). Each test makes and
// removes cgroups of its own, named /hippo-unit-<pid>-<test>, and touches nothing else.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/cgroups/cgroup_files.hpp"
#include "runtime/cgroups/fs_manager.hpp"
#include "runtime/cgroups/fs_v1.hpp"

namespace hippo::cgroups {
namespace {

namespace fs = std::filesystem;
constexpr int64_t MiB = 1024 * 1024;
constexpr const char* kRoot = "/sys/fs/cgroup";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return trim(s.str());
}

class HostV1 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to make cgroups under " << kRoot;
    if (detect_fs_version(kRoot) != FsVersion::v1 || !fs::exists("/sys/fs/cgroup/memory/tasks") ||
        !fs::exists("/sys/fs/cgroup/freezer/tasks") || !fs::exists("/sys/fs/cgroup/pids/tasks")) {
      GTEST_SKIP() << kRoot << " is not a cgroup v1 layout with memory, pids and freezer";
    }
    path_ = "/hippo-unit-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    manager_ = make_fs_manager({path_}, kRoot);
  }
  void TearDown() override {
    if (child_ > 0) {
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
    }
    if (manager_) (void)manager_->destroy();
  }
  // A child that only sleeps; killed by the test or TearDown.
  pid_t spawn_sleeper() {
    child_ = ::fork();
    if (child_ == 0) {
      for (;;) ::pause();
    }
    return child_;
  }
  std::string dir(const char* hierarchy) const {
    return std::string(kRoot) + "/" + hierarchy + path_;
  }

  std::string path_;
  std::unique_ptr<Manager> manager_;
  pid_t child_ = -1;
};

TEST_F(HostV1, LifecycleOfARealCgroup) {
  spec::Resources r;
  r.memory = spec::Memory{.limit = 64 * MiB};
  r.pids = spec::Pids{100};
  auto created = manager_->create(r);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(manager_->path_of("memory"), dir("memory"));
  EXPECT_EQ(slurp(dir("memory") + "/memory.limit_in_bytes"), "67108864");
  EXPECT_EQ(slurp(dir("pids") + "/pids.max"), "100");
  // The default device policy: deny all but runc's list.
  const auto devices = slurp(dir("devices") + "/devices.list");
  EXPECT_NE(devices.find("c 1:3 rwm"), std::string::npos) << devices;
  EXPECT_EQ(devices.find("a *:* rwm"), std::string::npos) << devices;
  // cpuset cpus/mems were copied down, so tasks can join.
  EXPECT_EQ(slurp(dir("cpuset") + "/cpuset.cpus"), slurp("/sys/fs/cgroup/cpuset/cpuset.cpus"));

  const pid_t child = spawn_sleeper();
  ASSERT_GT(child, 0);
  auto attached = manager_->attach(child);
  ASSERT_TRUE(attached) << attached.error().message;
  EXPECT_EQ(slurp(dir("memory") + "/cgroup.procs"), std::to_string(child));
  EXPECT_EQ(slurp(dir("freezer") + "/cgroup.procs"), std::to_string(child));
  EXPECT_EQ(manager_->pids().value(), std::vector<pid_t>{child});

  auto frozen = manager_->freeze();
  ASSERT_TRUE(frozen) << frozen.error().message;
  EXPECT_EQ(slurp(dir("freezer") + "/freezer.state"), "FROZEN");
  EXPECT_TRUE(manager_->frozen().value());
  auto thawed = manager_->thaw();
  ASSERT_TRUE(thawed) << thawed.error().message;
  EXPECT_EQ(slurp(dir("freezer") + "/freezer.state"), "THAWED");
  EXPECT_FALSE(manager_->frozen().value());

  spec::Resources more;
  more.memory = spec::Memory{.limit = 128 * MiB};
  auto updated = manager_->update(more);
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(slurp(dir("memory") + "/memory.limit_in_bytes"), "134217728");
  EXPECT_EQ(slurp(dir("pids") + "/pids.max"), "100");

  auto stats = manager_->stats();
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->memory.limit, 128u * MiB);
  EXPECT_EQ(stats->pids_current, 1u);
  EXPECT_EQ(stats->pids_limit, 100u);

  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  child_ = -1;
  auto destroyed = manager_->destroy();
  ASSERT_TRUE(destroyed) << destroyed.error().message;
  for (const char* h : {"memory", "pids", "freezer", "cpu", "cpuacct", "cpuset", "devices", "blkio",
                        "systemd", "unified"}) {
    EXPECT_FALSE(fs::exists(dir(h))) << dir(h);
  }
}

TEST_F(HostV1, RaisingMemoryAndSwapTogetherWorksInEitherOrder) {
  if (!fs::exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")) {
    GTEST_SKIP() << "no swap accounting (memory.memsw.*) on this kernel";
  }
  spec::Resources r;
  r.memory = spec::Memory{.limit = 64 * MiB, .swap = 64 * MiB};
  ASSERT_TRUE(manager_->create(r).has_value());
  // Raising both: the limit would pass the old memsw if written first (EINVAL, retried).
  r.memory = spec::Memory{.limit = 256 * MiB, .swap = 512 * MiB};
  auto up = manager_->update(r);
  ASSERT_TRUE(up) << up.error().message;
  EXPECT_EQ(slurp(dir("memory") + "/memory.limit_in_bytes"), std::to_string(256 * MiB));
  EXPECT_EQ(slurp(dir("memory") + "/memory.memsw.limit_in_bytes"), std::to_string(512 * MiB));
  r.memory = spec::Memory{.limit = 32 * MiB, .swap = 48 * MiB};
  auto down = manager_->update(r);
  ASSERT_TRUE(down) << down.error().message;
  EXPECT_EQ(slurp(dir("memory") + "/memory.limit_in_bytes"), std::to_string(32 * MiB));
  EXPECT_EQ(slurp(dir("memory") + "/memory.memsw.limit_in_bytes"), std::to_string(48 * MiB));
  r.memory = spec::Memory{.limit = -1};
  auto unlimited = manager_->update(r);
  ASSERT_TRUE(unlimited) << unlimited.error().message;
}

TEST_F(HostV1, CpuQuotaAndPeriodTogether) {
  spec::Resources r;
  r.cpu = spec::Cpu{.quota = 50000, .period = 100000};
  auto created = manager_->create(r);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(slurp(dir("cpu") + "/cpu.cfs_quota_us"), "50000");
  r.cpu = spec::Cpu{.quota = 5000, .period = 10000};
  auto updated = manager_->update(r);
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(slurp(dir("cpu") + "/cpu.cfs_period_us"), "10000");
  EXPECT_EQ(slurp(dir("cpu") + "/cpu.cfs_quota_us"), "5000");
}

TEST_F(HostV1, FailedCreateLeavesNoDirectories) {
  spec::Resources r;
  r.memory = spec::Memory{.limit = 64 * MiB};
  r.cpu = spec::Cpu{.cpus = "63"};  // no such CPU here: the kernel refuses it
  auto created = manager_->create(r);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().message.rfind("write " + dir("cpuset") + "/cpuset.cpus \"63\": ", 0),
            0u)
      << created.error().message;
  for (const char* h : {"memory", "pids", "freezer", "cpuset", "devices", "systemd", "unified"}) {
    EXPECT_FALSE(fs::exists(dir(h))) << dir(h);
  }
}

TEST_F(HostV1, DestroyOfAMissingCgroupSucceeds) {
  auto destroyed = manager_->destroy();
  EXPECT_TRUE(destroyed) << destroyed.error().message;
}

}  // namespace
}  // namespace hippo::cgroups
