// The hooks hippo runs itself (runtime/hooks.hpp), run for real: fork + execve of host programs.

#include "runtime/hooks.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace hippo::runtime {
namespace {

spec::Hook hook(std::string path, std::optional<spec::Strings> args = std::nullopt) {
  return spec::Hook{std::move(path), std::move(args), std::nullopt, std::nullopt};
}

TEST(Hooks, AMissingHookSaysSo) {
  auto ok = run_hooks("prestart", {hook("/bin/true"), hook("/nonexistent-hippo/hook")}, "{}");
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message,
            "error running hook #1 (prestart, /nonexistent-hippo/hook): No such file or directory");
  EXPECT_EQ(ok.error().code, ENOENT);
}

TEST(Hooks, ANonExecutableHookSaysPermissionDenied) {
  char tmpl[] = "/tmp/hippo-hook-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);  // mode 0600: not executable, even for root (no x bit at all)
  auto ok = run_hooks("poststart", {hook(tmpl)}, "{}");
  std::filesystem::remove(tmpl);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message,
            "error running hook #0 (poststart, " + std::string(tmpl) + "): Permission denied");
}

TEST(Hooks, AFailingHookReportsItsStatusAndOutput) {
  auto ok =
      run_hooks("createRuntime",
                {hook("/bin/sh", spec::Strings{"sh", "-c", "echo broken >&2; exit 127"})}, "{}");
  ASSERT_FALSE(ok);
  // Exit status 127 of a hook that ran is its own, not an exec failure.
  EXPECT_EQ(ok.error().message,
            "error running hook #0 (createRuntime, /bin/sh): exit status 127: broken");
}

TEST(Hooks, StateArrivesOnStdin) {
  auto ok =
      run_hooks("prestart",
                {hook("/bin/sh", spec::Strings{"sh", "-c", "test \"$(cat)\" = '{\"id\":\"c\"}'"})},
                R"({"id":"c"})");
  EXPECT_TRUE(ok) << ok.error().message;
}

}  // namespace
}  // namespace hippo::runtime
