#include "runtime/cgroups/cgroup_files.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace hippo::cgroups {
namespace {

namespace fs = std::filesystem;

// A private directory under the test temp dir, removed at the end.
class TempTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("hippo-cgfiles-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string path(const std::string& rel) const { return (root_ / rel).string(); }
  fs::path root_;
};

// A writer over a map of file -> errno, recording what it was asked to write.
struct FakeWriter {
  std::map<std::string, std::vector<int>> errors;  // consumed one per call; 0 succeeds
  std::vector<std::string> calls;
  Result<void> operator()(const FileWrite& w) {
    calls.push_back(w.file + "=" + w.value);
    auto& e = errors[w.file];
    if (e.empty()) return {};
    const int code = e.front();
    e.erase(e.begin());
    if (code == 0) return {};
    return fail_errno("write " + w.file, code);
  }
};

Result<void> run(const std::vector<FileWrite>& writes, FakeWriter& fake) {
  return apply_writes(writes, [&](const FileWrite& w) { return fake(w); });
}

TEST(ApplyWrites, InOrder) {
  FakeWriter fake;
  ASSERT_TRUE(run({{"m", "a", "1"}, {"m", "b", "2"}}, fake));
  EXPECT_EQ(fake.calls, (std::vector<std::string>{"a=1", "b=2"}));
}

TEST(ApplyWrites, UseNextOnlyWhenTheFirstFileIsMissing) {
  const std::vector<FileWrite> writes{{"io", "io.bfq.weight", "500", IfMissing::use_next},
                                      {"io", "io.weight", "4950"},
                                      {"pids", "pids.max", "9"}};
  FakeWriter present;
  ASSERT_TRUE(run(writes, present));
  EXPECT_EQ(present.calls, (std::vector<std::string>{"io.bfq.weight=500", "pids.max=9"}));

  FakeWriter missing;
  missing.errors["io.bfq.weight"] = {ENOENT};
  ASSERT_TRUE(run(writes, missing));
  EXPECT_EQ(missing.calls,
            (std::vector<std::string>{"io.bfq.weight=500", "io.weight=4950", "pids.max=9"}));

  FakeWriter refused;  // any other error is the user's answer
  refused.errors["io.bfq.weight"] = {EINVAL};
  auto r = run(writes, refused);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "write io.bfq.weight: Invalid argument");
}

TEST(ApplyWrites, SkipOnlyForMissingFiles) {
  const std::vector<FileWrite> writes{{"h", "rsvd", "1", IfMissing::skip}, {"h", "next", "2"}};
  FakeWriter missing;
  missing.errors["rsvd"] = {ENOENT};
  EXPECT_TRUE(run(writes, missing));
  FakeWriter busy;
  busy.errors["rsvd"] = {EBUSY};
  EXPECT_FALSE(run(writes, busy));
  FakeWriter required;
  required.errors["next"] = {ENOENT};
  auto r = run(writes, required);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ENOENT);
}

TEST(ApplyWrites, MissingFilesAreNamedUnderTheSpecField) {
  // A kernel whose disks no scheduler with weights serves has neither weight file.
  const std::string field = "linux.resources.blockIO.weight";
  const std::vector<FileWrite> writes{
      {"pids", "pids.max", "9", IfMissing::fail, false, "linux.resources.pids.limit"},
      {"blkio", "blkio.weight", "300", IfMissing::use_next, false, field},
      {"blkio", "blkio.bfq.weight", "300", IfMissing::fail, false, field}};
  FakeWriter neither;
  neither.errors["blkio.weight"] = {ENOENT};
  neither.errors["blkio.bfq.weight"] = {ENOENT};
  auto r = run(writes, neither);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ENOENT);
  EXPECT_EQ(r.error().message,
            "linux.resources.blockIO.weight: the cgroup has neither blkio.weight nor "
            "blkio.bfq.weight (write blkio.bfq.weight: No such file or directory)");

  FakeWriter single;  // one file, no fallback: the field before the write's own error
  single.errors["pids.max"] = {ENOENT};
  r = run(writes, single);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "linux.resources.pids.limit: write pids.max: No such file or directory");

  FakeWriter refused;  // other errors stay the kernel's answer, as they were
  refused.errors["blkio.weight"] = {EINVAL};
  r = run(writes, refused);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "write blkio.weight: Invalid argument");
}

