#include "runtime/cgroups/device_filter.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"
#include "runtime/cgroups/devices.hpp"

namespace hippo::cgroups {
namespace {

// A rule reduced to what the program compares.
struct Rule {
  uint32_t type = 0;  // BPF_DEVCG_DEV_CHAR / _BLOCK; 0 for any
  int64_t major = kAnyDevice, minor = kAnyDevice;
  uint32_t access = 0;  // BPF_DEVCG_ACC_* bits
  bool allow = false;
};

constexpr uint32_t kAllAccess = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

uint32_t access_bits(std::string_view letters) {
  uint32_t bits = 0;
  for (char c : letters) {
    if (c == 'm') bits |= BPF_DEVCG_ACC_MKNOD;
    if (c == 'r') bits |= BPF_DEVCG_ACC_READ;
    if (c == 'w') bits |= BPF_DEVCG_ACC_WRITE;
  }
  return bits;
}

uint32_t type_code(char type) {
  if (type == 'c') return BPF_DEVCG_DEV_CHAR;
  if (type == 'b') return BPF_DEVCG_DEV_BLOCK;
  return 0;
}

// Registers: r1 the context on entry; r2 its access_type word; r3 the device type; r4 the access
// wanted; r5 major; r6 minor; r1 reused as scratch; r0 the verdict.
constexpr uint8_t kCtx = 1, kScratch = 1, kWord = 2, kType = 3, kAccess = 4, kMajor = 5, kMinor = 6;

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

// One rule as a block that either returns its verdict or falls through to the next block.
std::vector<bpf_insn> rule_block(const Rule& r) {
  // Conditions, each "jump past this block unless it holds"; offsets are patched below.
  std::vector<bpf_insn> b;
  if (r.type != 0) b.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, kType, 0, 0, int32_t(r.type)));
  if (r.access != kAllAccess) {
    b.push_back(insn(BPF_ALU | BPF_MOV | BPF_X, kScratch, kAccess, 0, 0));
    b.push_back(insn(BPF_ALU | BPF_AND | BPF_K, kScratch, 0, 0, int32_t(r.access)));
    // allow: every access wanted is granted by the rule; deny: at least one is refused.
    b.push_back(r.allow ? insn(BPF_JMP | BPF_JNE | BPF_X, kScratch, kAccess, 0, 0)
                        : insn(BPF_JMP | BPF_JEQ | BPF_K, kScratch, 0, 0, 0));
  }
  if (r.major != kAnyDevice) {
    b.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, kMajor, 0, 0, int32_t(r.major)));
  }
  if (r.minor != kAnyDevice) {
    b.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, kMinor, 0, 0, int32_t(r.minor)));
  }
  b.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, r.allow ? 1 : 0));
  b.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  for (size_t i = 0; i + 2 < b.size(); ++i) {
    if (BPF_CLASS(b[i].code) == BPF_JMP) b[i].off = int16_t(b.size() - i - 1);
  }
  return b;
}

bool catches_all(const Rule& r) {
  return r.type == 0 && r.major == kAnyDevice && r.minor == kAnyDevice && r.access == kAllAccess;
}

int bpf(int cmd, bpf_attr& attr) {
  return static_cast<int>(::syscall(SYS_bpf, cmd, &attr, sizeof attr));
}

// The device programs attached to a cgroup itself (not its ancestors'), and whether one of
// them was attached exclusively (flags 0: hippo before nesting; it can only be replaced).
struct Attached {
  std::vector<uint32_t> ids;
  bool exclusive = false;
};
Attached attached_programs(int cgroup_fd) {
  std::array<uint32_t, 64> ids{};
  bpf_attr q{};
  q.query.target_fd = static_cast<uint32_t>(cgroup_fd);
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = reinterpret_cast<uint64_t>(ids.data());
  q.query.prog_cnt = static_cast<uint32_t>(ids.size());
  if (bpf(BPF_PROG_QUERY, q) != 0) return {};
  Attached out;
  out.ids.assign(ids.begin(), ids.begin() + std::min<size_t>(q.query.prog_cnt, ids.size()));
  out.exclusive = !out.ids.empty() && (q.query.attach_flags & BPF_F_ALLOW_MULTI) == 0 &&
                  (q.query.attach_flags & BPF_F_ALLOW_OVERRIDE) == 0;
  return out;
}

}  // namespace

Result<std::vector<bpf_insn>> device_filter_program(
    const std::vector<spec::DeviceRule>& spec_rules) {
  std::vector<Rule> rules;
  for (size_t i = 0; i < spec_rules.size(); ++i) {
    const auto& s = spec_rules[i];
    // The v1 text form checks type and access and names the rule in its error.
    auto line = device_rule_line(s, "linux.resources.devices[" + std::to_string(i) + "]");
    if (!line) return std::unexpected(line.error());
    // Type "a" is every device with every access, whatever its numbers and letters: so the
    // kernel reads it on v1 (a reset to allow-all or deny-all), and runc and the systemd
    // driver alike.
    if (s.type.value_or("a") == "a") {
      rules.push_back({0, kAnyDevice, kAnyDevice, kAllAccess, s.allow});
      continue;
    }
    rules.push_back({type_code((*s.type)[0]), s.major.value_or(kAnyDevice),
                     s.minor.value_or(kAnyDevice), access_bits(*s.access), s.allow});
  }
  for (const auto& d : default_devices()) {
    rules.push_back({type_code(d.type), d.major, d.minor, access_bits(d.access), true});
  }
  std::vector<bpf_insn> p{
      insn(BPF_LDX | BPF_W | BPF_MEM, kWord, kCtx,
           int16_t{offsetof(bpf_cgroup_dev_ctx, access_type)}, 0),
      insn(BPF_ALU | BPF_MOV | BPF_X, kType, kWord, 0, 0),
      insn(BPF_ALU | BPF_AND | BPF_K, kType, 0, 0, 0xffff),
      insn(BPF_ALU | BPF_MOV | BPF_X, kAccess, kWord, 0, 0),
      insn(BPF_ALU | BPF_RSH | BPF_K, kAccess, 0, 0, 16),
      insn(BPF_LDX | BPF_W | BPF_MEM, kMajor, kCtx, int16_t{offsetof(bpf_cgroup_dev_ctx, major)},
           0),
      insn(BPF_LDX | BPF_W | BPF_MEM, kMinor, kCtx, int16_t{offsetof(bpf_cgroup_dev_ctx, minor)},
           0),
  };
  // The last matching rule decides, so the rules are tested last first; nothing before a rule
  // that matches every request can decide anything.
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    auto block = rule_block(*it);
    p.insert(p.end(), block.begin(), block.end());
    if (catches_all(*it)) return p;
  }
  p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0));
  p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  return p;
}

