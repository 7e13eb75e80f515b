#pragma once
// A container's cgroup, whatever drives it. Small like crun's cgroup manager: create before the
// init is spawned, place the init, change resources in place, freeze/thaw, read pids and stats,
// destroy. Drivers: cgroupfs v1/hybrid and v2 (fs_v1.*, fs_v2.*); systemd comes later.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "oci-spec/error.hpp"
#include "oci-spec/spec.hpp"

namespace hippo::cgroups {

// Where a container's cgroup lives, as the user named it.
struct CgroupConfig {
  std::string path;  // cgroupsPath made absolute, e.g. "/hippo-test/c1"
};

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
  std::vector<IoDeviceStats> io;  // v1 blkio.throttle.io_service*_recursive; v2 io.stat
};

class Manager {
 public:
  virtual ~Manager() = default;
  // Creates the cgroup (all controllers) and applies resources. Nothing is left on failure.
  virtual Result<void> create(const spec::Resources& resources) = 0;
  // Moves pid into the cgroup (every v1 controller / the v2 leaf).
  virtual Result<void> attach(pid_t pid) = 0;
  // Changes resources of the live cgroup in place; only the fields set in `resources`.
  virtual Result<void> update(const spec::Resources& resources) = 0;
  virtual Result<void> freeze() = 0;
  virtual Result<void> thaw() = 0;
  virtual Result<bool> frozen() const = 0;
  virtual Result<std::vector<pid_t>> pids() const = 0;
  virtual Result<Stats> stats() const = 0;
  // Removes the cgroup, retrying EBUSY for a bounded time while its processes exit.
  // Removing a cgroup that does not exist succeeds.
  virtual Result<void> destroy() = 0;
  // The host path of this cgroup for `controller` ("memory", "pids", … on v1; ignored on v2).
  virtual std::string path_of(std::string_view controller) const = 0;
};

// cgroupfs driver for the host's layout: v1/hybrid when /sys/fs/cgroup holds v1 controllers,
// v2 when it is a cgroup2 mount. `root` is the mount root, "/sys/fs/cgroup" except in tests.
std::unique_ptr<Manager> make_fs_manager(const CgroupConfig& config,
                                         const std::string& root = "/sys/fs/cgroup");

}  // namespace hippo::cgroups