TEST(ApplyWrites, EinvalRetriesAtTheEnd) {
  // Raising memory above the old memory+swap limit: the limit is refused until memsw grows.
  const std::vector<FileWrite> writes{
      {"memory", "memory.limit_in_bytes", "256", IfMissing::fail, true},
      {"memory", "memory.memsw.limit_in_bytes", "512"},
      {"pids", "pids.max", "5"}};
  FakeWriter fake;
  fake.errors["memory.limit_in_bytes"] = {EINVAL, 0};
  ASSERT_TRUE(run(writes, fake));
  EXPECT_EQ(fake.calls, (std::vector<std::string>{"memory.limit_in_bytes=256",
                                                  "memory.memsw.limit_in_bytes=512", "pids.max=5",
                                                  "memory.limit_in_bytes=256"}));
}

TEST(ApplyWrites, RetryFailsForGood) {
  FakeWriter fake;
  fake.errors["cpu.cfs_period_us"] = {EINVAL, EINVAL};
  auto r = run(
      {{"cpu", "cpu.cfs_period_us", "1", IfMissing::fail, true}, {"cpu", "cpu.cfs_quota_us", "2"}},
      fake);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "write cpu.cfs_period_us: Invalid argument");
  EXPECT_EQ(fake.calls.size(), 3u);
}

TEST(ApplyWrites, EinvalWithoutRetryIsFinal) {
  FakeWriter fake;
  fake.errors["cpu.shares"] = {EINVAL};
  EXPECT_FALSE(run({{"cpu", "cpu.shares", "1"}, {"cpu", "cpu.idle", "1"}}, fake));
  EXPECT_EQ(fake.calls.size(), 1u);
}

