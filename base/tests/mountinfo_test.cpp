#include "base/mountinfo.hpp"

#include <gtest/gtest.h>

namespace hippo::os {
namespace {

// Lines as the kernel writes them (proc(5)); the fields after the mount point do not matter.
constexpr std::string_view kInfo =
    "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "30 22 0:25 / /var/lib rw shared:5 - tmpfs tmpfs rw\n"
    "31 30 0:26 / /var/lib/c/rootfs rw - overlay overlay rw,lowerdir=/a\n"
    "32 22 0:27 / /with\\040space rw - tmpfs tmpfs rw\n"
    "33 31 0:28 / /var/lib/c/rootfs rw - tmpfs tmpfs rw\n";

TEST(Mountinfo, MountPointsAreUnescapedInFileOrder) {
  const auto points = mount_points(kInfo);
  ASSERT_EQ(points.size(), 5u);
  EXPECT_EQ(points[0], "/");
  EXPECT_EQ(points[3], "/with space");
  EXPECT_EQ(points[4], "/var/lib/c/rootfs");
}

TEST(Mountinfo, ABackslashNotFollowedByThreeOctalDigitsIsKept) {
  const auto points = mount_points("1 0 0:1 / /a\\9b rw - tmpfs t rw\n");
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0], "/a\\9b");
}

TEST(Mountinfo, APathThatIsAMountPointIsItsOwnHolder) {
  EXPECT_EQ(mount_point_holding("/var/lib/c/rootfs", kInfo), "/var/lib/c/rootfs");
}

TEST(Mountinfo, TheDeepestMountAboveAPathHoldsIt) {
  EXPECT_EQ(mount_point_holding("/var/lib/c/other", kInfo), "/var/lib");
  EXPECT_EQ(mount_point_holding("/var/lib/c/rootfs/etc", kInfo), "/var/lib/c/rootfs");
  EXPECT_EQ(mount_point_holding("/with space/x", kInfo), "/with space");
}

TEST(Mountinfo, ANamePrefixIsNotAPathPrefix) {
  EXPECT_EQ(mount_point_holding("/var/library", kInfo), "/");
  EXPECT_EQ(mount_point_holding("/var/lib2/x", kInfo), "/");
}

// A line whose mount point field is empty (two spaces) is not the kernel's; it used to give ""
// as a mount point, whose back() mount_point_holding then read (found by fuzz/mountinfo.cpp).
TEST(Mountinfo, ALineWithoutAMountPointIsSkipped) {
  EXPECT_TRUE(mount_points("1 0 0:1 /  rw - tmpfs t rw\n").empty());
  EXPECT_EQ(mount_point_holding("/a", "1 0 0:1 /  rw - tmpfs t rw\n"), "/");
}

TEST(Mountinfo, EntriesCarryRootMountPointAndTypePastTheOptionalFields) {
  const auto entries = mount_entries(
      "23 22 0:5 / /proc rw,nosuid shared:2 master:1 - proc proc rw\n"
      "26 22 0:5 /sys /with\\040space rw - proc proc rw\n"
      "1 0 0:1 / /no-separator rw tmpfs t rw\n"
      "1 0 0:1 / /no-type rw -\n");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].root, "/");
  EXPECT_EQ(entries[0].mount_point, "/proc");
  EXPECT_EQ(entries[0].fstype, "proc");
  EXPECT_EQ(entries[1].root, "/sys");
  EXPECT_EQ(entries[1].mount_point, "/with space");
}

TEST(Mountinfo, RootHoldsEverythingElse) {
  EXPECT_EQ(mount_point_holding("/srv/x", kInfo), "/");
  EXPECT_EQ(mount_point_holding("/srv/x", ""), "/");
}

}  // namespace
}  // namespace hippo::os
