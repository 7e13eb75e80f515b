#include "runtime/cli/signals.hpp"

#include <gtest/gtest.h>
#include <signal.h>

namespace hippo::cli {
namespace {

TEST(Signals, NamesWithAndWithoutPrefixAndNumbers) {
  EXPECT_EQ(parse_signal("KILL"), SIGKILL);
  EXPECT_EQ(parse_signal("SIGTERM"), SIGTERM);
  EXPECT_EQ(parse_signal("9"), 9);
  EXPECT_EQ(parse_signal("RTMIN+1"), SIGRTMIN + 1);
  EXPECT_EQ(parse_signal("0"), 0);  // kill(2)'s existence check, as runc passes it
  EXPECT_FALSE(parse_signal("NOPE"));
  EXPECT_FALSE(parse_signal("99"));
}

}  // namespace
}  // namespace hippo::cli
