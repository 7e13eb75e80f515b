// kill_all() and delegate() against this machine's real cgroups (v1 hybrid here, v2 in the
// VM lane). Each test makes and removes a cgroup of its own, /hippo-unit-<pid>-<test>.

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "runtime/cgroups/cgroup_files.hpp"
#include "runtime/cgroups/delegation.hpp"
#include "runtime/cgroups/fs_manager.hpp"

namespace hippo::cgroups {
namespace {

namespace fs = std::filesystem;
constexpr const char* kRoot = "/sys/fs/cgroup";
constexpr uid_t kOwner = 100000;  // a user namespace's root, as Docker's userns-remap maps it

class HostDelegation : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to make cgroups under " << kRoot;
    v2_ = detect_fs_version(kRoot) == FsVersion::v2;
    path_ = "/hippo-unit-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    manager_ = make_fs_manager({path_}, kRoot);
    auto made = manager_->create({});
    ASSERT_TRUE(made) << made.error().message;
    memory_ = manager_->path_of("memory");
    if (memory_.empty() || !fs::exists(memory_ + "/" + limit_file())) {
      GTEST_SKIP() << "no memory controller in " << path_;
    }
  }
  void TearDown() override {
    for (pid_t pid : children_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (manager_) (void)manager_->destroy();
  }
  const char* limit_file() const { return v2_ ? "memory.max" : "memory.limit_in_bytes"; }
  pid_t spawn_sleeper() {
    const pid_t pid = ::fork();
    if (pid == 0) {
      for (;;) ::pause();
    }
    children_.push_back(pid);
    return pid;
  }
  static uid_t owner_of(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_uid : static_cast<uid_t>(-1);
  }
  // Runs `body` in a child with uid and gid kOwner and no host capabilities; its exit status.
  static int as_owner(const std::function<int()>& body) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (::setgroups(0, nullptr) != 0 || ::setresgid(kOwner, kOwner, kOwner) != 0 ||
          ::setresuid(kOwner, kOwner, kOwner) != 0) {
        ::_exit(99);
      }
      ::_exit(body());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  static bool write_as_is(const std::string& path, const std::string& value) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
    ::close(fd);
    return ok;
  }

  bool v2_ = false;
  std::string path_;
  std::string memory_;
  std::unique_ptr<Manager> manager_;
  std::vector<pid_t> children_;
};

TEST_F(HostDelegation, TheDelegateMakesAndLimitsCgroupsBelowButCannotRaiseItsOwnLimit) {
  auto delegated = manager_->delegate(kOwner, kOwner);
  ASSERT_TRUE(delegated) << delegated.error().message;
  EXPECT_EQ(owner_of(memory_), kOwner);
  EXPECT_EQ(owner_of(memory_ + "/cgroup.procs"), kOwner);
  EXPECT_EQ(owner_of(memory_ + "/" + limit_file()), 0u);
  if (!v2_) {
    EXPECT_EQ(owner_of(memory_ + "/tasks"), kOwner);
    EXPECT_EQ(owner_of(manager_->path_of("pids") + "/cgroup.procs"), kOwner);
    EXPECT_EQ(owner_of(manager_->path_of("pids") + "/pids.max"), 0u);
  } else {
    EXPECT_EQ(owner_of(memory_ + "/cgroup.subtree_control"), kOwner);
  }
  const std::string limit = limit_file();
  const int status = as_owner([&] {
    if (v2_ && !write_as_is(memory_ + "/cgroup.subtree_control", "+memory")) return 10;
    if (::mkdir((memory_ + "/inner").c_str(), 0755) != 0) return 11;
    if (!write_as_is(memory_ + "/inner/" + limit, "33554432")) return 12;
    if (::open((memory_ + "/" + limit).c_str(), O_WRONLY | O_CLOEXEC) >= 0 || errno != EACCES) {
      return 13;
    }
    return 0;
  });
  EXPECT_EQ(status, 0) << "10: subtree_control, 11: mkdir, 12: inner limit, 13: own limit";
  std::ifstream inner(memory_ + "/inner/" + limit);
  std::string value;
  inner >> value;
  EXPECT_EQ(value, "33554432");
}

TEST_F(HostDelegation, WithoutDelegationTheSameUserCannotMakeACgroup) {
  const int status =
      as_owner([&] { return ::mkdir((memory_ + "/inner").c_str(), 0755) == 0 ? 1 : 0; });
  EXPECT_EQ(status, 0);
}

TEST_F(HostDelegation, KillAllReachesProcessesInCgroupsBelowAndThawsFrozenOnes) {
  const pid_t a = spawn_sleeper();
  const pid_t b = spawn_sleeper();
  ASSERT_TRUE(manager_->attach(a));
  ASSERT_TRUE(manager_->attach(b));
  // What an inner runtime would leave: a cgroup below in every hierarchy holding a, one
  // holding b, frozen.
  for (const auto& dir : cgroup_dirs(*manager_)) {
    for (const char* sub : {"/inner", "/inner/deeper", "/inner2"}) {
      ASSERT_EQ(::mkdir((dir + sub).c_str(), 0755), 0) << dir + sub;
      if (fs::exists(dir + sub + "/cpuset.cpus")) {
        for (const char* f : {"/cpuset.cpus", "/cpuset.mems"}) {
          auto v = read_file(dir + f, Tree::kernel);
          ASSERT_TRUE(v);
          ASSERT_TRUE(write_file(dir + sub + f, trim(*v), Tree::kernel));
        }
      }
    }
    ASSERT_TRUE(write_file(dir + "/inner/deeper/cgroup.procs", std::to_string(a), Tree::kernel));
    ASSERT_TRUE(write_file(dir + "/inner2/cgroup.procs", std::to_string(b), Tree::kernel));
  }
  const auto freezer = manager_->path_of("freezer");
  if (v2_) {
    ASSERT_TRUE(write_file(memory_ + "/inner2/cgroup.freeze", "1", Tree::kernel));
  } else {
    ASSERT_TRUE(write_file(freezer + "/inner2/freezer.state", "FROZEN", Tree::kernel));
  }
  auto killed = manager_->kill_all();
  ASSERT_TRUE(killed) << killed.error().message;
  for (pid_t pid : {a, b}) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << pid;
  }
  children_.clear();
  auto destroyed = manager_->destroy();
  ASSERT_TRUE(destroyed) << destroyed.error().message;
  for (const char* h : {"memory", "freezer", "pids", "cpuset", ""}) {
    const auto dir = manager_->path_of(h);
    if (!dir.empty()) {
      EXPECT_FALSE(fs::exists(dir)) << dir;
    }
  }
}

TEST(DelegateFiles, TheKernelsListOrTheThreeEveryKernelHas) {
  EXPECT_EQ(v2_delegate_files("cgroup.procs\ncgroup.threads\nmemory.reclaim\n"),
            (std::vector<std::string>{"cgroup.procs", "cgroup.threads", "memory.reclaim"}));
  EXPECT_EQ(v2_delegate_files(""),
            (std::vector<std::string>{"cgroup.procs", "cgroup.threads", "cgroup.subtree_control"}));
  EXPECT_EQ(v1_delegate_files(),
            (std::vector<std::string>{"cgroup.procs", "tasks", "cgroup.clone_children"}));
}

}  // namespace
}  // namespace hippo::cgroups
