// The container id rule and the state store on a real directory tree: ids never become paths
// outside the root, state is private whatever the umask, a store never removes what it did not
// write, and an unreadable state.json leaves the cleanup record readable.

#include "runtime/state_store.hpp"

#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "runtime/bundle.hpp"

namespace hippo::runtime {
namespace {

namespace fs = std::filesystem;

TEST(ContainerId, AcceptsRuncsCharacterSet) {
  for (const std::string& ok :
       std::vector<std::string>{"a", "abc-1.2_3+x", "A.b", ".hidden", "a..b", "...", "0",
                                std::string(kMaxContainerIdLength, 'x')}) {
    EXPECT_TRUE(validate_container_id(ok)) << ok;
  }
}

TEST(ContainerId, RefusesWhatCouldBeAPathOrIsNotOneName) {
  for (const std::string& bad : std::vector<std::string>{
           "", ".", "..", "../x", "a/b", "/abs", "a/", "a b", "a:b", "a,b", "a\\b", "caf\xc3\xa9",
           std::string("a\0b", 3), "a\n", std::string(kMaxContainerIdLength + 1, 'x'),
           std::string(1024, 'y')}) {
    auto r = validate_container_id(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_TRUE(r.error().message.starts_with("invalid container ID format: \""))
        << r.error().message;
    EXPECT_EQ(r.error().code, EINVAL);
  }
}

TEST(ContainerId, ErrorShowsALongIdShortened) {
  auto r = validate_container_id(std::string(1024, 'y') + "/");
  ASSERT_FALSE(r);
  EXPECT_LT(r.error().message.size(), 250u) << r.error().message;
  EXPECT_NE(r.error().message.find("yyy...\""), std::string::npos) << r.error().message;
}

class StateStore : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "hippo-state-store-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
    root_ = base_ + "/root";
    canary_ = base_ + "/canary";
    fs::create_directories(canary_);
    std::ofstream(canary_ + "/keep") << "canary";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  static unsigned mode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  StoredState record(const std::string& id) const {
    StoredState st;
    st.id = id;
    st.bundle = base_ + "/bundle";
    st.cgroup_path = "/" + id;
    st.annotations["secret"] = "s3cr3t";
    return st;
  }
  std::string base_, root_, canary_;
};

TEST_F(StateStore, BadIdsTouchNothing) {
  for (const std::string& bad :
       std::vector<std::string>{"..", ".", "../canary", "a/b", "", std::string(1024, 'x')}) {
    auto created = ContainerDir::create(root_, bad);
    ASSERT_FALSE(created) << bad;
    EXPECT_TRUE(created.error().message.starts_with("invalid container ID format")) << bad;
    auto opened = ContainerDir::open(root_, bad);
    ASSERT_FALSE(opened) << bad;
    EXPECT_TRUE(opened.error().message.starts_with("invalid container ID format")) << bad;
  }
  EXPECT_FALSE(fs::exists(root_));  // not even the root was made
  EXPECT_TRUE(fs::exists(canary_ + "/keep"));
}

TEST_F(StateStore, StateIsPrivateWhateverTheUmask) {
  const mode_t old = ::umask(0);
  auto dir = ContainerDir::create(root_, "c1");
  ::umask(old);
  ASSERT_TRUE(dir) << dir.error().message;
  ::umask(0);
  auto written = dir->write(record("c1"));
  ::umask(old);
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(mode_of(root_), 0700u);
  EXPECT_EQ(mode_of(root_ + "/c1"), 0700u);
  EXPECT_EQ(mode_of(root_ + "/c1/state.json"), 0600u);
  EXPECT_EQ(mode_of(root_ + "/c1/cleanup.json"), 0600u);
}

TEST_F(StateStore, StaleTempFileDoesNotLeakItsMode) {
  auto dir = ContainerDir::create(root_, "c1");
  ASSERT_TRUE(dir);
  std::ofstream(root_ + "/c1/state.json.tmp") << "stale";
  ::chmod((root_ + "/c1/state.json.tmp").c_str(), 0644);
  ASSERT_TRUE(dir->write(record("c1")));
  EXPECT_EQ(mode_of(root_ + "/c1/state.json"), 0600u);
}

TEST_F(StateStore, CleanupRecordSurvivesACorruptStateJson) {
  auto dir = ContainerDir::create(root_, "c1");
  ASSERT_TRUE(dir);
  auto st = record("c1");
  st.pid = 4242;
  st.pid_start = 17;
  ASSERT_TRUE(dir->write(st));
  std::ofstream(root_ + "/c1/state.json", std::ios::trunc) << "{not json";
  auto read = dir->read();
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().message.find(root_ + "/c1/state.json"), std::string::npos)
      << read.error().message;
  auto cleanup = dir->read_cleanup();
  ASSERT_TRUE(cleanup) << cleanup.error().message;
  EXPECT_EQ(cleanup->pid, 4242);
  EXPECT_EQ(cleanup->pid_start, 17u);
  EXPECT_EQ(cleanup->cgroup_path, "/c1");
  EXPECT_TRUE(cleanup->annotations.empty());  // annotations live in state.json only
}

TEST_F(StateStore, NestingModeKeptInBothRecords) {
  auto dir = ContainerDir::create(root_, "c1");
  ASSERT_TRUE(dir);
  auto st = record("c1");
  ASSERT_TRUE(dir->write(st));
  auto plain = dir->read();
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_FALSE(plain->nesting);
  st.nesting = NestingState{"userns", 100000, 100001, {"fuse"}};
  ASSERT_TRUE(dir->write(st));
  for (auto read : {dir->read(), dir->read_cleanup()}) {
    ASSERT_TRUE(read) << read.error().message;
    ASSERT_TRUE(read->nesting);
    EXPECT_EQ(read->nesting->variant, "userns");
    EXPECT_EQ(read->nesting->owner_uid, 100000u);
    EXPECT_EQ(read->nesting->owner_gid, 100001u);
    EXPECT_EQ(read->nesting->devices, spec::Strings{"fuse"});
  }
}

TEST_F(StateStore, RecordOfAnotherIdIsNotTaken) {
  auto dir = ContainerDir::create(root_, "c1");
  ASSERT_TRUE(dir);
  ASSERT_TRUE(dir->write(record("c2")));
  auto read = dir->read();
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().message.find("not \"c1\""), std::string::npos) << read.error().message;
}

