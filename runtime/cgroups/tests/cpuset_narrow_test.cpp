#include "runtime/cgroups/cpuset_narrow.hpp"

#include <gtest/gtest.h>

namespace hippo::cgroups {
namespace {

TEST(IdList, ParsesRangesAndSingleIds) {
  auto ids = parse_id_list("0-3,5,7-8\n", "cpuset.cpus");
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_EQ(*ids, (std::set<unsigned>{0, 1, 2, 3, 5, 7, 8}));
  EXPECT_EQ(format_id_list(*ids), "0-3,5,7-8");
  auto empty = parse_id_list("\n", "cpuset.mems");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(format_id_list({}), "");
}

TEST(IdList, RefusesMalformedTextNamingIt) {
  for (const char* bad : {"a", "1-", "3-1", "1,,2", "-1", "1-99999999"}) {
    auto ids = parse_id_list(bad, "cpuset.cpus");
    ASSERT_FALSE(ids) << bad;
    EXPECT_NE(ids.error().message.find("cpuset.cpus"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace hippo::cgroups
