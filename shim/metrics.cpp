#include "shim/metrics.hpp"

#include <string_view>
#include <vector>

#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"
#include "runtime/features.hpp"
#include "shim/proto_util.hpp"

namespace hippo::shim {
namespace {

uint64_t stat_of(const spec::Stats& st, std::string_view key) {
  const auto it = st.memory.stat.find(key);
  return it == st.memory.stat.end() ? 0 : it->second;
}

// memory.stat keys by the Metrics field that carries them (CRI reads total_rss, total_pg_fault,
// total_inactive_file on v1; anon, pgfault, inactive_file on v2).
template <class Stat>
struct StatField {
  std::string_view key;
  uint64_t Stat::*field;
};

using V1Stat = Io__Containerd__Cgroups__V1__MemoryStat;
constexpr StatField<V1Stat> kV1Memory[] = {
    {"cache", &V1Stat::cache},
    {"rss", &V1Stat::rss},
    {"rss_huge", &V1Stat::rss_huge},
    {"mapped_file", &V1Stat::mapped_file},
    {"dirty", &V1Stat::dirty},
    {"writeback", &V1Stat::writeback},
    {"pgpgin", &V1Stat::pg_pg_in},
    {"pgpgout", &V1Stat::pg_pg_out},
    {"pgfault", &V1Stat::pg_fault},
    {"pgmajfault", &V1Stat::pg_maj_fault},
    {"inactive_anon", &V1Stat::inactive_anon},
    {"active_anon", &V1Stat::active_anon},
    {"inactive_file", &V1Stat::inactive_file},
    {"active_file", &V1Stat::active_file},
    {"unevictable", &V1Stat::unevictable},
    {"hierarchical_memory_limit", &V1Stat::hierarchical_memory_limit},
    {"hierarchical_memsw_limit", &V1Stat::hierarchical_swap_limit},
    {"total_cache", &V1Stat::total_cache},
    {"total_rss", &V1Stat::total_rss},
    {"total_rss_huge", &V1Stat::total_rss_huge},
    {"total_mapped_file", &V1Stat::total_mapped_file},
    {"total_dirty", &V1Stat::total_dirty},
    {"total_writeback", &V1Stat::total_writeback},
    {"total_pgpgin", &V1Stat::total_pg_pg_in},
    {"total_pgpgout", &V1Stat::total_pg_pg_out},
    {"total_pgfault", &V1Stat::total_pg_fault},
    {"total_pgmajfault", &V1Stat::total_pg_maj_fault},
    {"total_inactive_anon", &V1Stat::total_inactive_anon},
    {"total_active_anon", &V1Stat::total_active_anon},
    {"total_inactive_file", &V1Stat::total_inactive_file},
    {"total_active_file", &V1Stat::total_active_file},
    {"total_unevictable", &V1Stat::total_unevictable},
};

using V2Stat = Io__Containerd__Cgroups__V2__MemoryStat;
constexpr StatField<V2Stat> kV2Memory[] = {
    {"anon", &V2Stat::anon},
    {"file", &V2Stat::file},
    {"kernel_stack", &V2Stat::kernel_stack},
    {"slab", &V2Stat::slab},
    {"sock", &V2Stat::sock},
    {"shmem", &V2Stat::shmem},
    {"file_mapped", &V2Stat::file_mapped},
    {"file_dirty", &V2Stat::file_dirty},
    {"file_writeback", &V2Stat::file_writeback},
    {"anon_thp", &V2Stat::anon_thp},
    {"inactive_anon", &V2Stat::inactive_anon},
    {"active_anon", &V2Stat::active_anon},
    {"inactive_file", &V2Stat::inactive_file},
    {"active_file", &V2Stat::active_file},
    {"unevictable", &V2Stat::unevictable},
    {"slab_reclaimable", &V2Stat::slab_reclaimable},
    {"slab_unreclaimable", &V2Stat::slab_unreclaimable},
    {"pgfault", &V2Stat::pgfault},
    {"pgmajfault", &V2Stat::pgmajfault},
    {"workingset_nodereclaim", &V2Stat::workingset_nodereclaim},
    {"pgrefill", &V2Stat::pgrefill},
    {"pgscan", &V2Stat::pgscan},
    {"pgsteal", &V2Stat::pgsteal},
    {"pgactivate", &V2Stat::pgactivate},
    {"pgdeactivate", &V2Stat::pgdeactivate},
    {"pglazyfree", &V2Stat::pglazyfree},
    {"pglazyfreed", &V2Stat::pglazyfreed},
    {"thp_fault_alloc", &V2Stat::thp_fault_alloc},
    {"thp_collapse_alloc", &V2Stat::thp_collapse_alloc},
    {"workingset_refault_anon", &V2Stat::workingset_refault_anon},
    {"workingset_refault_file", &V2Stat::workingset_refault_file},
    {"workingset_activate_anon", &V2Stat::workingset_activate_anon},
    {"workingset_activate_file", &V2Stat::workingset_activate_file},
};

template <class Stat, size_t N>
void fill_memory_stat(Stat& out, const StatField<Stat> (&fields)[N], const spec::Stats& st) {
  for (const auto& f : fields) out.*(f.field) = stat_of(st, f.key);
}

std::string encode_v1(const spec::Stats& st) {
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
  Io__Containerd__Cgroups__V1__MemoryEntry mem_usage =
      IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
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
  fill_memory_stat(memory, kV1Memory, st);
  memory.usage = &mem_usage;
  memory.swap = &swap;
  Io__Containerd__Cgroups__V1__PidsStat pids = IO__CONTAINERD__CGROUPS__V1__PIDS_STAT__INIT;
  pids.current = st.pids_current;
  pids.limit = st.pids_limit;
  Io__Containerd__Cgroups__V1__MemoryOomControl oom =
      IO__CONTAINERD__CGROUPS__V1__MEMORY_OOM_CONTROL__INIT;
  oom.oom_kill = st.memory.oom_kills;
  Io__Containerd__Cgroups__V1__Metrics metrics = IO__CONTAINERD__CGROUPS__V1__METRICS__INIT;
  metrics.cpu = &cpu;
  metrics.memory = &memory;
  metrics.pids = &pids;
  metrics.memory_oom_control = &oom;
  return pack(metrics);
}

std::string encode_v2(const spec::Stats& st) {
  Io__Containerd__Cgroups__V2__CPUStat cpu = IO__CONTAINERD__CGROUPS__V2__CPUSTAT__INIT;
  cpu.usage_usec = st.cpu_usage_ns / 1000;
  cpu.user_usec = st.cpu_user_ns / 1000;
  cpu.system_usec = st.cpu_system_ns / 1000;
  cpu.nr_periods = st.cpu_periods;
  cpu.nr_throttled = st.cpu_throttled_periods;
  cpu.throttled_usec = st.cpu_throttled_ns / 1000;
  Io__Containerd__Cgroups__V2__MemoryStat memory = IO__CONTAINERD__CGROUPS__V2__MEMORY_STAT__INIT;
  fill_memory_stat(memory, kV2Memory, st);
  memory.usage = st.memory.usage;
  memory.usage_limit = st.memory.limit;
  memory.swap_usage = st.memory.swap_usage;
  memory.swap_limit = st.memory.swap_limit;
  memory.max_usage = st.memory.max_usage;
  memory.swap_max_usage = st.memory.swap_max_usage;
  Io__Containerd__Cgroups__V2__PidsStat pids = IO__CONTAINERD__CGROUPS__V2__PIDS_STAT__INIT;
  pids.current = st.pids_current;
  pids.limit = st.pids_limit;
  Io__Containerd__Cgroups__V2__MemoryEvents events =
      IO__CONTAINERD__CGROUPS__V2__MEMORY_EVENTS__INIT;
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
  return runtime::unified_cgroup_host() ? MetricsVersion::v2 : MetricsVersion::v1;
}

EncodedMetrics encode_metrics(const spec::Stats& stats, MetricsVersion version) {
  if (version == MetricsVersion::v2) return {"io.containerd.cgroups.v2.Metrics", encode_v2(stats)};
  return {"io.containerd.cgroups.v1.Metrics", encode_v1(stats)};
}

}  // namespace hippo::shim
