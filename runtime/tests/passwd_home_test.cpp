#include "runtime/linux/passwd_home.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/file_io.hpp"
#include "oci-spec/config.hpp"
#include "runtime/linux/init_plan.hpp"

namespace hippo::os {
namespace {

constexpr const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "\n"
    "  daemon:x:1:1::/usr/sbin:/usr/sbin/nologin  \n"
    "broken\n"
    "7:x:99:99::/by-name:/bin/sh\n"
    "app:x:1000:1000::/home/app:/bin/sh\n"
    "app2:x:1000:1000::/home/app2:/bin/sh\n"
    "nohome:x:1001:1001:::/bin/sh\n";

TEST(PasswdHome, FirstEntryOfTheUidGivesItsHome) {
  EXPECT_EQ(passwd_home(kPasswd, 0), "/root");
  EXPECT_EQ(passwd_home(kPasswd, 1), "/usr/sbin");  // surrounding blanks ignored, as runc does
  EXPECT_EQ(passwd_home(kPasswd, 1000), "/home/app");
}

TEST(PasswdHome, AUserNamedAsTheUidMatchesTooAsInRuncsLookup) {
  EXPECT_EQ(passwd_home(kPasswd, 7), "/by-name");
}

TEST(PasswdHome, AnEmptyHomeFieldIsKeptAndNoEntryGivesTheRoot) {
  EXPECT_EQ(passwd_home(kPasswd, 1001), "");
  EXPECT_EQ(passwd_home(kPasswd, 4242), "/");
  EXPECT_EQ(passwd_home("", 0), "/");
}

TEST(PasswdHome, OnlyANonEmptyLastHomeCounts) {
  EXPECT_TRUE(has_home({"PATH=/bin", "HOME=/x"}));
  EXPECT_FALSE(has_home({"PATH=/bin"}));
  EXPECT_FALSE(has_home({"HOME="}));
  EXPECT_FALSE(has_home({"HOME=/x", "HOME="}));
  EXPECT_FALSE(has_home({"HOMEDIR=/x"}));
}

// A rootfs directory of the test's own, removed afterwards.
class HomeRootfs : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hippo-home-rootfs-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    std::filesystem::create_directory(root_ + "/etc");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void write(const std::string& rel, const std::string& text) {
    std::ofstream(root_ + "/" + rel) << text;
  }
  std::string root_;
};

TEST_F(HomeRootfs, HomeComesFromTheRootfsPasswd) {
  write("etc/passwd", kPasswd);
  std::vector<std::string> env{"PATH=/bin"};
  ASSERT_TRUE(add_default_home(env, root_, 1000));
  EXPECT_EQ(env, (std::vector<std::string>{"PATH=/bin", "HOME=/home/app"}));
}

TEST_F(HomeRootfs, AGivenHomeIsKeptAndAnEmptyOneReplaced) {
  write("etc/passwd", kPasswd);
  std::vector<std::string> env{"HOME=/mine"};
  ASSERT_TRUE(add_default_home(env, root_, 0));
  EXPECT_EQ(env, (std::vector<std::string>{"HOME=/mine"}));
  env = {"HOME=", "A=b"};
  ASSERT_TRUE(add_default_home(env, root_, 0));
  EXPECT_EQ(env, (std::vector<std::string>{"A=b", "HOME=/root"}));
}

TEST_F(HomeRootfs, NoPasswdGivesTheRoot) {
  std::vector<std::string> env;
  ASSERT_TRUE(add_default_home(env, root_, 0));
  EXPECT_EQ(env, (std::vector<std::string>{"HOME=/"}));
}

TEST_F(HomeRootfs, APasswdSymlinkIsResolvedInsideTheRootfs) {
  // An absolute link must land in the rootfs's /inside, never the host's file.
  std::filesystem::create_directories(root_ + "/inside");
  write("inside/passwd", "root:x:0:0::/from-rootfs:/bin/sh\n");
  std::filesystem::remove(root_ + "/etc");
  std::filesystem::create_directory_symlink("/inside", root_ + "/etc");
  std::vector<std::string> env;
  ASSERT_TRUE(add_default_home(env, root_, 0));
  EXPECT_EQ(env, (std::vector<std::string>{"HOME=/from-rootfs"}));
}

TEST_F(HomeRootfs, AnUnreadablePasswdIsAnErrorNamingIt) {
  std::filesystem::create_directory(root_ + "/etc/passwd");
  std::vector<std::string> env;
  auto ok = add_default_home(env, root_, 0);
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.error().message.find("HOME for uid 0: "), std::string::npos) << ok.error().message;
  EXPECT_NE(ok.error().message.find(root_ + "/etc/passwd"), std::string::npos)
      << ok.error().message;
}

TEST_F(HomeRootfs, TheInitPlanGetsTheProcessUsersHome) {
  write("etc/passwd", kPasswd);
  auto s = spec::default_spec();
  s.process->terminal = false;
  s.process->user.uid = 1000;
  auto plan = build_init_plan(s, root_, {});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->env_storage.back(), "HOME=/home/app");
}

TEST(ExecHome, TheExecPlanReadsThePasswdOfTheInitsRoot) {
  // Our own pid stands in for the container's init: its root is the host's /.
  spec::Process p;
  p.args = spec::Strings{"true"};
  p.env = spec::Strings{"PATH=/bin"};
  p.cwd = "/";
  auto plan = build_exec_plan(p, ::getpid());
  ASSERT_TRUE(plan) << plan.error().message;
  auto host = read_text_file("/etc/passwd");
  const std::string want = "HOME=" + (host ? passwd_home(*host, 0) : std::string("/"));
  EXPECT_EQ(plan->env_storage.back(), want);
}

}  // namespace
}  // namespace hippo::os