bool run_device_filter(const std::vector<bpf_insn>& program, char type, uint32_t major,
                       uint32_t minor, std::string_view access) {
  const std::array<uint32_t, 3> ctx{(access_bits(access) << 16) | type_code(type), major, minor};
  std::array<uint64_t, 11> reg{};
  for (size_t pc = 0; pc < program.size(); ++pc) {
    const bpf_insn& i = program[pc];
    uint64_t& dst = reg[i.dst_reg];
    const uint64_t src = BPF_SRC(i.code) == BPF_X ? reg[i.src_reg] : uint64_t(int64_t(i.imm));
    switch (BPF_CLASS(i.code)) {
      case BPF_LDX:
        dst = ctx.at(size_t(i.off) / 4);
        break;
      case BPF_ALU:
      case BPF_ALU64: {
        uint64_t v = BPF_OP(i.code) == BPF_MOV   ? src
                     : BPF_OP(i.code) == BPF_AND ? dst & src
                     : BPF_OP(i.code) == BPF_RSH ? dst >> src
                                                 : ~uint64_t{0};
        dst = BPF_CLASS(i.code) == BPF_ALU ? uint32_t(v) : v;
        break;
      }
      case BPF_JMP:
        if (BPF_OP(i.code) == BPF_EXIT) return reg[0] == 1;
        if ((BPF_OP(i.code) == BPF_JNE && dst != src) ||
            (BPF_OP(i.code) == BPF_JEQ && dst == src)) {
          pc += size_t(i.off);
        }
        break;
      default:
        return false;
    }
  }
  return false;
}

Result<void> attach_device_filter(const std::string& dir, const std::vector<bpf_insn>& program) {
  static constexpr char kLicense[] = "Apache-2.0";
  bpf_attr load{};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(program.data());
  load.insn_cnt = static_cast<uint32_t>(program.size());
  load.license = reinterpret_cast<uint64_t>(kLicense);
  os::UniqueFd prog(bpf(BPF_PROG_LOAD, load));
  if (!prog) {
    const int err = errno;
    // The verifier explains a refusal only when asked for a log: load once more for it.
    std::string log(16384, '\0');
    load.log_level = 1;
    load.log_buf = reinterpret_cast<uint64_t>(log.data());
    load.log_size = static_cast<uint32_t>(log.size());
    os::UniqueFd again(bpf(BPF_PROG_LOAD, load));
    log.resize(std::strlen(log.c_str()));
    while (!log.empty() && log.back() == '\n') log.pop_back();
    const auto last = log.rfind('\n');
    return std::unexpected(Error::from_errno(
        err, "load the cgroup v2 device filter for " + dir +
                 (log.empty() ? ""
                              : " (verifier: " +
                                    log.substr(last == std::string::npos ? 0 : last + 1) + ")")));
  }
  os::UniqueFd cgroup(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cgroup) return fail_errno("open " + dir + " for its device filter");
  const auto old = attached_programs(cgroup.get());
  // BPF_F_ALLOW_MULTI (runc's flag): programs below this one may attach their own (an inner
  // runtime's, docs/nesting.md 3.8), and every program on the path must allow an access. An
  // exclusive program would make the kernel refuse any program below it (EPERM).
  bpf_attr attach{};
  attach.target_fd = static_cast<uint32_t>(cgroup.get());
  attach.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = old.exclusive ? 0 : BPF_F_ALLOW_MULTI;  // an older hippo's: replaced
  if (bpf(BPF_PROG_ATTACH, attach) != 0) {
    return fail_errno("attach the device filter to " + dir);
  }
  if (old.exclusive) return {};
  // An update: the new program runs beside the old ones until these detach, so for a moment
  // only what both allow passes; never more than either.
  for (uint32_t id : old.ids) {
    bpf_attr get{};
    get.prog_id = id;
    os::UniqueFd fd(bpf(BPF_PROG_GET_FD_BY_ID, get));
    if (!fd) {
      if (errno == ENOENT) continue;  // already gone
      return fail_errno("open the old device filter " + std::to_string(id) + " of " + dir);
    }
    bpf_attr detach{};
    detach.target_fd = static_cast<uint32_t>(cgroup.get());
    detach.attach_bpf_fd = static_cast<uint32_t>(fd.get());
    detach.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, detach) != 0 && errno != ENOENT) {
      return fail_errno("detach the old device filter " + std::to_string(id) + " from " + dir);
    }
  }
  return {};
}

}  // namespace hippo::cgroups
