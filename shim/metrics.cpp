#include "shim/metrics.hpp"

#include <sys/statfs.h>

#include <linux/magic.h>

#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"
#include "shim/proto_util.hpp"

namespace hippo::shim {
namespace {

std::string encode_v1(const cgroups::Stats& st) {
  Io__Containerd__Cgroups__V1__CPUUsage usage = IO__CONTAINERD__CGROUPS__V1__CPUUSAGE__INIT;
  usage.total = st.cpu_usage_ns;
  Io__Containerd__Cgroups__V1__CPUStat cpu = IO__CONTAINERD__CGROUPS__V1__CPUSTAT__INIT;
  cpu.usage = &usage;
  Io__Containerd__Cgroups__V1__MemoryEntry mem_usage = IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
  mem_usage.usage = st.memory.usage;
  mem_usage.max = st.memory.max_usage;
  mem_usage.limit = st.memory.limit;
  mem_usage.failcnt = st.memory.failcnt;
  Io__Containerd__Cgroups__V1__MemoryStat memory = IO__CONTAINERD__CGROUPS__V1__MEMORY_STAT__INIT;
  memory.usage = &mem_usage;
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
  Io__Containerd__Cgroups__V2__MemoryStat memory = IO__CONTAINERD__CGROUPS__V2__MEMORY_STAT__INIT;
  memory.usage = st.memory.usage;
  memory.usage_limit = st.memory.limit;
  memory.max_usage = st.memory.max_usage;
  Io__Containerd__Cgroups__V2__PidsStat pids = IO__CONTAINERD__CGROUPS__V2__PIDS_STAT__INIT;
  pids.current = st.pids_current;
  pids.limit = st.pids_limit;
  Io__Containerd__Cgroups__V2__MemoryEvents events = IO__CONTAINERD__CGROUPS__V2__MEMORY_EVENTS__INIT;
  events.oom_kill = st.memory.oom_kills;
  Io__Containerd__Cgroups__V2__Metrics metrics = IO__CONTAINERD__CGROUPS__V2__METRICS__INIT;
  metrics.cpu = &cpu;
  metrics.memory = &memory;
  metrics.pids = &pids;
  metrics.memory_events = &events;
  return pack(metrics);
}

}  // namespace

MetricsVersion host_metrics_version() {
  struct statfs fs{};
  return ::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC ? MetricsVersion::v2
                                                                                  : MetricsVersion::v1;
}

EncodedMetrics encode_metrics(const cgroups::Stats& stats, MetricsVersion version) {
  if (version == MetricsVersion::v2) return {"io.containerd.cgroups.v2.Metrics", encode_v2(stats)};
  return {"io.containerd.cgroups.v1.Metrics", encode_v1(stats)};
}

}  // namespace hippo::shim
