#include "base/flags.hpp"

#include <gtest/gtest.h>

#include "runtime/cli/commands.hpp"

namespace hippo {
namespace {

constexpr FlagSpec kFlags[] = {
    {"bundle", 'b', true, false, ""},
    {"detach", 'd', false, false, ""},
    {"env", 'e', true, true, ""},
};

Result<ParsedFlags> parse(std::vector<std::string> argv, bool stop = false) {
  return parse_flags(kFlags, argv, stop);
}

TEST(Flags, LongShortAndSingleDashFormsAreEquivalent) {
  for (const auto& argv :
       {std::vector<std::string>{"--bundle", "/b", "id"},
        std::vector<std::string>{"--bundle=/b", "id"}, std::vector<std::string>{"-b", "/b", "id"},
        std::vector<std::string>{"-bundle", "/b", "id"}}) {
    auto f = parse(argv);
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_EQ(f->value("bundle"), "/b");
    EXPECT_EQ(f->args, std::vector<std::string>{"id"});
  }
}

TEST(Flags, BooleansTakeOptionalGoStyleValue) {
  EXPECT_TRUE(parse({"-d"})->enabled("detach"));
  EXPECT_TRUE(parse({"--detach=true"})->enabled("detach"));
  EXPECT_FALSE(parse({"--detach=false"})->enabled("detach"));
  EXPECT_FALSE(parse({})->enabled("detach"));
  auto bad = parse({"--detach=maybe"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "invalid boolean value \"maybe\" for -detach");
}

TEST(Flags, RepeatableFlagsKeepEveryValue) {
  auto f = parse({"-e", "A=1", "--env", "B=2"});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->all("env"), (std::vector<std::string>{"A=1", "B=2"}));
}

TEST(Flags, FlagsMayFollowArgumentsUnlessTheCommandStops) {
  auto mixed = parse({"id", "--bundle", "/b"});
  ASSERT_TRUE(mixed);
  EXPECT_EQ(mixed->value("bundle"), "/b");
  auto exec_like = parse({"id", "sh", "-b", "x"}, /*stop=*/true);
  ASSERT_TRUE(exec_like);
  EXPECT_FALSE(exec_like->has("bundle"));
  EXPECT_EQ(exec_like->args, (std::vector<std::string>{"id", "sh", "-b", "x"}));
}

TEST(Flags, DoubleDashEndsFlags) {
  auto f = parse({"--", "-d"});
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->has("detach"));
  EXPECT_EQ(f->args, std::vector<std::string>{"-d"});
}

TEST(Flags, UnknownFlagAndMissingValueAreErrors) {
  EXPECT_EQ(parse({"--bundel", "x"}).error().message, "flag provided but not defined: -bundel");
  EXPECT_EQ(parse({"--bundle"}).error().message, "flag needs an argument: -bundle");
}

TEST(Flags, HelpIsUnderstoodByEveryCommand) {
  EXPECT_TRUE(parse({"--help"})->enabled("help"));
  EXPECT_TRUE(parse({"-h"})->enabled("help"));
}

TEST(Commands, RuncCommandSetIsPresent) {
  for (auto name :
       {"checkpoint", "create", "delete", "events", "exec", "features", "kill", "list", "pause",
        "ps", "restore", "resume", "run", "spec", "start", "state", "update"}) {
    EXPECT_NE(cli::find_command(name), nullptr) << name;
  }
  EXPECT_EQ(cli::find_command("frobnicate"), nullptr);
}

TEST(Commands, ExecStopsAtItsCommandLine) {
  EXPECT_TRUE(cli::find_command("exec")->stop_at_first_arg);
  EXPECT_FALSE(cli::find_command("create")->stop_at_first_arg);
}

}  // namespace
}  // namespace hippo
