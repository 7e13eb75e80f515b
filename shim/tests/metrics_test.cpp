#include "shim/metrics.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"
#include "shim/proto_util.hpp"

namespace hippo::shim {
namespace {

cgroups::Stats sample() {
  cgroups::Stats st;
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
  auto d = unpack<Io__Containerd__Cgroups__V1__Metrics>(io__containerd__cgroups__v1__metrics__descriptor, m.bytes);
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
  auto d = unpack<Io__Containerd__Cgroups__V2__Metrics>(io__containerd__cgroups__v2__metrics__descriptor, m.bytes);
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->memory && d->cpu && d->pids && d->memory_events);
  EXPECT_EQ(d->memory->usage, 1000u);
  EXPECT_EQ(d->memory->usage_limit, 67108864u);
  EXPECT_EQ(d->memory->max_usage, 2000u);
  EXPECT_EQ(d->cpu->usage_usec, 5000u);
  EXPECT_EQ(d->pids->current, 4u);
  EXPECT_EQ(d->memory_events->oom_kill, 2u);
}

TEST(Metrics, HostVersionMatchesTheCgroupMount) {
  // This host is v1/hybrid (/sys/fs/cgroup a tmpfs of v1 mounts); the v2 VM lane sees v2.
  const bool unified = ::access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
  EXPECT_EQ(host_metrics_version(), unified ? MetricsVersion::v2 : MetricsVersion::v1);
}

}  // namespace
}  // namespace hippo::shim
