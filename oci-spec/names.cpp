#include "oci-spec/names.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>

namespace hippo::spec::names {
namespace {

#ifndef CLONE_NEWTIME
constexpr long CLONE_NEWTIME = 0x00000080;  // Linux 5.6; older glibc headers lack it.
#endif
#ifndef SCHED_DEADLINE
constexpr long SCHED_DEADLINE = 6;
#endif

constexpr Entry kNamespaces[] = {
    {"pid", CLONE_NEWPID},       {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
    {"ipc", CLONE_NEWIPC},       {"uts", CLONE_NEWUTS},     {"user", CLONE_NEWUSER},
    {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

// Numbers from linux/capability.h; the table holds them so we do not depend on header age.
constexpr Entry kCapabilities[] = {
    {"CAP_CHOWN", 0},
    {"CAP_DAC_OVERRIDE", 1},
    {"CAP_DAC_READ_SEARCH", 2},
    {"CAP_FOWNER", 3},
    {"CAP_FSETID", 4},
    {"CAP_KILL", 5},
    {"CAP_SETGID", 6},
    {"CAP_SETUID", 7},
    {"CAP_SETPCAP", 8},
    {"CAP_LINUX_IMMUTABLE", 9},
    {"CAP_NET_BIND_SERVICE", 10},
    {"CAP_NET_BROADCAST", 11},
    {"CAP_NET_ADMIN", 12},
    {"CAP_NET_RAW", 13},
    {"CAP_IPC_LOCK", 14},
    {"CAP_IPC_OWNER", 15},
    {"CAP_SYS_MODULE", 16},
    {"CAP_SYS_RAWIO", 17},
    {"CAP_SYS_CHROOT", 18},
    {"CAP_SYS_PTRACE", 19},
    {"CAP_SYS_PACCT", 20},
    {"CAP_SYS_ADMIN", 21},
    {"CAP_SYS_BOOT", 22},
    {"CAP_SYS_NICE", 23},
    {"CAP_SYS_RESOURCE", 24},
    {"CAP_SYS_TIME", 25},
    {"CAP_SYS_TTY_CONFIG", 26},
    {"CAP_MKNOD", 27},
    {"CAP_LEASE", 28},
    {"CAP_AUDIT_WRITE", 29},
    {"CAP_AUDIT_CONTROL", 30},
    {"CAP_SETFCAP", 31},
    {"CAP_MAC_OVERRIDE", 32},
    {"CAP_MAC_ADMIN", 33},
    {"CAP_SYSLOG", 34},
    {"CAP_WAKE_ALARM", 35},
    {"CAP_BLOCK_SUSPEND", 36},
    {"CAP_AUDIT_READ", 37},
    {"CAP_PERFMON", 38},
    {"CAP_BPF", 39},
    {"CAP_CHECKPOINT_RESTORE", 40},
};

constexpr Entry kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

// The seccomp tables hold spec names; the seccomp module maps them to libseccomp values.
constexpr Entry kSeccompActions[] = {
    {"SCMP_ACT_KILL", 0},  {"SCMP_ACT_KILL_PROCESS", 1}, {"SCMP_ACT_KILL_THREAD", 2},
    {"SCMP_ACT_TRAP", 3},  {"SCMP_ACT_ERRNO", 4},        {"SCMP_ACT_TRACE", 5},
    {"SCMP_ACT_ALLOW", 6}, {"SCMP_ACT_LOG", 7},          {"SCMP_ACT_NOTIFY", 8},
};

constexpr Entry kSeccompArchs[] = {
    {"SCMP_ARCH_X86", 0},      {"SCMP_ARCH_X86_64", 1},       {"SCMP_ARCH_X32", 2},
    {"SCMP_ARCH_ARM", 3},      {"SCMP_ARCH_AARCH64", 4},      {"SCMP_ARCH_MIPS", 5},
    {"SCMP_ARCH_MIPS64", 6},   {"SCMP_ARCH_MIPS64N32", 7},    {"SCMP_ARCH_MIPSEL", 8},
    {"SCMP_ARCH_MIPSEL64", 9}, {"SCMP_ARCH_MIPSEL64N32", 10}, {"SCMP_ARCH_PPC", 11},
    {"SCMP_ARCH_PPC64", 12},   {"SCMP_ARCH_PPC64LE", 13},     {"SCMP_ARCH_S390", 14},
    {"SCMP_ARCH_S390X", 15},   {"SCMP_ARCH_PARISC", 16},      {"SCMP_ARCH_PARISC64", 17},
    {"SCMP_ARCH_RISCV64", 18},
};

// Values from linux/seccomp.h.
constexpr Entry kSeccompFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", 1L << 0},
    {"SECCOMP_FILTER_FLAG_LOG", 1L << 1},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", 1L << 2},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1L << 5},
};

constexpr Entry kSeccompOperators[] = {
    {"SCMP_CMP_NE", 1}, {"SCMP_CMP_LT", 2}, {"SCMP_CMP_LE", 3},        {"SCMP_CMP_EQ", 4},
    {"SCMP_CMP_GE", 5}, {"SCMP_CMP_GT", 6}, {"SCMP_CMP_MASKED_EQ", 7},
};

constexpr Entry kSchedulerPolicies[] = {
    {"SCHED_OTHER", SCHED_OTHER},       {"SCHED_FIFO", SCHED_FIFO}, {"SCHED_RR", SCHED_RR},
    {"SCHED_BATCH", SCHED_BATCH},       {"SCHED_ISO", 4},           {"SCHED_IDLE", SCHED_IDLE},
    {"SCHED_DEADLINE", SCHED_DEADLINE},
};

// Values from linux/sched.h (sched_attr.sched_flags).
constexpr Entry kSchedulerFlags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", 0x01},  {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},     {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};

// Values from linux/ioprio.h.
constexpr Entry kIoprioClasses[] = {
    {"IOPRIO_CLASS_RT", 1},
    {"IOPRIO_CLASS_BE", 2},
    {"IOPRIO_CLASS_IDLE", 3},
};

constexpr Entry kPersonalityDomains[] = {
    {"LINUX", PER_LINUX},
    {"LINUX32", PER_LINUX32},
};

constexpr Entry kRootfsPropagations[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

constexpr Entry kTimeClocks[] = {
    {"monotonic", CLOCK_MONOTONIC},
    {"boottime", CLOCK_BOOTTIME},
};

constexpr Entry kHookKinds[] = {
    {"prestart", 0},       {"createRuntime", 1}, {"createContainer", 2},
    {"startContainer", 3}, {"poststart", 4},     {"poststop", 5},
};

constexpr Entry kMountOptions[] = {
    {"acl", 0},
    {"async", 0},
    {"atime", 0},
    {"bind", 0},
    {"defaults", 0},
    {"dev", 0},
    {"diratime", 0},
    {"dirsync", 0},
    {"exec", 0},
    {"idmap", 0},
    {"iversion", 0},
    {"lazytime", 0},
    {"loud", 0},
    {"mand", 0},
    {"noacl", 0},
    {"noatime", 0},
    {"nodev", 0},
    {"nodiratime", 0},
    {"noexec", 0},
    {"noiversion", 0},
    {"nolazytime", 0},
    {"nomand", 0},
    {"norelatime", 0},
    {"nostrictatime", 0},
    {"nosuid", 0},
    {"nosymfollow", 0},
    {"private", 0},
    {"ratime", 0},
    {"rbind", 0},
    {"rdev", 0},
    {"rdiratime", 0},
    {"relatime", 0},
    {"remount", 0},
    {"rexec", 0},
    {"ridmap", 0},
    {"rnoatime", 0},
    {"rnodev", 0},
    {"rnodiratime", 0},
    {"rnoexec", 0},
    {"rnorelatime", 0},
    {"rnostrictatime", 0},
    {"rnosuid", 0},
    {"rnosymfollow", 0},
    {"ro", 0},
    {"rprivate", 0},
    {"rrelatime", 0},
    {"rro", 0},
    {"rrw", 0},
    {"rshared", 0},
    {"rslave", 0},
    {"rstrictatime", 0},
    {"rsuid", 0},
    {"rsymfollow", 0},
    {"runbindable", 0},
    {"rw", 0},
    {"shared", 0},
    {"silent", 0},
    {"slave", 0},
    {"strictatime", 0},
    {"suid", 0},
    {"symfollow", 0},
    {"sync", 0},
    {"tmpcopyup", 0},
    {"unbindable", 0},
};

}  // namespace

std::span<const Entry> namespaces() { return kNamespaces; }
std::span<const Entry> capabilities() { return kCapabilities; }
std::span<const Entry> rlimits() { return kRlimits; }
std::span<const Entry> seccomp_actions() { return kSeccompActions; }
std::span<const Entry> seccomp_archs() { return kSeccompArchs; }
std::span<const Entry> seccomp_flags() { return kSeccompFlags; }
std::span<const Entry> seccomp_operators() { return kSeccompOperators; }
std::span<const Entry> scheduler_policies() { return kSchedulerPolicies; }
std::span<const Entry> scheduler_flags() { return kSchedulerFlags; }
std::span<const Entry> ioprio_classes() { return kIoprioClasses; }
std::span<const Entry> personality_domains() { return kPersonalityDomains; }
std::span<const Entry> rootfs_propagations() { return kRootfsPropagations; }
std::span<const Entry> time_clocks() { return kTimeClocks; }
std::span<const Entry> hook_kinds() { return kHookKinds; }
std::span<const Entry> mount_options() { return kMountOptions; }

std::optional<long> find(std::span<const Entry> table, std::string_view name) {
  auto it = std::ranges::find(table, name, &Entry::name);
  if (it == table.end()) return std::nullopt;
  return it->value;
}

}  // namespace hippo::spec::names
