#include "runtime/cgroups/driver.hpp"

#include <gtest/gtest.h>

namespace hippo::cgroups {
namespace {

TEST(CgroupDriver, ConfigNames) {
  EXPECT_EQ(parse_driver("systemd").value(), Driver::systemd);
  EXPECT_EQ(parse_driver("cgroupfs").value(), Driver::cgroupfs);
  EXPECT_EQ(parse_driver("auto").value(), Driver::automatic);
  auto bad = parse_driver("System");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("\"System\""), std::string::npos);
}

TEST(CgroupDriver, SlicePathsAreSystemdFormAndPathsAreNot) {
  EXPECT_TRUE(is_systemd_path("system.slice:hippo:c1"));
  EXPECT_TRUE(is_systemd_path(":hippo:c1"));
  EXPECT_FALSE(is_systemd_path("/a:b/c"));  // an absolute path with a colon is still a path
  EXPECT_FALSE(is_systemd_path("hippo/c1"));
  EXPECT_FALSE(is_systemd_path(""));
}

TEST(CgroupDriver, ExplicitChoiceIsKeptAndAutoKeepsPathsOnCgroupfs) {
  EXPECT_EQ(resolve_driver(Driver::systemd, "/a/b"), Driver::systemd);
  EXPECT_EQ(resolve_driver(Driver::cgroupfs, "system.slice:p:n"), Driver::cgroupfs);
  // A path never asks the bus: it is cgroupfs's form.
  EXPECT_EQ(resolve_driver(Driver::automatic, "/a/b"), Driver::cgroupfs);
  EXPECT_EQ(resolve_driver(Driver::automatic, "relative/path"), Driver::cgroupfs);
}

}  // namespace
}  // namespace hippo::cgroups
