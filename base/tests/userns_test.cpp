#include "base/userns.hpp"

#include <gtest/gtest.h>

namespace hippo::os {
namespace {

TEST(UserNamespace, TheInitialMapIsEveryIdToItself) {
  EXPECT_TRUE(is_initial_uid_map("         0          0 4294967295\n"));
  EXPECT_TRUE(is_initial_uid_map("0 0 4294967295"));
}

TEST(UserNamespace, AnyOtherMapIsANestedNamespace) {
  EXPECT_FALSE(is_initial_uid_map("         0     100000      65536\n"));  // userns-remap
  EXPECT_FALSE(is_initial_uid_map("         0          0          1\n"));  // unshare -Ur as root
  EXPECT_FALSE(is_initial_uid_map("0 0 65536\n65536 165536 65536\n"));
  EXPECT_FALSE(is_initial_uid_map(""));  // nothing written yet: no id maps in it
}

TEST(UserNamespace, ThisTestRunsWhereItsUidMapSays) {
  // The tests run on the host (initial namespace) in CI; under `unshare -Ur` they would not.
  std::FILE* f = std::fopen("/proc/self/uid_map", "re");
  ASSERT_NE(f, nullptr);
  char buf[256] = {};
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  EXPECT_EQ(running_in_user_namespace(), !is_initial_uid_map(std::string_view(buf, n)));
}

}  // namespace
}  // namespace hippo::os
