#pragma once
// A container's resource usage as runc's `events --stats` and containerd's cgroups v1/v2 Metrics
// report it. Not part of the OCI runtime-spec, but the vocabulary every layer above the cgroup
// drivers speaks (backends, CLI, shim), so it lives beside the spec model rather than in
// runtime/cgroups, which only the runtime may see.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace hippo::spec {

// What containerd's cgroups v1 and v2 Metrics carry, filled by either driver from its files.
// A number a kernel does not offer stays 0. Limits read "max" (unlimited) as UINT64_MAX, except
// pids_limit, where 0 means unlimited.
struct MemoryStats {
  uint64_t usage = 0, max_usage = 0, limit = 0, failcnt = 0;  // v2: failcnt = memory.events max
  uint64_t oom_kills = 0;  // v1: memory.oom_control oom_kill; v2: memory.events oom_kill
  // v1: memory+swap (memory.memsw.*), as v1 Metrics' swap entry; v2: swap alone (memory.swap.*).
  uint64_t swap_usage = 0, swap_limit = 0, swap_max_usage = 0, swap_failcnt = 0;
  uint64_t low_events = 0, high_events = 0, oom_events = 0;  // v2 memory.events low/high/oom
  // memory.stat as the kernel names it: v1 cache, rss, total_*…; v2 anon, file, slab…
  std::map<std::string, uint64_t, std::less<>> stat;
};

struct IoDeviceStats {
  uint32_t major = 0, minor = 0;
  uint64_t read_bytes = 0, write_bytes = 0, read_ops = 0, write_ops = 0;
  bool operator==(const IoDeviceStats&) const = default;
};

struct Stats {
  MemoryStats memory;
  uint64_t cpu_usage_ns = 0;
  uint64_t cpu_user_ns = 0, cpu_system_ns = 0;
  std::vector<uint64_t> cpu_per_cpu_ns;  // v1 cpuacct.usage_percpu; v2 has none
  uint64_t cpu_periods = 0, cpu_throttled_periods = 0, cpu_throttled_ns = 0;
  uint64_t pids_current = 0, pids_limit = 0;  // limit 0 means unlimited
  std::vector<IoDeviceStats> io;              // v1 blkio.throttle.io_service*_recursive; v2 io.stat
};

}  // namespace hippo::spec
