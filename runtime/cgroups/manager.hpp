#pragma once
// A container's cgroup, whatever drives it. Small like crun's cgroup manager: create before the
// init is spawned, place the init, change resources in place, freeze/thaw, read pids and stats,
// destroy, and for nesting kill a whole subtree and delegate it. Drivers: cgroupfs v1/hybrid and
// v2 (fs_v1.*, fs_v2.*) and systemd (systemd_manager.*).

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "oci-spec/spec.hpp"
#include "oci-spec/stats.hpp"

namespace hippo::cgroups {

// Where a container's cgroup lives, as the user named it.
struct CgroupConfig {
  std::string path;  // cgroupsPath made absolute, e.g. "/hippo-test/c1"
};

// The stats vocabulary is shared with the backends, the CLI and the shim (oci-spec/stats.hpp).
using spec::IoDeviceStats;
using spec::MemoryStats;
using spec::Stats;

class Manager {
 public:
  virtual ~Manager() = default;
  // Creates the cgroup (all controllers) and applies resources. Nothing is left on failure.
  virtual Result<void> create(const spec::Resources& resources) = 0;
  // Moves pid into the cgroup (every v1 controller / the v2 leaf).
  virtual Result<void> attach(pid_t pid) = 0;
  // The v1 `tasks` files a new single-threaded process writes "0" into itself, before it runs
  // anything of the container's. Moving the caller's own thread takes no global lock; a pid
  // written to cgroup.procs takes cgroup_threadgroup_rwsem for writing, which waits for an
  // RCU grace period when that lock was idle (up to ~10 ms seen here: the first container
  // start after a quiet spell paid it; docs/performance.md). Empty where the driver has none
  // (v2, systemd): attach() then.
  virtual std::vector<std::string> self_join_files() const { return {}; }
  // attach() for a process that joined self_join_files() itself: what they leave out.
  // `in_unified`: clone3 placed it in the unified hierarchy's cgroup (CLONE_INTO_CGROUP).
  virtual Result<void> attach_rest(pid_t pid, bool in_unified) {
    (void)in_unified;
    return attach(pid);
  }
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
  // destroy() without the walk, for a container whose processes are all gone: rmdir of its
  // cgroup in each hierarchy. True when that removed it; false when something is still in it
  // (or the driver has no such shortcut: systemd stops its unit): kill_all() and destroy() then.
  virtual bool remove_if_empty() { return false; }
  // Kills every process in the cgroup and in every cgroup below it (an inner runtime's, frozen
  // ones too), in every hierarchy, and waits (bounded) until none is left; destroy() then
  // removes the subtree. delegation.cpp; the systemd driver only for a unit it started.
  virtual Result<void> kill_all();
  // Gives the cgroup to a user namespace's root (uid, gid on the host): the directory and the
  // files a delegate may write (cgroup.procs …), in every hierarchy; never a limit file.
  // delegation.cpp; docs/nesting.md 3.3.
  virtual Result<void> delegate(uid_t uid, gid_t gid);
  // The host path of this cgroup for `controller` ("memory", "pids", … on v1; ignored on v2).
  virtual std::string path_of(std::string_view controller) const = 0;
};

// cgroupfs driver for the host's layout: v1/hybrid when /sys/fs/cgroup holds v1 controllers,
// v2 when it is a cgroup2 mount. `root` is the mount root, "/sys/fs/cgroup" except in tests.
std::unique_ptr<Manager> make_fs_manager(const CgroupConfig& config,
                                         const std::string& root = "/sys/fs/cgroup");

}  // namespace hippo::cgroups