TEST(CgroupLevels, SplitsAndRefusesEscapes) {
  EXPECT_EQ(cgroup_levels("/a/b/c").value(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(cgroup_levels("a//b/./").value(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(cgroup_levels("/a/../b").error().message,
            "cgroup path \"/a/../b\": \"..\" is not allowed");
  EXPECT_EQ(cgroup_levels("/").error().message, "cgroup path \"/\" names the root cgroup");
  EXPECT_FALSE(cgroup_levels(""));
}

TEST(ParseUint, NumbersAndMax) {
  EXPECT_EQ(parse_uint("42\n", "f").value(), 42u);
  EXPECT_EQ(parse_uint("max\n", "f").value(), UINT64_MAX);
  EXPECT_EQ(parse_uint("x", "/f").error().message, "read /f: not a number: \"x\"");
  EXPECT_FALSE(parse_uint("", "f"));
  EXPECT_EQ(keyed_value("low 0\nmax 3\noom_kill 2\n", "oom_kill", "f").value(), 2u);
  EXPECT_EQ(keyed_value("low 0\n", "oom_kill", "f").value(), 0u);
}

TEST_F(TempTree, WriteErrorsNameFileValueAndReason) {
  auto r = write_file(path("nope/memory.max"), "1", Tree::kernel);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ENOENT);
  EXPECT_EQ(r.error().message,
            "write " + path("nope/memory.max") + " \"1\": No such file or directory");
  // A kernel tree never gets files created by a write.
  EXPECT_FALSE(write_file(path("memory.max"), "1", Tree::kernel));
  EXPECT_FALSE(fs::exists(path("memory.max")));
}

TEST_F(TempTree, StandInLogsWritesAndReadsMissingFilesAsEmpty) {
  ASSERT_TRUE(write_file(path("io.max"), "8:0 rbps=1", Tree::stand_in));
  ASSERT_TRUE(write_file(path("io.max"), "8:0 wbps=2", Tree::stand_in));
  EXPECT_EQ(read_file(path("io.max"), Tree::stand_in).value(), "8:0 rbps=1\n8:0 wbps=2\n");
  EXPECT_EQ(read_file(path("cpuset.cpus"), Tree::stand_in).value(), "");
  EXPECT_FALSE(read_file(path("gone/cpuset.cpus"), Tree::stand_in));
  EXPECT_FALSE(read_file(path("cpuset.cpus"), Tree::kernel));
  EXPECT_EQ(read_optional(path("memory.peak")).value(), std::nullopt);
}

TEST_F(TempTree, MadeDirsRollBackOnlyWhatTheyMade) {
  fs::create_directories(path("a"));
  {
    MadeDirs made(Tree::stand_in);
    auto dirs = made.make(root_.string(), std::vector<std::string>{"a", "b", "c"});
    ASSERT_TRUE(dirs);
    EXPECT_EQ(*dirs, (std::vector<std::string>{path("a/b"), path("a/b/c")}));
    ASSERT_TRUE(write_file(path("a/b/c/memory.max"), "1", Tree::stand_in));
  }
  EXPECT_TRUE(fs::exists(path("a")));
  EXPECT_FALSE(fs::exists(path("a/b")));
}

TEST_F(TempTree, MadeDirsCommitKeepsThem) {
  MadeDirs made(Tree::stand_in);
  ASSERT_TRUE(made.make(root_.string(), std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(made.commit(), (std::vector<std::string>{path("x"), path("x/y")}));
  EXPECT_TRUE(fs::exists(path("x/y")));
}

TEST_F(TempTree, RemoveCgroupTakesNestedOnesAndMissingIsSuccess) {
  fs::create_directories(path("c/inner/deeper"));
  std::ofstream(path("c/inner/cgroup.procs")) << "";
  ASSERT_TRUE(remove_cgroup(path("c"), Tree::stand_in));
  EXPECT_FALSE(fs::exists(path("c")));
  EXPECT_TRUE(remove_cgroup(path("c"), Tree::stand_in));
}

TEST_F(TempTree, RemoveIfUnusedLeavesAncestorsWithChildren) {
  fs::create_directories(path("p/other"));
  std::ofstream(path("p/cgroup.subtree_control")) << "+memory\n";
  ASSERT_TRUE(remove_if_unused(path("p"), Tree::stand_in));
  EXPECT_TRUE(fs::exists(path("p/other")));
  ASSERT_TRUE(remove_if_unused(path("p/other"), Tree::stand_in));
  ASSERT_TRUE(remove_if_unused(path("p"), Tree::stand_in));
  EXPECT_FALSE(fs::exists(path("p")));
}

TEST_F(TempTree, ReadProcsIncludesNestedCgroups) {
  fs::create_directories(path("c/nested"));
  std::ofstream(path("c/cgroup.procs")) << "30\n10\n";
  std::ofstream(path("c/nested/cgroup.procs")) << "20\n10\n";
  EXPECT_EQ(read_procs_recursive(path("c"), Tree::stand_in).value(),
            (std::vector<pid_t>{10, 20, 30}));
}

TEST(PollUntil, StopsWhenDoneOrAtTheDeadline) {
  int calls = 0;
  auto done =
      poll_until(std::chrono::milliseconds(1000), [&]() -> Result<bool> { return ++calls == 3; });
  EXPECT_TRUE(done.value());
  EXPECT_EQ(calls, 3);
  const auto start = std::chrono::steady_clock::now();
  auto never = poll_until(std::chrono::milliseconds(30), []() -> Result<bool> { return false; });
  EXPECT_FALSE(never.value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  auto broken =
      poll_until(std::chrono::milliseconds(30), []() -> Result<bool> { return fail("boom", EIO); });
  EXPECT_EQ(broken.error().message, "boom");
}

}  // namespace
}  // namespace hippo::cgroups
