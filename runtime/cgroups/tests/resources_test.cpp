#include "runtime/cgroups/resources.hpp"

#include <gtest/gtest.h>

#include "runtime/cgroups/devices.hpp"
#include "runtime/cgroups/tests/write_printer.hpp"

namespace hippo::cgroups {
namespace {

using W = std::vector<FileWrite>;
constexpr auto kSkip = IfMissing::skip;
constexpr auto kNext = IfMissing::use_next;
constexpr auto kFail = IfMissing::fail;

W v1(const spec::Resources& r) {
  auto w = v1_writes(r);
  EXPECT_TRUE(w) << w.error().message;
  return w ? *w : W{};
}
W v2(const spec::Resources& r) {
  auto w = v2_writes(r);
  EXPECT_TRUE(w) << w.error().message;
  return w ? *w : W{};
}
std::string v1_error(const spec::Resources& r) {
  auto w = v1_writes(r);
  return w ? "no error" : w.error().message;
}
std::string v2_error(const spec::Resources& r) {
  auto w = v2_writes(r);
  return w ? "no error" : w.error().message;
}

spec::Resources with_memory(spec::Memory m) {
  spec::Resources r;
  r.memory = m;
  return r;
}
spec::Resources with_cpu(spec::Cpu c) {
  spec::Resources r;
  r.cpu = c;
  return r;
}

constexpr int64_t MiB = 1024 * 1024;

// ---- v1 ----

TEST(V1Writes, EmptyResourcesWriteNothing) { EXPECT_EQ(v1(spec::Resources{}), W{}); }

TEST(V1Writes, MemoryLimitAloneIsOneWrite) {
  EXPECT_EQ(v1(with_memory({.limit = 64 * MiB})),
            (W{{"memory", "memory.limit_in_bytes", "67108864"}}));
}

TEST(V1Writes, MemoryWithSwapRetriesLimitAfterMemsw) {
  EXPECT_EQ(v1(with_memory({.limit = 64 * MiB, .swap = 128 * MiB})),
            (W{{"memory", "memory.limit_in_bytes", "67108864", kFail, true},
               {"memory", "memory.memsw.limit_in_bytes", "134217728"}}));
}

TEST(V1Writes, UnlimitedMemoryMakesSwapUnlimitedWhereItExists) {
  EXPECT_EQ(v1(with_memory({.limit = -1})),
            (W{{"memory", "memory.limit_in_bytes", "-1", kFail, true},
               {"memory", "memory.memsw.limit_in_bytes", "-1", kSkip}}));
}

TEST(V1Writes, SwapAloneIsWritten) {
  EXPECT_EQ(v1(with_memory({.swap = -1})), (W{{"memory", "memory.memsw.limit_in_bytes", "-1"}}));
}

TEST(V1Writes, ZeroMeansUnsetForMemoryNumbers) {
  EXPECT_EQ(v1(with_memory({.limit = 0, .reservation = 0, .swap = 0})), W{});
}

TEST(V1Writes, MemoryReservationOomAndSwappiness) {
  EXPECT_EQ(v1(with_memory({.reservation = 32 * MiB, .swappiness = 10, .disableOOMKiller = true})),
            (W{{"memory", "memory.soft_limit_in_bytes", "33554432"},
               {"memory", "memory.oom_control", "1"},
               {"memory", "memory.swappiness", "10"}}));
}

TEST(V1Writes, OomKillerLeftOnWritesNothing) {
  EXPECT_EQ(v1(with_memory({.disableOOMKiller = false})), W{});
}

TEST(V1Writes, KernelMemoryIsIgnored) {
  EXPECT_EQ(v1(with_memory({.kernel = 64 * MiB, .kernelTCP = 8 * MiB})), W{});
}

TEST(V1Writes, SwappinessAbove100IsAnError) {
  EXPECT_EQ(v1_error(with_memory({.swappiness = 101})),
            "linux.resources.memory.swappiness: must be 0 to 100, got 101");
}

TEST(V1Writes, CpuPeriodAndBurstGoBeforeQuotaAndMayRetry) {
  EXPECT_EQ(
      v1(with_cpu({.shares = 512, .quota = 50000, .burst = 1000, .period = 100000, .idle = 1})),
      (W{{"cpu", "cpu.shares", "512"},
         {"cpu", "cpu.cfs_period_us", "100000", kFail, true},
         {"cpu", "cpu.cfs_burst_us", "1000", kSkip, true},
         {"cpu", "cpu.cfs_quota_us", "50000"},
         {"cpu", "cpu.idle", "1"}}));
}

TEST(V1Writes, CpuPeriodWithoutQuotaNeedsNoRetry) {
  EXPECT_EQ(v1(with_cpu({.period = 50000})), (W{{"cpu", "cpu.cfs_period_us", "50000"}}));
}

TEST(V1Writes, UnlimitedCpuQuota) {
  EXPECT_EQ(v1(with_cpu({.quota = -1})), (W{{"cpu", "cpu.cfs_quota_us", "-1"}}));
}

TEST(V1Writes, ZeroBurstIsAValue) {
  EXPECT_EQ(v1(with_cpu({.burst = 0})), (W{{"cpu", "cpu.cfs_burst_us", "0", kSkip}}));
}

TEST(V1Writes, RealtimePeriodBeforeRuntime) {
  EXPECT_EQ(v1(with_cpu({.realtimeRuntime = 950000, .realtimePeriod = 1000000})),
            (W{{"cpu", "cpu.rt_period_us", "1000000", kFail, true},
               {"cpu", "cpu.rt_runtime_us", "950000"}}));
}

TEST(V1Writes, CpusetComesFirst) {
  EXPECT_EQ(v1(with_cpu({.shares = 1024, .cpus = "0-1", .mems = "0"})),
            (W{{"cpuset", "cpuset.cpus", "0-1"},
               {"cpuset", "cpuset.mems", "0"},
               {"cpu", "cpu.shares", "1024"}}));
}

TEST(V1Writes, EmptyCpusetStringsAreUnset) {
  EXPECT_EQ(v1(with_cpu({.cpus = "", .mems = ""})), W{});
}

TEST(V1Writes, PidsLimitFollowsRunc) {
  spec::Resources r;
  r.pids = spec::Pids{100};
  EXPECT_EQ(v1(r), (W{{"pids", "pids.max", "100"}}));
  r.pids->limit = -1;
  EXPECT_EQ(v1(r), (W{{"pids", "pids.max", "max"}}));
  r.pids->limit = 0;
  EXPECT_EQ(v1(r), W{});
}

TEST(V1Writes, BlockIoWeightsAndThrottles) {
  spec::Resources r;
  r.blockIO = spec::BlockIO{
      .weight = 500,
      .leafWeight = 300,
      .weightDevice = std::vector<spec::WeightDevice>{{8, 0, 600, 400}, {8, 16, std::nullopt, 200}},
      .throttleReadBpsDevice = std::vector<spec::ThrottleDevice>{{8, 0, 1048576}},
      .throttleWriteBpsDevice = std::vector<spec::ThrottleDevice>{{8, 0, 2097152}},
      .throttleReadIOPSDevice = std::vector<spec::ThrottleDevice>{{8, 0, 100}},
      .throttleWriteIOPSDevice = std::vector<spec::ThrottleDevice>{{8, 16, 200}},
  };
  EXPECT_EQ(v1(r), (W{{"blkio", "blkio.weight", "500", kNext},
                      {"blkio", "blkio.bfq.weight", "500"},
                      {"blkio", "blkio.leaf_weight", "300"},
                      {"blkio", "blkio.weight_device", "8:0 600", kNext},
                      {"blkio", "blkio.bfq.weight_device", "8:0 600"},
                      {"blkio", "blkio.leaf_weight_device", "8:0 400"},
                      {"blkio", "blkio.leaf_weight_device", "8:16 200"},
                      {"blkio", "blkio.throttle.read_bps_device", "8:0 1048576"},
                      {"blkio", "blkio.throttle.write_bps_device", "8:0 2097152"},
                      {"blkio", "blkio.throttle.read_iops_device", "8:0 100"},
                      {"blkio", "blkio.throttle.write_iops_device", "8:16 200"}}));
}

// Each write names the spec field it comes from, for the error of a file the kernel lacks.
std::vector<std::string> fields(const Result<W>& writes) {
  std::vector<std::string> out;
  for (const auto& w : writes.value()) out.push_back(w.field);
  return out;
}

TEST(V1Writes, BlockIoWritesNameTheirSpecFields) {
  spec::Resources r;
  r.blockIO = spec::BlockIO{
      .weight = 500,
      .weightDevice = std::vector<spec::WeightDevice>{{8, 0, 600, 400}},
      .throttleReadBpsDevice = std::vector<spec::ThrottleDevice>{{8, 0, 1048576}},
  };
  const std::string b = "linux.resources.blockIO.";
  EXPECT_EQ(
      fields(v1_writes(r)),
      (std::vector<std::string>{b + "weight", b + "weight", b + "weightDevice[0].weight",
                                b + "weightDevice[0].weight", b + "weightDevice[0].leafWeight",
                                b + "throttleReadBpsDevice[0]"}));
  EXPECT_EQ(
      fields(v2_writes(r)),
      (std::vector<std::string>{b + "weight", b + "weight", b + "weightDevice[0].weight",
                                b + "weightDevice[0].weight", b + "throttleReadBpsDevice[0]"}));
}

TEST(V1Writes, HugepageLimitsWithReservations) {
  spec::Resources r;
  r.hugepageLimits = std::vector<spec::HugepageLimit>{{"2MB", 4194304}, {"1GB", 0}};
  EXPECT_EQ(v1(r), (W{{"hugetlb", "hugetlb.2MB.limit_in_bytes", "4194304"},
                      {"hugetlb", "hugetlb.2MB.rsvd.limit_in_bytes", "4194304", kSkip},
                      {"hugetlb", "hugetlb.1GB.limit_in_bytes", "0"},
                      {"hugetlb", "hugetlb.1GB.rsvd.limit_in_bytes", "0", kSkip}}));
}

TEST(V1Writes, HugepageSizeMustBeAFileNamePart) {
  spec::Resources r;
  r.hugepageLimits = std::vector<spec::HugepageLimit>{{"../2MB", 1}};
  EXPECT_EQ(v1_error(r),
            "linux.resources.hugepageLimits[0].pageSize: invalid page size \"../2MB\" (expected a "
            "size like \"2MB\" or \"1GB\")");
}

TEST(V1Writes, NetworkClassAndPriorities) {
  spec::Resources r;
  r.network =
      spec::Network{.classID = 0x100001,
                    .priorities = std::vector<spec::InterfacePriority>{{"eth0", 5}, {"lo", 1}}};
  EXPECT_EQ(v1(r), (W{{"net_cls", "net_cls.classid", "1048577"},
                      {"net_prio", "net_prio.ifpriomap", "eth0 5"},
                      {"net_prio", "net_prio.ifpriomap", "lo 1"}}));
}

TEST(V1Writes, RdmaLimits) {
  spec::Resources r;
  r.rdma = std::map<std::string, spec::Rdma>{
      {"mlx5_0", {10, 1000}}, {"mlx5_1", {std::nullopt, 5}}, {"mlx5_2", {}}};
  EXPECT_EQ(v1(r), (W{{"rdma", "rdma.max", "mlx5_0 hca_handle=10 hca_object=1000"},
                      {"rdma", "rdma.max", "mlx5_1 hca_object=5"}}));
}

TEST(V1Writes, DevicesDenyAllThenRulesThenDefaults) {
  spec::Resources r;
  r.devices = std::vector<spec::DeviceRule>{
      {.allow = false, .access = "rwm"},
      {.allow = true, .type = "c", .major = 10, .minor = 229, .access = "rw"},
      {.allow = true, .type = "b", .major = 8, .access = "r"},
      {.allow = false, .type = "c", .major = 1, .minor = -1, .access = "m"},
  };
  W expected{{"devices", "devices.deny", "a"},
             {"devices", "devices.deny", "a *:* rwm"},
             {"devices", "devices.allow", "c 10:229 rw"},
             {"devices", "devices.allow", "b 8:* r"},
             {"devices", "devices.deny", "c 1:* m"}};
  for (const auto& d : default_devices()) {
    expected.push_back({"devices", "devices.allow", device_rule_line(d)});
  }
  EXPECT_EQ(v1(r), expected);
}

TEST(V1Writes, EmptyDeviceListStillAppliesTheDefaultPolicy) {
  spec::Resources r;
  r.devices.emplace();
  const auto w = v1(r);
  ASSERT_EQ(w.size(), 1 + default_devices().size());
  EXPECT_EQ(w.front(), (FileWrite{"devices", "devices.deny", "a"}));
  EXPECT_EQ(w[1], (FileWrite{"devices", "devices.allow", "c *:* m"}));
}

TEST(V1Writes, DeviceRuleNeedsAccess) {
  spec::Resources r;
  r.devices = std::vector<spec::DeviceRule>{{.allow = true, .type = "c", .major = 1, .minor = 3}};
  EXPECT_EQ(v1_error(r),
            "linux.resources.devices[0].access: must be letters from \"rwm\", got \"\"");
}

TEST(V1Writes, UnifiedIsAnError) {
  spec::Resources r;
  r.unified = spec::StringMap{{"memory.high", "1G"}};
  EXPECT_EQ(v1_error(r),
            "invalid configuration: linux.resources.unified: cannot use unified on cgroup v1");
  r.unified->clear();
  EXPECT_EQ(v1(r), W{});
}

TEST(V1Writes, SubsystemOrderFollowsRunc) {
  spec::Resources r;
  r.pids = spec::Pids{10};
  r.memory = spec::Memory{.limit = MiB};
  r.cpu = spec::Cpu{.shares = 100, .cpus = "0"};
  r.network = spec::Network{.classID = 1};
  std::vector<std::string> files;
  for (const auto& w : v1(r)) files.push_back(w.file);
  EXPECT_EQ(files, (std::vector<std::string>{"cpuset.cpus", "memory.limit_in_bytes", "cpu.shares",
                                             "pids.max", "net_cls.classid"}));
}

// ---- v2 ----

TEST(V2Writes, EmptyResourcesWriteNothing) { EXPECT_EQ(v2(spec::Resources{}), W{}); }

TEST(V2Writes, MemoryLimitReservationAndSwap) {
  EXPECT_EQ(v2(with_memory({.limit = 64 * MiB, .reservation = 32 * MiB, .swap = 96 * MiB})),
            (W{{"memory", "memory.swap.max", "33554432"},
               {"memory", "memory.max", "67108864"},
               {"memory", "memory.low", "33554432"}}));
}

TEST(V2Writes, SwapEqualToLimitMeansNoSwap) {
  EXPECT_EQ(v2(with_memory({.limit = 64 * MiB, .swap = 64 * MiB})),
            (W{{"memory", "memory.swap.max", "0", kSkip}, {"memory", "memory.max", "67108864"}}));
}

TEST(V2Writes, UnlimitedMemoryIsMaxForBoth) {
  EXPECT_EQ(v2(with_memory({.limit = -1})),
            (W{{"memory", "memory.swap.max", "max", kSkip}, {"memory", "memory.max", "max"}}));
  EXPECT_EQ(v2(with_memory({.limit = 64 * MiB, .swap = -1})),
            (W{{"memory", "memory.swap.max", "max", kSkip}, {"memory", "memory.max", "67108864"}}));
}

TEST(V2Writes, SwapConversionErrors) {
  EXPECT_EQ(
      v2_error(with_memory({.swap = 64 * MiB})),
      "linux.resources.memory.swap: cgroup v2 cannot set a swap limit without a memory limit");
  EXPECT_EQ(v2_error(with_memory({.limit = 64 * MiB, .swap = 32 * MiB})),
            "linux.resources.memory.swap: memory+swap limit 33554432 is below the memory limit "
            "67108864");
}

TEST(V2Writes, SwapLimitConversion) {
  EXPECT_EQ(v2_swap_limit(0, 0).value(), 0);
  EXPECT_EQ(v2_swap_limit(0, -1).value(), -1);
  EXPECT_EQ(v2_swap_limit(-1, 100).value(), -1);
  EXPECT_EQ(v2_swap_limit(300, -1).value(), 300);
  EXPECT_EQ(v2_swap_limit(300, 100).value(), 200);
  EXPECT_EQ(v2_swap_limit(100, 100).value(), 0);
  EXPECT_FALSE(v2_swap_limit(100, 0));
  EXPECT_FALSE(v2_swap_limit(50, 100));
}

TEST(V2Writes, KernelMemoryIsAnError) {
  EXPECT_EQ(v2_error(with_memory({.kernel = MiB})),
            "linux.resources.memory.kernel: cgroup v2 has no separate kernel memory limit");
  EXPECT_EQ(v2_error(with_memory({.kernelTCP = MiB})),
            "linux.resources.memory.kernelTCP: cgroup v2 has no separate kernel memory limit");
  EXPECT_EQ(v2(with_memory({.kernel = 0})), W{});  // 0 is unset
}

TEST(V2Writes, DisablingTheOomKillerIsAnError) {
  EXPECT_EQ(v2_error(with_memory({.disableOOMKiller = true})),
            "linux.resources.memory.disableOOMKiller: cgroup v2 cannot turn off the OOM killer");
  EXPECT_EQ(v2(with_memory({.disableOOMKiller = false})), W{});
}

TEST(V2Writes, SwappinessIsIgnored) { EXPECT_EQ(v2(with_memory({.swappiness = 0})), W{}); }

TEST(V2Writes, DeviceRulesAreNoFileWrite) {
  spec::Resources r;
  r.devices = std::vector<spec::DeviceRule>{{.allow = false, .access = "rwm"}};
  EXPECT_EQ(v2(r), W{});  // the v2 driver attaches them as an eBPF program instead
}

TEST(V2Writes, CpuWeightMaxBurstAndIdle) {
  EXPECT_EQ(
      v2(with_cpu({.shares = 1024, .quota = 50000, .burst = 1000, .period = 200000, .idle = 0})),
      (W{{"cpu", "cpu.idle", "0"},
         {"cpu", "cpu.weight", "39"},
         {"cpu", "cpu.max.burst", "1000", kFail, true},
         {"cpu", "cpu.max", "50000 200000"}}));
}

TEST(V2Writes, CpuMaxHalvesDefaultAsRunc) {
  EXPECT_EQ(v2(with_cpu({.quota = 50000})), (W{{"cpu", "cpu.max", "50000 100000"}}));
  EXPECT_EQ(v2(with_cpu({.quota = -1})), (W{{"cpu", "cpu.max", "max 100000"}}));
  EXPECT_EQ(v2(with_cpu({.period = 20000})), (W{{"cpu", "cpu.max", "max 20000"}}));
  EXPECT_EQ(v2(with_cpu({.burst = 5})), (W{{"cpu", "cpu.max.burst", "5"}}));
}

TEST(V2Writes, RealtimeCpuIsAnError) {
  EXPECT_EQ(v2_error(with_cpu({.realtimeRuntime = 1000})),
            "linux.resources.cpu: cgroup v2 has no real-time CPU budget (realtimeRuntime, "
            "realtimePeriod)");
}

TEST(V2Writes, Cpuset) {
  EXPECT_EQ(v2(with_cpu({.cpus = "1", .mems = "0"})),
            (W{{"cpuset", "cpuset.cpus", "1"}, {"cpuset", "cpuset.mems", "0"}}));
}

TEST(V2Writes, Pids) {
  spec::Resources r;
  r.pids = spec::Pids{-1};
  EXPECT_EQ(v2(r), (W{{"pids", "pids.max", "max"}}));
  r.pids->limit = 64;
  EXPECT_EQ(v2(r), (W{{"pids", "pids.max", "64"}}));
}

TEST(V2Writes, IoPrefersBfqThenConvertedWeight) {
  spec::Resources r;
  r.blockIO = spec::BlockIO{
      .weight = 500,
      .leafWeight = 300,  // v1 only: ignored
      .weightDevice = std::vector<spec::WeightDevice>{{8, 0, 100, std::nullopt}},
      .throttleReadBpsDevice = std::vector<spec::ThrottleDevice>{{8, 0, 1048576}},
      .throttleWriteBpsDevice = std::vector<spec::ThrottleDevice>{{8, 0, 2097152}},
      .throttleReadIOPSDevice = std::vector<spec::ThrottleDevice>{{8, 0, 100}},
      .throttleWriteIOPSDevice = std::vector<spec::ThrottleDevice>{{8, 16, 200}},
  };
  EXPECT_EQ(v2(r), (W{{"io", "io.bfq.weight", "500", kNext},
                      {"io", "io.weight", "4950"},
                      {"io", "io.bfq.weight", "8:0 100", kNext},
                      {"io", "io.weight", "8:0 910"},
                      {"io", "io.max", "8:0 rbps=1048576"},
                      {"io", "io.max", "8:0 wbps=2097152"},
                      {"io", "io.max", "8:0 riops=100"},
                      {"io", "io.max", "8:16 wiops=200"}}));
}

TEST(V2Writes, Hugetlb) {
  spec::Resources r;
  r.hugepageLimits = std::vector<spec::HugepageLimit>{{"2MB", 2097152}};
  EXPECT_EQ(v2(r), (W{{"hugetlb", "hugetlb.2MB.max", "2097152"},
                      {"hugetlb", "hugetlb.2MB.rsvd.max", "2097152", kSkip}}));
}

TEST(V2Writes, NetworkIsAnError) {
  spec::Resources r;
  r.network = spec::Network{.classID = 1};
  EXPECT_EQ(v2_error(r), "linux.resources.network: net_cls and net_prio are cgroup v1 controllers");
  r.network = spec::Network{};
  EXPECT_EQ(v2(r), W{});
}

TEST(V2Writes, UnifiedPassesThroughLastOneLinePerWrite) {
  spec::Resources r;
  r.memory = spec::Memory{.limit = MiB};
  r.unified = spec::StringMap{
      {"memory.max", "2097152"}, {"io.max", "8:0 rbps=1\n8:16 wbps=2\n"}, {"cgroup.freeze", "0"}};
  EXPECT_EQ(v2(r), (W{{"memory", "memory.max", "1048576"},
                      {"cgroup", "cgroup.freeze", "0"},
                      {"io", "io.max", "8:0 rbps=1"},
                      {"io", "io.max", "8:16 wbps=2"},
                      {"memory", "memory.max", "2097152"}}));
}

TEST(V2Writes, UnifiedKeysMustBeFileNames) {
  for (const char* key : {"../cgroup.procs", "memory/../x", "memory..max", "nodot", ".max", ""}) {
    spec::Resources r;
    r.unified = spec::StringMap{{key, "1"}};
    EXPECT_EQ(v2_error(r), std::string("linux.resources.unified[\"") + key +
                               "\"]: must be a cgroup interface file name like \"memory.high\"")
        << key;
  }
}

TEST(V2Writes, OrderFollowsRuncFs2) {
  spec::Resources r;
  r.cpu = spec::Cpu{.shares = 2, .cpus = "0"};
  r.pids = spec::Pids{10};
  r.memory = spec::Memory{.limit = MiB};
  r.blockIO = spec::BlockIO{.weight = 10};
  std::vector<std::string> files;
  for (const auto& w : v2(r)) files.push_back(w.file);
  EXPECT_EQ(files, (std::vector<std::string>{"pids.max", "memory.max", "io.bfq.weight", "io.weight",
                                             "cpu.weight", "cpuset.cpus"}));
}

// ---- conversions ----

TEST(CpuWeight, FromSharesAtTheEdges) {
  EXPECT_EQ(cpu_weight_from_shares(0), 0u);  // unset
  EXPECT_EQ(cpu_weight_from_shares(1), 1u);  // below v1's minimum
  EXPECT_EQ(cpu_weight_from_shares(2), 1u);
  EXPECT_EQ(cpu_weight_from_shares(3), 1u);
  EXPECT_EQ(cpu_weight_from_shares(1024), 39u);  // v1's default
  EXPECT_EQ(cpu_weight_from_shares(262143), 9999u);
  EXPECT_EQ(cpu_weight_from_shares(262144), 10000u);
  EXPECT_EQ(cpu_weight_from_shares(1u << 30), 10000u);
}

TEST(IoWeight, FromBlkioWeightAtTheEdges) {
  EXPECT_EQ(io_weight_from_blkio(0), 0u);
  EXPECT_EQ(io_weight_from_blkio(5), 1u);
  EXPECT_EQ(io_weight_from_blkio(10), 1u);
  EXPECT_EQ(io_weight_from_blkio(100), 910u);
  EXPECT_EQ(io_weight_from_blkio(500), 4950u);
  EXPECT_EQ(io_weight_from_blkio(1000), 10000u);
}

}  // namespace
}  // namespace hippo::cgroups
