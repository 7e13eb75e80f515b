// The directory and path helpers that replace std::filesystem in code the shim links. Tests may
// use std::filesystem itself to set up and to check.

#include "base/file_io.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace hippo {
namespace {

namespace fs = std::filesystem;

class FileIoDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "hippo-file-io-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST(PathStrings, NormalizeDropsDotsRepeatsAndTrailingSeparators) {
  EXPECT_EQ(normalize_path("/a//b/./c/"), "/a/b/c");
  EXPECT_EQ(normalize_path("/a/b/../c"), "/a/c");
  EXPECT_EQ(normalize_path("/../x"), "/x");
  EXPECT_EQ(normalize_path("/"), "/");
  EXPECT_EQ(normalize_path("a/../.."), "..");
  EXPECT_EQ(normalize_path("../a/./b"), "../a/b");
  EXPECT_EQ(normalize_path("a/.."), ".");
  EXPECT_EQ(normalize_path(""), "");
}

TEST(PathStrings, JoinKeepsAnAbsoluteRestAlone) {
  EXPECT_EQ(join_path("/bundle", "rootfs"), "/bundle/rootfs");
  EXPECT_EQ(join_path("/bundle/", "rootfs"), "/bundle/rootfs");
  EXPECT_EQ(join_path("/bundle", "/srv/rootfs"), "/srv/rootfs");
  EXPECT_EQ(join_path("", "x"), "x");
}

TEST(PathStrings, ParentIsEverythingBeforeTheLastSeparator) {
  EXPECT_EQ(parent_path("/a/b"), "/a");
  EXPECT_EQ(parent_path("/a"), "/");
  EXPECT_EQ(parent_path("a"), "");
}

TEST(PathStrings, AbsoluteIsAgainstTheWorkingDirectory) {
  EXPECT_EQ(absolute_path("/x/y").value(), "/x/y");
  EXPECT_EQ(absolute_path("b").value(), fs::current_path().string() + "/b");
  EXPECT_EQ(current_directory().value(), fs::current_path().string());
}

TEST_F(FileIoDir, MakeDirectoriesCreatesParentsAndAcceptsExisting) {
  const std::string deep = dir_ + "/a/b/c";
  ASSERT_TRUE(make_directories(deep, 0700)) << deep;
  EXPECT_TRUE(fs::is_directory(deep));
  EXPECT_TRUE(make_directories(deep));
  EXPECT_TRUE(is_directory(deep));
  EXPECT_FALSE(is_directory(dir_ + "/absent"));
}

TEST_F(FileIoDir, MakeDirectoriesNamesWhatFailed) {
  ASSERT_TRUE(write_text_file(dir_ + "/file", "x"));
  auto r = make_directories(dir_ + "/file/sub");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ENOTDIR);
  EXPECT_EQ(r.error().message, "mkdir " + dir_ + "/file/sub: Not a directory");
}

TEST_F(FileIoDir, RemoveTreeRemovesEverythingButFollowsNoSymlink) {
  const std::string outside = dir_ + "/outside";
  ASSERT_TRUE(make_directories(outside));
  ASSERT_TRUE(write_text_file(outside + "/keep", "k"));
  const std::string tree = dir_ + "/tree";
  ASSERT_TRUE(make_directories(tree + "/x/y"));
  ASSERT_TRUE(write_text_file(tree + "/x/y/f", "f"));
  ASSERT_TRUE(write_text_file(tree + "/g", "g"));
  ASSERT_EQ(::symlink(outside.c_str(), (tree + "/x/link").c_str()), 0);
  ASSERT_EQ(::mkfifo((tree + "/fifo").c_str(), 0600), 0);

  ASSERT_TRUE(remove_tree(tree));
  EXPECT_FALSE(fs::exists(tree));
  EXPECT_TRUE(fs::exists(outside + "/keep"));
  EXPECT_TRUE(remove_tree(tree)) << "a missing tree is not an error";
  ASSERT_TRUE(write_text_file(dir_ + "/plain", "p"));
  EXPECT_TRUE(remove_tree(dir_ + "/plain"));
  EXPECT_FALSE(fs::exists(dir_ + "/plain"));
}

TEST_F(FileIoDir, ListDirectoryNamesEntriesWithoutDots) {
  ASSERT_TRUE(make_directories(dir_ + "/d"));
  ASSERT_TRUE(write_text_file(dir_ + "/f", ""));
  auto names = list_directory(dir_);
  ASSERT_TRUE(names);
  std::sort(names->begin(), names->end());
  EXPECT_EQ(*names, (std::vector<std::string>{"d", "f"}));
  auto missing = list_directory(dir_ + "/absent");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ENOENT);
}

TEST_F(FileIoDir, ReadTextFileReadsFilesLargerThanAnyChunkAndProcFiles) {
  std::string big(100000, 'x');
  big[99999] = 'y';
  ASSERT_TRUE(write_text_file(dir_ + "/big", big));
  EXPECT_EQ(read_text_file(dir_ + "/big").value(), big);
  ASSERT_TRUE(write_text_file(dir_ + "/empty", ""));
  EXPECT_EQ(read_text_file(dir_ + "/empty").value(), "");
  // /proc files report size 0 but have content.
  const auto status = read_text_file("/proc/self/status");
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->starts_with("Name:"));
}

}  // namespace
}  // namespace hippo
