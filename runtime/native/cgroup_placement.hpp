#pragma once
// Where the native backend puts a container's cgroup: the driver it is created with (cgroupfs
// or systemd), found again later from the stored record.

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "oci-spec/spec.hpp"
#include "runtime/cgroups/driver.hpp"
#include "runtime/cgroups/manager.hpp"
#include "runtime/linux/init_plan.hpp"
#include "runtime/state_store.hpp"

namespace hippo::runtime::native {

// v1 controllers a "cgroup" mount shows inside the container, each under its own name.
inline constexpr const char* kV1Hierarchies[] = {
    "blkio",  "cpu",     "cpuacct",  "cpuset",     "devices", "freezer", "hugetlb",
    "memory", "net_cls", "net_prio", "perf_event", "pids",    "rdma",    "misc"};

// The container's cgroup by the driver it is created with, and what later commands need to
// find it again (stored in state.json).
struct PlacedCgroup {
  std::unique_ptr<cgroups::Manager> manager;
  std::string path;                         // StoredState::cgroup_path
  std::optional<std::string> systemd_unit;  // StoredState::systemd_unit

  // How errors name it: "unit <name>" or "cgroup <dir>".
  std::string shown() const;
};

Result<PlacedCgroup> cgroup_for(const spec::Spec& s, const std::string& id, cgroups::Driver wanted,
                                const std::string& default_slice);

// The cgroup a stored record names.
std::unique_ptr<cgroups::Manager> stored_cgroup(const StoredState& st);

// The container's cgroup2 directory (the v2 leaf; the unified one of a hybrid host) for
// CLONE_INTO_CGROUP; none on a host without cgroup2. Failing to open it only costs the attach.
os::UniqueFd open_cgroup2_dir(const cgroups::Manager& cgroup);

// The v1 cgroup files a new process joins by itself (cgroups::Manager::self_join_files),
// opened for the plan, which names them (cgroup_join_fds). None (the parent attaches, as
// before) when the driver has none, there are too many, or one does not open.
std::vector<os::UniqueFd> open_self_joins(const cgroups::Manager& cgroup, os::InitPlan& plan);

// A nesting container's leaf on a pure cgroup v2 host (docs/nesting.md 3.4): L/init, where its
// init and exec'd processes live so that L may enable controllers for an inner runtime's
// cgroups. "" on v1 or hybrid hosts (their cgroup2 has no controllers to delegate).
inline constexpr const char* kNestingLeaf = "init";
std::string nesting_leaf_dir(const cgroups::Manager& cgroup);

// Enables in L's cgroup.subtree_control every controller L has (cgroup.controllers), once the
// init sits in the leaf. A controller the kernel refuses is a warning naming it.
void enable_nesting_controllers(const cgroups::Manager& cgroup);

// runc's checks of a container's cgroup that exists before its create (the cgroupsPath of a
// pod, or one left behind): a frozen one is refused, as its init would hang there before it
// could report; processes in it only get a warning, as in runc 1.1. Returns whether it held no
// process (create's Undo empties only such a cgroup).
Result<bool> check_cgroup_before_create(const cgroups::Manager& cg);

// Where an exec'd process goes (exec --cgroup): into the container's cgroup (`container`), then
// into `sub_dirs`, existing cgroups below it. `clone_into` is the cgroup2 directory for
// CLONE_INTO_CGROUP ("" for none). On a pure cgroup v2 host a sub-cgroup replaces the
// container's (the no-internal-process rule may forbid joining a cgroup with children).
struct ExecPlacement {
  bool container = true;
  std::vector<std::string> sub_dirs;
  std::string clone_into;
};

// `sub_cgroups` as ExecOptions holds it: by controller, "" for all. A path that leaves the
// container's cgroup, a controller the host lacks or a sub-cgroup that does not exist is an
// error naming it.
Result<ExecPlacement> exec_placement(const cgroups::Manager& cg,
                                     const std::map<std::string, std::string>& sub_cgroups);

// Moves pid to where `placement` says.
Result<void> join_exec_cgroups(cgroups::Manager& cg, const ExecPlacement& placement, pid_t pid);

// Every process in the container's cgroup, in any of its hierarchies: a create killed while
// it attached the init may have left it in some v1 hierarchies only.
std::vector<pid_t> cgroup_processes(const cgroups::Manager& cg);

}  // namespace hippo::runtime::native
