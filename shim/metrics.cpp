#include "shim/metrics.hpp"

#include <string_view>
#include <vector>

#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"
#include "runtime/cgroups/fs_manager.hpp"
#include "shim/proto_util.hpp"

namespace hippo::shim {
namespace {

uint64_t stat_of(const cgroups::Stats& st, std::string_view key) {
  const auto it = st.memory.stat.find(key);
  return it == st.memory.stat.end() ? 0 : it->second;
}

std::string encode_v1(const cgroups::Stats& st) {
  std::vector<uint64_t> per_cpu = st.cpu_per_cpu_ns;
  Io__Containerd__Cgroups__V1__CPUUsage usage = IO__CONTAINERD__CGROUPS__V1__CPUUSAGE__INIT;
  usage.total = st.cpu_usage_ns;
  usage.kernel = st.cpu_system_ns;
  usage.user = st.cpu_user_ns;
  usage.n_per_cpu = per_cpu.size();
  usage.per_cpu = per_cpu.data();
  Io__Containerd__Cgroups__V1__Throttle throttle = IO__CONTAINERD__CGROUPS__V1__THROTTLE__INIT;
  throttle.periods = st.cpu_periods;
  throttle.throttled_periods = st.cpu_throttled_periods;
  throttle.throttled_time = st.cpu_throttled_ns;
  Io__Containerd__Cgroups__V1__CPUStat cpu = IO__CONTAINERD__CGROUPS__V1__CPUSTAT__INIT;
  cpu.usage = &usage;
  cpu.throttling = &throttle;
  Io__Containerd__Cgroups__V1__MemoryEntry mem_usage = IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
  mem_usage.usage = st.memory.usage;
  mem_usage.max = st.memory.max_usage;
  mem_usage.limit = st.memory.limit;
  mem_usage.failcnt = st.memory.failcnt;
  // v1's swap entry is memory+swap (memory.memsw.*), as the Stats carry it on v1.
  Io__Containerd__Cgroups__V1__MemoryEntry swap = IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
  swap.usage = st.memory.swap_usage;
  swap.max = st.memory.swap_max_usage;
  swap.limit = st.memory.swap_limit;
  swap.failcnt = st.memory.swap_failcnt;
  Io__Containerd__Cgroups__V1__MemoryStat memory = IO__CONTAINERD__CGROUPS__V1__MEMORY_STAT__INIT;
  memory.cache = stat_of(st, "cache");
  memory.rss = stat_of(st, "rss");
  memory.total_inactive_file = stat_of(st, "total_inactive_file");
  memory.usage = &mem_usage;
  memory.swap = &swap;
  Io__Containerd__Cgroups__V1__PidsStat pids = IO__CONTAINERD__CGROUPS__V1__PIDS_STAT__INIT;
  pids.current = st.pids_current;
  pids.limit = st.pids_limit;
  Io__Containerd__Cgroups__V1__MemoryOomControl oom = IO__CONTAINERD__CGROUPS__V1__MEMORY_OOM_CONTROL__INIT;
  oom.oom_kill = st.memory.oom_kills;
  Io__Containerd__Cgroups__V1__Metrics metrics = IO__CONTAINERD__CGROUPS__V1__METRICS__INIT;
  metrics.cpu = &cpu;
  metrics.memory = &memory;
  metrics.pids = &pids;
  metrics.memory_oom_control = &oom;
  return pack(metrics);
}

std::string encode_v2(const cgroups::Stats& st) {
  Io__Containerd__Cgroups__V2__CPUStat cpu = IO__CONTAINERD__CGROUPS__V2__CPUSTAT__INIT;
  cpu.usage_usec = st.cpu_usage_ns / 1000;
  cpu.user_usec = st.cpu_user_ns / 1000;
  cpu.system_usec = st.cpu_system_ns / 1000;
  cpu.nr_periods = st.cpu_periods;
  cpu.nr_throttled = st.cpu_throttled_periods;
  cpu.throttled_usec = st.cpu_throttled_ns / 1000;
  Io__Containerd__Cgroups__V2__MemoryStat memory = IO__CONTAINERD__CGROUPS__V2__MEMORY_STAT__INIT;
  memory.anon = stat_of(st, "anon");
  memory.file = stat_of(st, "file");
  memory.usage = st.memory.usage;
  memory.usage_limit = st.memory.limit;
  memory.swap_usage = st.memory.swap_usage;
  memory.swap_limit = st.memory.swap_limit;
  memory.max_usage = st.memory.max_usage;
  Io__Containerd__Cgroups__V2__PidsStat pids = IO__CONTAINERD__CGROUPS__V2__PIDS_STAT__INIT;
  pids.current = st.pids_current;
  pids.limit = st.pids_limit;
  Io__Containerd__Cgroups__V2__MemoryEvents events = IO__CONTAINERD__CGROUPS__V2__MEMORY_EVENTS__INIT;
  events.low = st.memory.low_events;
  events.high = st.memory.high_events;
  events.max = st.memory.failcnt;
  events.oom = st.memory.oom_events;
  events.oom_kill = st.memory.oom_kills;
  std::vector<Io__Containerd__Cgroups__V2__IOEntry> entries(st.io.size());
  std::vector<Io__Containerd__Cgroups__V2__IOEntry*> entry_ptrs;
  for (size_t i = 0; i < st.io.size(); ++i) {
    auto& e = entries[i];
    e = IO__CONTAINERD__CGROUPS__V2__IOENTRY__INIT;
    e.major = st.io[i].major;
    e.minor = st.io[i].minor;
    e.rbytes = st.io[i].read_bytes;
    e.wbytes = st.io[i].write_bytes;
    e.rios = st.io[i].read_ops;
    e.wios = st.io[i].write_ops;
    entry_ptrs.push_back(&e);
  }
  Io__Containerd__Cgroups__V2__IOStat io = IO__CONTAINERD__CGROUPS__V2__IOSTAT__INIT;
  io.n_usage = entry_ptrs.size();
  io.usage = entry_ptrs.data();
  Io__Containerd__Cgroups__V2__Metrics metrics = IO__CONTAINERD__CGROUPS__V2__METRICS__INIT;
  metrics.cpu = &cpu;
  metrics.memory = &memory;
  metrics.pids = &pids;
  metrics.io = &io;
  metrics.memory_events = &events;
  return pack(metrics);
}

}  // namespace

MetricsVersion host_metrics_version() {
  return cgroups::detect_fs_version("/sys/fs/cgroup") == cgroups::FsVersion::v2 ? MetricsVersion::v2
                                                                                : MetricsVersion::v1;
}

EncodedMetrics encode_metrics(const cgroups::Stats& stats, MetricsVersion version) {
  if (version == MetricsVersion::v2) return {"io.containerd.cgroups.v2.Metrics", encode_v2(stats)};
  return {"io.containerd.cgroups.v1.Metrics", encode_v1(stats)};
}

}  // namespace hippo::shim
