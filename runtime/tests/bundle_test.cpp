#include "runtime/bundle.hpp"

#include <gtest/gtest.h>

namespace hippo::runtime {
namespace {

TEST(ContainerId, RuncRulesApply) {
  EXPECT_TRUE(validate_container_id("abc-1.2_3+x"));
  for (auto bad : {"", ".", "..", "a/b", "a b", "a:b"}) {
    EXPECT_FALSE(validate_container_id(bad)) << bad;
  }
}

}  // namespace
}  // namespace hippo::runtime
