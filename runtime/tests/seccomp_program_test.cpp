#include "runtime/linux/seccomp_program.hpp"

#include <gtest/gtest.h>
#include <linux/seccomp.h>

namespace hippo::os {
namespace {

spec::Seccomp deny_mkdir() {
  spec::Seccomp s;
  s.defaultAction = "SCMP_ACT_ALLOW";
  s.syscalls = std::vector<spec::SeccompSyscall>{{{"mkdir"}, "SCMP_ACT_ERRNO", 1u, std::nullopt}};
  return s;
}

// The program returns SECCOMP_RET_ERRNO|errno somewhere for a denied syscall.
bool returns(const SeccompProgram& p, uint32_t value) {
  for (const auto& insn : p.filter) {
    if (insn.code == (BPF_RET | BPF_K) && insn.k == value) return true;
  }
  return false;
}

TEST(SeccompProgram, CompilesRulesIntoBpfReturningTheConfiguredErrno) {
  auto p = build_seccomp_program(deny_mkdir());
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_FALSE(p->filter.empty());
  EXPECT_TRUE(returns(*p, SECCOMP_RET_ERRNO | 1));
  EXPECT_TRUE(returns(*p, SECCOMP_RET_ALLOW));
  EXPECT_FALSE(p->listener);
  EXPECT_EQ(p->flags, 0u);
}

TEST(SeccompProgram, ErrnoDefaultsToEpermAndDefaultErrnoRetApplies) {
  auto s = deny_mkdir();
  (*s.syscalls)[0].errnoRet.reset();
  s.defaultAction = "SCMP_ACT_ERRNO";
  s.defaultErrnoRet = 38;
  (*s.syscalls)[0].action = "SCMP_ACT_ALLOW";
  auto p = build_seccomp_program(s);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(returns(*p, SECCOMP_RET_ERRNO | 38));
  EXPECT_TRUE(returns(*p, SECCOMP_RET_ALLOW));
}

TEST(SeccompProgram, UnknownSyscallNamesAreSkippedAndRulesLikeTheDefaultDropped) {
  auto s = deny_mkdir();
  (*s.syscalls)[0].names = {"no_such_syscall_at_all"};
  s.syscalls->push_back({{"getpid"}, "SCMP_ACT_ALLOW", std::nullopt, std::nullopt});
  auto p = build_seccomp_program(s);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_FALSE(returns(*p, SECCOMP_RET_ERRNO | 1));
}

TEST(SeccompProgram, NotifyAsksForAListenerAndDropsTsync) {
  auto s = deny_mkdir();
  (*s.syscalls)[0].action = "SCMP_ACT_NOTIFY";
  s.flags = spec::Strings{"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG"};
  auto p = build_seccomp_program(s);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(p->listener);
  EXPECT_EQ(p->flags, static_cast<unsigned>(SECCOMP_FILTER_FLAG_LOG));
  EXPECT_TRUE(returns(*p, SECCOMP_RET_USER_NOTIF));
}

TEST(SeccompProgram, ArgumentConditionsAndArchitecturesCompile) {
  auto s = deny_mkdir();
  (*s.syscalls)[0].args = std::vector<spec::SeccompArg>{{1, 0700, 0700, "SCMP_CMP_MASKED_EQ"},
                                                        {1, 0750, std::nullopt, "SCMP_CMP_EQ"}};
  s.architectures = spec::Strings{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  auto p = build_seccomp_program(s);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(returns(*p, SECCOMP_RET_ERRNO | 1));
}

TEST(SeccompProgram, UnknownNamesAreErrorsNamingThem) {
  auto s = deny_mkdir();
  s.architectures = spec::Strings{"SCMP_ARCH_PDP11"};
  auto p = build_seccomp_program(s);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("SCMP_ARCH_PDP11"), std::string::npos);
  s = deny_mkdir();
  (*s.syscalls)[0].action = "SCMP_ACT_FLY";
  p = build_seccomp_program(s);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message,
            "linux.seccomp.syscalls[0].action: unknown seccomp action \"SCMP_ACT_FLY\"");
}

}  // namespace
}  // namespace hippo::os
