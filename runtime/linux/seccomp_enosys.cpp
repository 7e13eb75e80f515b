#include "runtime/linux/seccomp_enosys.hpp"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include <cerrno>
#include <map>
#include <string>

namespace hippo::os {
namespace {

constexpr uint32_t kOffsetNr = 0;    // offsetof(struct seccomp_data, nr)
constexpr uint32_t kOffsetArch = 4;  // offsetof(struct seccomp_data, arch)
// x32 syscalls arrive under AUDIT_ARCH_X86_64 with this bit set (__X32_SYSCALL_BIT); libseccomp
// numbers x32 syscalls with it too.
constexpr uint32_t kX32Bit = 0x40000000;

// A BPF program with forward jumps to labels, resolved when it is laid out. A label bound where
// no instruction follows is the first instruction after the program (libseccomp's, here).
class Assembler {
 public:
  int label() {
    positions_.push_back(-1);
    return static_cast<int>(positions_.size()) - 1;
  }
  void bind(int l) { positions_[static_cast<size_t>(l)] = static_cast<int>(insns_.size()); }
  void load(uint32_t offset) { insns_.push_back({BPF_LD | BPF_W | BPF_ABS, offset, -1, -1}); }
  void ret(uint32_t value) { insns_.push_back({BPF_RET | BPF_K, value, -1, -1}); }
  void jump(int target) { insns_.push_back({BPF_JMP | BPF_JA, 0, target, -1}); }
  // To `yes` when `A op k` holds, else to `no`.
  void branch(uint16_t op, uint32_t k, int yes, int no) {
    insns_.push_back({static_cast<uint16_t>(BPF_JMP | op | BPF_K), k, yes, no});
  }
  // Falls through to the next instruction when the condition holds / fails.
  int next() {
    const int l = label();
    pending_.push_back(l);
    return l;
  }

  Result<std::vector<sock_filter>> assemble() {
    std::vector<sock_filter> out;
    for (size_t i = 0; i < insns_.size(); ++i) {
      const auto& in = insns_[i];
      sock_filter f{in.code, 0, 0, in.k};
      auto offset = [&](int l) -> long {
        return positions_[static_cast<size_t>(l)] - static_cast<long>(i) - 1;
      };
      if (BPF_CLASS(in.code) == BPF_JMP && BPF_OP(in.code) == BPF_JA) {
        f.k = static_cast<uint32_t>(offset(in.jt));
      } else if (BPF_CLASS(in.code) == BPF_JMP) {
        const long jt = offset(in.jt), jf = offset(in.jf);
        if (jt < 0 || jt > 255 || jf < 0 || jf > 255) {
          return fail("linux.seccomp: too many architectures for the ENOSYS stub's jumps");
        }
        f.jt = static_cast<uint8_t>(jt);
        f.jf = static_cast<uint8_t>(jf);
      }
      out.push_back(f);
    }
    return out;
  }

  // Binds the labels next() handed out to the instruction about to be emitted.
  void land() {
    for (int l : pending_) bind(l);
    pending_.clear();
  }

 private:
  struct Insn {
    uint16_t code;
    uint32_t k;
    int jt;  // label (the target of BPF_JA)
    int jf;  // label
  };
  std::vector<Insn> insns_;
  std::vector<int> positions_;
  std::vector<int> pending_;
};

bool refusing_default(const spec::Seccomp& s) {
  if (s.defaultErrnoRet && *s.defaultErrnoRet == ENOSYS) return false;
  return s.defaultAction != "SCMP_ACT_ALLOW" && s.defaultAction != "SCMP_ACT_LOG" &&
         s.defaultAction != "SCMP_ACT_TRACE";
}

// The highest syscall number the profile names for `token`; 0 when it names none there.
// Names unknown to libseccomp and negative pseudo-numbers (socketcall multiplexed calls on
// x86) count for nothing, as in runc.
uint32_t highest_known(const spec::Seccomp& s, uint32_t token) {
  int highest = 0;
  for (const auto& rule : s.syscalls.value_or(std::vector<spec::SeccompSyscall>{})) {
    for (const auto& name : rule.names) {
      const int nr = seccomp_syscall_resolve_name_arch(token, name.c_str());
      if (nr > highest) highest = nr;
    }
  }
  return static_cast<uint32_t>(highest);
}

}  // namespace

Result<std::vector<sock_filter>> enosys_stub(const spec::Seccomp& s,
                                             std::span<const uint32_t> arch_tokens) {
  if (!refusing_default(s)) return std::vector<sock_filter>{};
  // The kernel's arch value (what seccomp_data.arch holds) -> libseccomp token -> highest nr.
  // SCMP_ARCH_X32 shares AUDIT_ARCH_X86_64 with SCMP_ARCH_X86_64; every other token is the
  // AUDIT_ARCH_* value itself.
  std::map<uint32_t, std::map<uint32_t, uint32_t>> highest;
  for (const uint32_t token : arch_tokens) {
    const uint32_t arch = token == SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token;
    if (const uint32_t nr = highest_known(s, token); nr > 0) highest[arch][token] = nr;
  }
  if (highest.empty()) return std::vector<sock_filter>{};

  Assembler a;
  const int enosys = a.label();
  const int filter = a.label();
  std::vector<int> sections;
  a.load(kOffsetArch);
  for (const auto& [arch, _] : highest) {
    sections.push_back(a.label());
    a.branch(BPF_JEQ, arch, sections.back(), a.next());
    a.land();
  }
  a.jump(filter);  // an architecture the stub does not check: libseccomp decides
  size_t k = 0;
  for (const auto& [arch, by_token] : highest) {
    a.bind(sections[k++]);
    a.load(kOffsetNr);
    if (arch == AUDIT_ARCH_X86_64) {
      const auto amd64 = by_token.find(SCMP_ARCH_X86_64);
      const auto x32 = by_token.find(SCMP_ARCH_X32);
      if (amd64 != by_token.end() && x32 != by_token.end()) {
        const int x32_check = a.label();
        a.branch(BPF_JSET, kX32Bit, x32_check, a.next());
        a.land();
        a.branch(BPF_JGT, amd64->second, enosys, filter);
        a.bind(x32_check);
        a.branch(BPF_JGT, x32->second, enosys, filter);
        continue;
      }
      // Only one of the two listed: the other's syscalls are left to libseccomp.
      if (amd64 != by_token.end()) {
        a.branch(BPF_JSET, kX32Bit, filter, a.next());
      } else {
        a.branch(BPF_JSET, kX32Bit, a.next(), filter);
      }
      a.land();
    } else if (arch == AUDIT_ARCH_S390 || arch == AUDIT_ARCH_S390X) {
      // Syscalls too new for the kernel's table arrive as syscall 0, the multiplexer.
      a.branch(BPF_JEQ, 0, enosys, a.next());
      a.land();
    }
    a.branch(BPF_JGT, by_token.begin()->second, enosys, filter);
  }
  a.bind(enosys);
  a.ret(SECCOMP_RET_ERRNO | ENOSYS);
  a.bind(filter);
  return a.assemble();
}

}  // namespace hippo::os
