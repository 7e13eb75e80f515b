#pragma once
// The closed vocabularies of config.json (namespace types, capability names, rlimits, seccomp
// names …) with the kernel or libseccomp value each stands for. validate() rejects names not
// listed here; the runtime maps names to values through the same tables; features lists them.

#include <optional>
#include <span>
#include <string_view>

namespace hippo::spec::names {

struct Entry {
  std::string_view name;
  long value;
};

std::span<const Entry> namespaces();       // "pid" -> CLONE_NEWPID …
std::span<const Entry> capabilities();     // "CAP_CHOWN" -> 0 …
std::span<const Entry> rlimits();          // "RLIMIT_NOFILE" -> RLIMIT_NOFILE …
std::span<const Entry> seccomp_actions();  // "SCMP_ACT_ERRNO" -> 0 (the spec name only)
std::span<const Entry> seccomp_archs();
std::span<const Entry> seccomp_flags();  // "SECCOMP_FILTER_FLAG_LOG" -> 1<<1 …
std::span<const Entry> seccomp_operators();
std::span<const Entry> scheduler_policies();  // "SCHED_FIFO" -> SCHED_FIFO …
std::span<const Entry> scheduler_flags();
std::span<const Entry> ioprio_classes();       // "IOPRIO_CLASS_BE" -> 2 …
std::span<const Entry> personality_domains();  // "LINUX32" -> PER_LINUX32
std::span<const Entry> rootfs_propagations();  // "rslave" -> MS_SLAVE|MS_REC …
std::span<const Entry> time_clocks();          // "boottime" -> CLOCK_BOOTTIME
std::span<const Entry> hook_kinds();
std::span<const Entry> mount_options();  // option names runc understands (features.json)

std::optional<long> find(std::span<const Entry> table, std::string_view name);
inline bool known(std::span<const Entry> table, std::string_view name) {
  return find(table, name).has_value();
}

}  // namespace hippo::spec::names
