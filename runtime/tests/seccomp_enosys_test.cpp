// runc's -ENOSYS stub before libseccomp's program, checked by running the whole program over
// seccomp_data the way the kernel would (a classic-BPF interpreter for the instructions
// libseccomp and the stub use), per architecture.

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "runtime/linux/seccomp_program.hpp"

namespace hippo::os {
namespace {

constexpr uint32_t kX32 = 0x40000000;
constexpr uint32_t kEnosys = SECCOMP_RET_ERRNO | ENOSYS;
constexpr uint32_t kEperm = SECCOMP_RET_ERRNO | EPERM;

// What the program returns for syscall `nr` (no arguments) on `arch`; 0xffffffff if the
// program uses an instruction this interpreter does not know or runs off its end.
uint32_t run(const std::vector<sock_filter>& prog, uint32_t arch, uint32_t nr) {
  seccomp_data data{};
  data.nr = static_cast<int>(nr);
  data.arch = arch;
  unsigned char bytes[sizeof data];
  std::memcpy(bytes, &data, sizeof data);
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& in = prog[pc];
    switch (in.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (in.k + 4 > sizeof bytes) return 0xffffffff;
        std::memcpy(&a, bytes + in.k, 4);
        break;
      case BPF_LD | BPF_IMM:
        a = in.k;
        break;
      case BPF_LD | BPF_MEM:
        a = mem[in.k % BPF_MEMWORDS];
        break;
      case BPF_LDX | BPF_MEM:
        x = mem[in.k % BPF_MEMWORDS];
        break;
      case BPF_ST:
        mem[in.k % BPF_MEMWORDS] = a;
        break;
      case BPF_STX:
        mem[in.k % BPF_MEMWORDS] = x;
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        a &= in.k;
        break;
      case BPF_MISC | BPF_TAX:
        x = a;
        break;
      case BPF_MISC | BPF_TXA:
        a = x;
        break;
      case BPF_JMP | BPF_JA:
        pc += in.k;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        pc += a == in.k ? in.jt : in.jf;
        break;
      case BPF_JMP | BPF_JGT | BPF_K:
        pc += a > in.k ? in.jt : in.jf;
        break;
      case BPF_JMP | BPF_JGE | BPF_K:
        pc += a >= in.k ? in.jt : in.jf;
        break;
      case BPF_JMP | BPF_JSET | BPF_K:
        pc += (a & in.k) ? in.jt : in.jf;
        break;
      case BPF_RET | BPF_K:
        return in.k;
      case BPF_RET | BPF_A:
        return a;
      default:
        return 0xffffffff;
    }
  }
  return 0xffffffff;
}

// Default ERRNO(EPERM), the three x86 architectures Docker's profile lists, and an allow list
// whose highest syscall is faccessat2 (439 on x86_64 and i386).
spec::Seccomp allow_list(spec::Strings names) {
  spec::Seccomp s;
  s.defaultAction = "SCMP_ACT_ERRNO";
  s.architectures = spec::Strings{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  s.syscalls = std::vector<spec::SeccompSyscall>{
      {std::move(names), "SCMP_ACT_ALLOW", std::nullopt, std::nullopt}};
  return s;
}

std::vector<sock_filter> compile(const spec::Seccomp& s) {
  auto p = build_seccomp_program(s);
  EXPECT_TRUE(p) << p.error().message;
  return p ? p->filter : std::vector<sock_filter>{};
}

TEST(SeccompEnosys, SyscallsAboveTheHighestNamedGetEnosysOnEachArchitecture) {
  const auto prog = compile(allow_list({"read", "write", "getppid", "faccessat2"}));
  // x86_64: allowed, known but refused, newer than the profile.
  EXPECT_EQ(run(prog, AUDIT_ARCH_X86_64, 1), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(prog, AUDIT_ARCH_X86_64, 39), kEperm);   // getpid: below 439, not allowed
  EXPECT_EQ(run(prog, AUDIT_ARCH_X86_64, 435), kEperm);  // clone3: below 439, as runc
  EXPECT_EQ(run(prog, AUDIT_ARCH_X86_64, 439), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(prog, AUDIT_ARCH_X86_64, 440), kEnosys);
  EXPECT_EQ(run(prog, AUDIT_ARCH_X86_64, 1000), kEnosys);
  // x32 numbers carry bit 30 under the same kernel arch value.
  EXPECT_EQ(run(prog, AUDIT_ARCH_X86_64, kX32 | 1), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(prog, AUDIT_ARCH_X86_64, kX32 | 39), kEperm);
  EXPECT_EQ(run(prog, AUDIT_ARCH_X86_64, kX32 | 440), kEnosys);
  // i386 has its own numbers: write is 4, getppid 64.
  EXPECT_EQ(run(prog, AUDIT_ARCH_I386, 4), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(prog, AUDIT_ARCH_I386, 20), kEperm);
  EXPECT_EQ(run(prog, AUDIT_ARCH_I386, 440), kEnosys);
}

TEST(SeccompEnosys, Clone3IsNewerThanAProfileThatStopsBeforeIt) {
  const auto prog = compile(allow_list({"read", "write", "openat", "clone"}));
  EXPECT_EQ(run(prog, AUDIT_ARCH_X86_64, 435), kEnosys);
  EXPECT_EQ(run(prog, AUDIT_ARCH_X86_64, 56), SECCOMP_RET_ALLOW);  // clone
  EXPECT_EQ(run(prog, AUDIT_ARCH_X86_64, 39), kEperm);
}

TEST(SeccompEnosys, NoStubWhenTheDefaultAllowsOrIsEnosysOrNoArchitectureIsListed) {
  auto allow = allow_list({"write"});
  allow.defaultAction = "SCMP_ACT_ALLOW";
  (*allow.syscalls)[0].action = "SCMP_ACT_ERRNO";
  EXPECT_EQ(run(compile(allow), AUDIT_ARCH_X86_64, 1000), SECCOMP_RET_ALLOW);

  auto enosys = allow_list({"write"});
  enosys.defaultErrnoRet = ENOSYS;
  const auto with_enosys_default = compile(enosys);
  EXPECT_EQ(run(with_enosys_default, AUDIT_ARCH_X86_64, 39), kEnosys);
  enosys.defaultErrnoRet.reset();
  EXPECT_LT(with_enosys_default.size(), compile(enosys).size());

  // runc builds its stub from the listed architectures only.
  auto none = allow_list({"write"});
  none.architectures.reset();
  EXPECT_EQ(run(compile(none), AUDIT_ARCH_X86_64, 1000), kEperm);
}

TEST(SeccompEnosys, OnlyX86_64ListedLeavesX32SyscallsToLibseccomp) {
  auto s = allow_list({"write", "faccessat2"});
  s.architectures = spec::Strings{"SCMP_ARCH_X86_64"};
  const auto prog = compile(s);
  EXPECT_EQ(run(prog, AUDIT_ARCH_X86_64, 440), kEnosys);
  // x32 is not in the filter: libseccomp's bad-arch action (kill), not ENOSYS.
  EXPECT_NE(run(prog, AUDIT_ARCH_X86_64, kX32 | 440), kEnosys);
}

}  // namespace
}  // namespace hippo::os
