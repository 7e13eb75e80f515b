#include "runtime/linux/seccomp_program.hpp"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>

#include "base/unique_fd.hpp"
#include "oci-spec/names.hpp"
#include "runtime/linux/seccomp_enosys.hpp"

namespace hippo::os {
namespace {

using Context = std::unique_ptr<void, decltype(&seccomp_release)>;

// The spec's action name with its errno (for SCMP_ACT_ERRNO and SCMP_ACT_TRACE, EPERM unless
// given) as a libseccomp action value.
uint32_t action_value(const std::string& name, std::optional<uint32_t> errno_ret) {
  const uint32_t err = errno_ret.value_or(EPERM);
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(err);
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(err);
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY") return SCMP_ACT_NOTIFY;
  return SCMP_ACT_ALLOW;
}

Result<uint32_t> arch_token(const std::string& name) {
  // "SCMP_ARCH_X86_64" -> "x86_64", libseccomp's own name for it.
  std::string lower = name.starts_with("SCMP_ARCH_") ? name.substr(10) : name;
  std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return std::tolower(c); });
  const uint32_t token = seccomp_arch_resolve_name(lower.c_str());
  if (token == 0) return fail("linux.seccomp.architectures: unknown architecture \"" + name + "\"");
  return token;
}

Result<std::vector<sock_filter>> export_program(void* ctx) {
  UniqueFd memfd(::memfd_create("hippo-seccomp", MFD_CLOEXEC));
  if (!memfd) return fail_errno("memfd_create for the seccomp program");
  if (int rc = seccomp_export_bpf(ctx, memfd.get()); rc < 0) {
    return fail_errno("linux.seccomp: export the BPF program", -rc);
  }
  const off_t size = ::lseek(memfd.get(), 0, SEEK_END);
  if (size < 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
    return fail("linux.seccomp: libseccomp exported a malformed program");
  }
  std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
  if (::pread(memfd.get(), program.data(), static_cast<size_t>(size), 0) != size) {
    return fail_errno("linux.seccomp: read the BPF program");
  }
  if (program.size() > BPF_MAXINSNS) {
    return fail("linux.seccomp: the program has " + std::to_string(program.size()) +
                " instructions, more than the kernel's " + std::to_string(BPF_MAXINSNS));
  }
  return program;
}

}  // namespace

Result<SeccompProgram> build_seccomp_program(const spec::Seccomp& s) {
  namespace names = spec::names;
  if (!names::known(names::seccomp_actions(), s.defaultAction)) {
    return fail("linux.seccomp.defaultAction: unknown seccomp action \"" + s.defaultAction + "\"");
  }
  const uint32_t default_action = action_value(s.defaultAction, s.defaultErrnoRet);
  Context ctx(seccomp_init(default_action), &seccomp_release);
  if (!ctx) return fail("linux.seccomp: libseccomp refused default action " + s.defaultAction);

  std::vector<uint32_t> arch_tokens;
  for (const auto& arch : s.architectures.value_or(spec::Strings{})) {
    auto token = arch_token(arch);
    if (!token) return std::unexpected(token.error());
    const int rc = seccomp_arch_add(ctx.get(), *token);
    if (rc < 0 && rc != -EEXIST) return fail_errno("linux.seccomp: add architecture " + arch, -rc);
    arch_tokens.push_back(*token);
  }

  SeccompProgram out;
  for (const auto& flag : s.flags.value_or(spec::Strings{})) {
    const auto value = names::find(names::seccomp_flags(), flag);
    if (!value) return fail("linux.seccomp.flags: unknown seccomp flag \"" + flag + "\"");
    out.flags |= static_cast<unsigned>(*value);
  }

  const auto& syscalls = s.syscalls.value_or(std::vector<spec::SeccompSyscall>{});
  for (size_t i = 0; i < syscalls.size(); ++i) {
    const auto& sc = syscalls[i];
    const std::string at = "linux.seccomp.syscalls[" + std::to_string(i) + "]";
    if (!names::known(names::seccomp_actions(), sc.action)) {
      return fail(at + ".action: unknown seccomp action \"" + sc.action + "\"");
    }
    const uint32_t action = action_value(sc.action, sc.errnoRet);
    if (action == default_action) continue;
    if (sc.action == "SCMP_ACT_NOTIFY") out.listener = true;

    std::vector<scmp_arg_cmp> conditions;
    std::map<uint32_t, int> per_index;
    for (const auto& arg : sc.args.value_or(std::vector<spec::SeccompArg>{})) {
      const auto op = names::find(names::seccomp_operators(), arg.op);
      if (!op || arg.index > 5)
        return fail(at + ".args: invalid condition on argument " + std::to_string(arg.index));
      conditions.push_back(scmp_arg_cmp{arg.index, static_cast<scmp_compare>(*op), arg.value,
                                        arg.valueTwo.value_or(0)});
      ++per_index[arg.index];
    }
    // Conditions on distinct arguments must all hold (one rule); several conditions on the same
    // argument are alternatives (a rule each), which is how runc reads a profile.
    const bool alternatives =
        std::ranges::any_of(per_index, [](const auto& kv) { return kv.second > 1; });
    for (const auto& name : sc.names) {
      const int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) continue;  // unknown to libseccomp: skipped like runc
      auto add = [&](const scmp_arg_cmp* conds, unsigned count) -> Result<void> {
        const int rc = seccomp_rule_add_array(ctx.get(), action, nr, count, conds);
        if (rc < 0) return fail_errno(at + ": add rule for \"" + name + "\"", -rc);
        return {};
      };
      if (alternatives) {
        for (const auto& cond : conditions) {
          if (auto ok = add(&cond, 1); !ok) return std::unexpected(ok.error());
        }
      } else if (auto ok = add(conditions.data(), static_cast<unsigned>(conditions.size())); !ok) {
        return std::unexpected(ok.error());
      }
    }
  }
  // TSYNC cannot be combined with a listener; init is single-threaded, so it changes nothing.
  if (out.listener) out.flags &= ~static_cast<unsigned>(SECCOMP_FILTER_FLAG_TSYNC);
  auto program = export_program(ctx.get());
  if (!program) return std::unexpected(program.error());
  auto stub = enosys_stub(s, arch_tokens);
  if (!stub) return std::unexpected(stub.error());
  out.filter = std::move(*stub);
  out.filter.insert(out.filter.end(), program->begin(), program->end());
  if (out.filter.size() > BPF_MAXINSNS) {
    return fail("linux.seccomp: the program has " + std::to_string(out.filter.size()) +
                " instructions, more than the kernel's " + std::to_string(BPF_MAXINSNS));
  }
  return out;
}

}  // namespace hippo::os
