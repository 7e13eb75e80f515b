#include "base/mount_options.hpp"

#include <gtest/gtest.h>
#include <linux/mount.h>
#include <sys/mount.h>

namespace hippo::os {
namespace {

TEST(MountOptions, FlagsPropagationAndDataAreSeparated) {
  auto o = parse_mount_options({"nosuid", "noexec", "mode=755", "size=65536k", "rslave", "ro"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_RDONLY));
  EXPECT_EQ(o.propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(o.data, "mode=755,size=65536k");
  EXPECT_FALSE(o.bind());
}

TEST(MountOptions, LaterOptionWinsForOpposites) {
  auto o = parse_mount_options({"ro", "rw", "nodev", "dev"});
  EXPECT_EQ(o.flags & (MS_RDONLY | MS_NODEV), 0u);
  EXPECT_EQ(o.cleared & MS_RDONLY, static_cast<unsigned long>(MS_RDONLY));
}

TEST(MountOptions, RbindIsRecursiveBindAndReadOnlyNeedsRemount) {
  auto o = parse_mount_options({"rbind", "ro", "nosuid"});
  EXPECT_TRUE(o.bind());
  EXPECT_EQ(o.flags & MS_REC, static_cast<unsigned long>(MS_REC));
  EXPECT_EQ(o.remount_flags(), static_cast<unsigned long>(MS_RDONLY | MS_NOSUID));
}

TEST(MountOptions, RecursiveAttributesGoToMountSetattr) {
  auto o = parse_mount_options({"rro", "rnosuid", "rexec"});
  EXPECT_EQ(o.attr_set, static_cast<uint64_t>(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID));
  EXPECT_EQ(o.attr_clr, static_cast<uint64_t>(MOUNT_ATTR_NOEXEC));
  EXPECT_EQ(o.flags, 0u);
}

TEST(MountOptions, RuncExtensionsAreRecognized) {
  auto o = parse_mount_options({"tmpcopyup", "idmap"});
  EXPECT_TRUE(o.tmpcopyup);
  EXPECT_TRUE(o.idmap);
  EXPECT_TRUE(o.data.empty());
}

}  // namespace
}  // namespace hippo::os