TEST_F(StateStore, MissingContainerAndSymlinkAreNotFound) {
  fs::create_directories(root_);
  fs::create_directory_symlink(canary_, root_ + "/link");
  std::ofstream(root_ + "/file") << "x";
  for (const char* id : {"absent", "link", "file"}) {
    auto opened = ContainerDir::open(root_, id);
    ASSERT_FALSE(opened) << id;
    EXPECT_EQ(opened.error().code, ENOENT) << id;
    EXPECT_EQ(opened.error().message, std::string("container \"") + id + "\" does not exist");
  }
  EXPECT_TRUE(fs::exists(canary_ + "/keep"));
}

TEST_F(StateStore, RemoveTakesOnlyWhatItWrote) {
  auto dir = ContainerDir::create(root_, "c1");
  ASSERT_TRUE(dir);
  ASSERT_TRUE(dir->write(record("c1")));
  ASSERT_EQ(::mkfifo((root_ + "/c1/exec.fifo").c_str(), 0622), 0);
  fs::create_directory(root_ + "/c1/other");
  auto removed = dir->remove();
  ASSERT_FALSE(removed);
  EXPECT_NE(removed.error().message.find("\"other\""), std::string::npos)
      << removed.error().message;
  EXPECT_TRUE(fs::exists(root_ + "/c1/state.json"));  // nothing was removed
  EXPECT_TRUE(fs::exists(root_ + "/c1/exec.fifo"));
  fs::remove(root_ + "/c1/other");
  ASSERT_TRUE(dir->remove());
  EXPECT_FALSE(fs::exists(root_ + "/c1"));
  EXPECT_TRUE(fs::exists(root_));
}

TEST_F(StateStore, OpenWithoutWaitingSeesAHeldLock) {
  auto holder = ContainerDir::create(root_, "c1");
  ASSERT_TRUE(holder);
  auto view = ContainerDir::open(root_, "c1", ContainerDir::Wait::no);
  ASSERT_TRUE(view) << view.error().message;
  EXPECT_FALSE(view->locked());
  holder = std::unexpected(Error{0, "released"});  // drops the lock
  auto again = ContainerDir::open(root_, "c1", ContainerDir::Wait::no);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->locked());
}

TEST_F(StateStore, ListShowsOnlyDirectoriesWithValidIds) {
  fs::create_directories(root_ + "/b");
  fs::create_directories(root_ + "/a");
  fs::create_directories(root_ + "/bad name");
  fs::create_directory_symlink(canary_, root_ + "/link");
  std::ofstream(root_ + "/file") << "x";
  EXPECT_EQ(list_container_ids(root_), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace hippo::runtime
