#include "shim/metrics.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"
#include "shim/proto_util.hpp"

namespace hippo::shim {
namespace {

spec::Stats sample() {
  spec::Stats st;
  st.memory.usage = 1000;
  st.memory.max_usage = 2000;
  st.memory.limit = 67108864;
  st.memory.failcnt = 3;
  st.memory.oom_kills = 2;
  st.cpu_usage_ns = 5'000'000;
  st.pids_current = 4;
  st.pids_limit = 50;
  return st;
}

TEST(Metrics, V1DecodesAsCgroupsV1Metrics) {
  auto m = encode_metrics(sample(), MetricsVersion::v1);
  EXPECT_EQ(m.type_url, "io.containerd.cgroups.v1.Metrics");
  auto d = unpack<Io__Containerd__Cgroups__V1__Metrics>(
      io__containerd__cgroups__v1__metrics__descriptor, m.bytes);
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->memory && d->memory->usage);
  EXPECT_EQ(d->memory->usage->limit, 67108864u);
  EXPECT_EQ(d->memory->usage->max, 2000u);
  EXPECT_EQ(d->memory->usage->failcnt, 3u);
  EXPECT_EQ(d->cpu->usage->total, 5'000'000u);
  EXPECT_EQ(d->pids->limit, 50u);
  EXPECT_EQ(d->memory_oom_control->oom_kill, 2u);
}

TEST(Metrics, V2DecodesAsCgroupsV2MetricsWithMicroseconds) {
  auto m = encode_metrics(sample(), MetricsVersion::v2);
  EXPECT_EQ(m.type_url, "io.containerd.cgroups.v2.Metrics");
  auto d = unpack<Io__Containerd__Cgroups__V2__Metrics>(
      io__containerd__cgroups__v2__metrics__descriptor, m.bytes);
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->memory && d->cpu && d->pids && d->memory_events);
  EXPECT_EQ(d->memory->usage, 1000u);
  EXPECT_EQ(d->memory->usage_limit, 67108864u);
  EXPECT_EQ(d->memory->max_usage, 2000u);
  EXPECT_EQ(d->cpu->usage_usec, 5000u);
  EXPECT_EQ(d->pids->current, 4u);
  EXPECT_EQ(d->memory_events->oom_kill, 2u);
}

spec::Stats full_sample() {
  spec::Stats st = sample();
  st.cpu_user_ns = 3'000'000;
  st.cpu_system_ns = 2'000'000;
  st.cpu_per_cpu_ns = {4'000'000, 1'000'000};
  st.cpu_periods = 10;
  st.cpu_throttled_periods = 4;
  st.cpu_throttled_ns = 7'000;
  st.memory.swap_usage = 300;
  st.memory.swap_limit = 500;
  st.memory.swap_max_usage = 400;
  st.memory.swap_failcnt = 6;
  st.memory.low_events = 1;
  st.memory.high_events = 2;
  st.memory.oom_events = 5;
  st.memory.stat = {{"cache", 4096},
                    {"rss", 8192},
                    {"anon", 16384},
                    {"file", 32768},
                    {"total_rss", 9000},
                    {"total_pgfault", 41},
                    {"total_pgmajfault", 2},
                    {"pgfault", 40},
                    {"pgmajfault", 1},
                    {"inactive_file", 512},
                    {"hierarchical_memsw_limit", 777}};
  st.io = {{254, 0, 4096, 8192, 1, 2}, {8, 16, 512, 0, 1, 0}};
  return st;
}

TEST(Metrics, V1CarriesSwapThrottlingPerCpuAndMemoryStat) {
  auto m = encode_metrics(full_sample(), MetricsVersion::v1);
  auto d = unpack<Io__Containerd__Cgroups__V1__Metrics>(
      io__containerd__cgroups__v1__metrics__descriptor, m.bytes);
  ASSERT_TRUE(d && d->cpu && d->cpu->usage && d->cpu->throttling && d->memory && d->memory->swap);
  EXPECT_EQ(d->cpu->usage->user, 3'000'000u);
  EXPECT_EQ(d->cpu->usage->kernel, 2'000'000u);
  ASSERT_EQ(d->cpu->usage->n_per_cpu, 2u);
  EXPECT_EQ(d->cpu->usage->per_cpu[0], 4'000'000u);
  EXPECT_EQ(d->cpu->throttling->periods, 10u);
  EXPECT_EQ(d->cpu->throttling->throttled_periods, 4u);
  EXPECT_EQ(d->cpu->throttling->throttled_time, 7'000u);
  EXPECT_EQ(d->memory->cache, 4096u);
  EXPECT_EQ(d->memory->rss, 8192u);
  // what containerd's CRI turns into rss_bytes and page faults
  EXPECT_EQ(d->memory->total_rss, 9000u);
  EXPECT_EQ(d->memory->total_pg_fault, 41u);
  EXPECT_EQ(d->memory->total_pg_maj_fault, 2u);
  EXPECT_EQ(d->memory->pg_fault, 40u);
  EXPECT_EQ(d->memory->hierarchical_swap_limit, 777u);
  EXPECT_EQ(d->memory->swap->usage, 300u);
  EXPECT_EQ(d->memory->swap->limit, 500u);
  EXPECT_EQ(d->memory->swap->max, 400u);
  EXPECT_EQ(d->memory->swap->failcnt, 6u);
}

TEST(Metrics, V2CarriesCpuTimesMemoryEventsAnonFileSwapAndIo) {
  auto m = encode_metrics(full_sample(), MetricsVersion::v2);
  auto d = unpack<Io__Containerd__Cgroups__V2__Metrics>(
      io__containerd__cgroups__v2__metrics__descriptor, m.bytes);
  ASSERT_TRUE(d && d->cpu && d->memory && d->memory_events && d->io);
  EXPECT_EQ(d->cpu->user_usec, 3000u);
  EXPECT_EQ(d->cpu->system_usec, 2000u);
  EXPECT_EQ(d->cpu->nr_periods, 10u);
  EXPECT_EQ(d->cpu->nr_throttled, 4u);
  EXPECT_EQ(d->cpu->throttled_usec, 7u);
  EXPECT_EQ(d->memory->anon, 16384u);
  EXPECT_EQ(d->memory->file, 32768u);
  EXPECT_EQ(d->memory->pgfault, 40u);
  EXPECT_EQ(d->memory->pgmajfault, 1u);
  EXPECT_EQ(d->memory->inactive_file, 512u);
  EXPECT_EQ(d->memory->swap_usage, 300u);
  EXPECT_EQ(d->memory->swap_limit, 500u);
  EXPECT_EQ(d->memory_events->low, 1u);
  EXPECT_EQ(d->memory_events->high, 2u);
  EXPECT_EQ(d->memory_events->max, 3u);
  EXPECT_EQ(d->memory_events->oom, 5u);
  ASSERT_EQ(d->io->n_usage, 2u);
  EXPECT_EQ(d->io->usage[0]->major, 254u);
  EXPECT_EQ(d->io->usage[0]->wbytes, 8192u);
  EXPECT_EQ(d->io->usage[1]->minor, 16u);
  EXPECT_EQ(d->io->usage[1]->rios, 1u);
}

TEST(Metrics, HostVersionMatchesTheCgroupMount) {
  // This host is v1/hybrid (/sys/fs/cgroup a tmpfs of v1 mounts); the v2 VM lane sees v2.
  const bool unified = ::access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
  EXPECT_EQ(host_metrics_version(), unified ? MetricsVersion::v2 : MetricsVersion::v1);
}

}  // namespace
}  // namespace hippo::shim
