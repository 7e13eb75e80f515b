#pragma once
// Everything the container's init does between clone and execve, prepared in the parent as plain
// data: the child only walks it (no allocation, no locks, only async-signal-safe calls).
// Built from a validated spec by build_init_plan(), which is unit-tested without root.

#include <sys/resource.h>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "oci-spec/spec.hpp"
#include "runtime/linux/seccomp_program.hpp"

namespace hippo::os {

struct MountStep {
  std::string source;  // host path (binds) or the filesystem's source name
  std::string target;  // inside the rootfs, relative: "dev/pts"
  std::string fstype;
  std::string data;
  unsigned long flags = 0;    // for mount(2)
  unsigned long remount = 0;  // binds: flags applied by a MS_REMOUNT|MS_BIND afterwards
  unsigned long propagation = 0;
  uint64_t attr_set = 0, attr_clr = 0;  // mount_setattr(AT_RECURSIVE)
  bool attrs_only = false;  // no mount: only attr_set/attr_clr, on the target and all below it
  bool bind = false;
  bool target_is_file = false;      // a bind of a non-directory needs a file to mount on
  bool ordinary_directory = false;  // proc, sysfs: opened O_NOFOLLOW|O_DIRECTORY, never a symlink
  int tree_fd = -1;  // an idmapped bind: a detached tree (idmapped_mount.hpp) init moves into place
  // A bind in a new user namespace: the source is opened by the host's root in init's mount
  // namespace (mount_sources.hpp) and sent with kMountSource; init keeps the fd it receives in
  // source_fd (of its own copy of the plan) and mounts /proc/self/fd/N.
  bool source_by_host = false;
  int source_fd = -1;
  std::string what;  // "mount proc on /proc", for errors
};

struct DeviceNode {
  std::string path;       // inside the rootfs, relative: "dev/null"
  std::string host_path;  // for binding under a user namespace
  mode_t mode = 0;        // S_IFCHR|0666 …
  dev_t dev = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string what;
};

struct Symlink {
  std::string target;  // "/proc/self/fd"
  std::string path;    // inside the rootfs, relative: "dev/fd"
};

struct FileWrite {
  std::string path;  // absolute in the container, e.g. /proc/sys/net/ipv4/ip_forward
  std::string value;
  std::string what;
};

struct Rlimit {
  int resource = 0;
  rlimit value{};
  std::string what;  // "setrlimit RLIMIT_NOFILE", for errors
};

// The five capability sets as bit masks (bit n = capability n), already limited to what the
// running kernel knows. Applied only when the spec has process.capabilities (as runc does: without
// it the process keeps what its uid gives it).
struct CapabilitySets {
  bool apply = false;
  int last_cap = 0;  // /proc/sys/kernel/cap_last_cap: the bounding drop walks 0..last_cap
  uint64_t bounding = 0, effective = 0, inheritable = 0, permitted = 0, ambient = 0;
};

// Builds the sets from spec names. `last_cap` is the highest capability the kernel knows; names
// above it are left out with a warning (runc does the same), unknown names are an error naming
// the set and the name. Ambient capabilities outside permitted ∩ inheritable cannot be raised
// (the kernel refuses): they are left out.
Result<CapabilitySets> build_capability_sets(const spec::Capabilities& caps, int last_cap,
                                             std::vector<std::string>& warnings);

// The running kernel's highest capability number (40 on Linux 5.9+).
int kernel_last_cap();

// The kernel's struct sched_attr (SCHED_ATTR_SIZE_VER0 layout), for sched_setattr(2).
struct SchedulerAttr {
  uint32_t size = sizeof(SchedulerAttr);
  uint32_t policy = 0;
  uint64_t flags = 0;
  int32_t nice = 0;
  uint32_t priority = 0;
  uint64_t runtime = 0, deadline = 0, period = 0;
};

struct NamespaceJoin {
  int type = 0;  // CLONE_NEW*
  std::string path;
  std::string what;
};

// A hook the container's init runs itself (createContainer, startContainer): fork, the state on
// stdin through a pipe, execve, wait with the timeout.
struct HookRun {
  std::string path;
  std::vector<std::string> argv_storage, env_storage;
  std::vector<char*> argv, envp;  // NULL-terminated views (bind_views)
  std::vector<char*> exec_argv;   // the trampoline's: [marker, path, argv...] (bind_views)
  int timeout_s = 0;              // 0: no timeout
  std::string what;               // "error running hook #0 (createContainer, /usr/bin/x)"
};

struct InitPlan {
  // Namespaces: created by clone3 (clone_flags), joined by path, or unshared after kGo.
  unsigned long clone_flags = 0;
  std::vector<NamespaceJoin> joins;  // user first, then the others (not pid: the parent joins it)
  std::string pid_ns_path;           // joined by the parent before clone (pid_for_children)
  bool unshare_cgroup = false;
  bool new_time_ns = false;      // made by the parent before the clone, offsets written first
  std::string timens_offsets;    // "monotonic 100 5\nboottime -10 0\n"
  std::string uid_map, gid_map;  // written by the parent for a new user namespace

  // Rootfs.
  bool setup_rootfs = false;  // a new mount namespace
  std::string rootfs;         // absolute host path
  unsigned long root_propagation = 0;
  unsigned long rootfs_propagation_after = 0;  // for "shared" variants, applied after pivot
  // With a shared root propagation: the mount holding the rootfs, made private before the
  // rootfs is bound onto itself, so that bind (and every mount made under it) stays out of
  // the host's namespace and pivot_root accepts the new root.
  std::string rootfs_holder;
  bool readonly_root = false;
  bool no_pivot = false;
  std::vector<std::string> no_pivot_detach;  // host proc/sysfs mounts (pseudo_filesystems_outside)
  std::vector<MountStep> mounts;
  bool create_default_devices = false;  // the spec mounts a tmpfs on /dev
  bool bind_devices = false;            // user namespace: mknod is not allowed
  std::vector<DeviceNode> devices;
  std::vector<Symlink> symlinks;
  // tmpfs mounts and /dev asked read-only: mounted writable (what goes below them is still to be
  // made), remounted read-only after the console, before the other paths (runc's finalizeRootfs).
  std::vector<std::string> readonly_remounts;  // container paths: "/dev"
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::vector<FileWrite> sysctls;
  std::optional<std::string> hostname;
  std::optional<std::string> domainname;

  // Process.
  std::vector<Rlimit> rlimits;
  CapabilitySets caps;
  std::optional<SchedulerAttr> scheduler;
  std::optional<int> io_priority;            // ioprio_set(2) value: class << 13 | level
  std::optional<unsigned long> personality;  // personality(2) domain
  // Labels for the next execve, set only where the host runs the LSM (empty: none).
  std::string apparmor_exec;  // "exec <profile>" for attr/apparmor/exec
  std::string selinux_exec;   // the label for attr/exec
  // Loaded last (after the uid change) with no_new_privileges, else before the capabilities
  // are dropped (without no_new_privs, seccomp(2) needs CAP_SYS_ADMIN): runc's order.
  std::optional<SeccompProgram> seccomp;
  std::optional<std::string> oom_score_adj;
  bool no_new_privileges = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additional_gids;
  bool set_groups = true;  // false when a user namespace denies setgroups
  std::optional<mode_t> umask;
  std::string cwd;
  std::vector<std::string> argv_storage, env_storage;
  std::vector<char*> argv, envp;  // NULL-terminated views of the storage
  // The trampoline's argv (exec_trampoline.hpp): [marker, program, argv...]; init writes the
  // program it found into slot 1, its own copy of the plan being the only one it touches.
  std::vector<char*> exec_argv;
  std::vector<std::string> exec_candidates;  // paths to try, in order (PATH lookup)
  // Go's exec.LookPath words, as runc says them (Docker maps "permission denied" to exit 126,
  // "executable file not found" and "no such file or directory" to 127).
  bool exec_path_search = false;    // no '/' in the program: PATH candidates
  std::string exec_not_found;       // a search: `exec: "ls": executable file not found in $PATH`;
                                    // a path: `exec: "/x": stat /x`, then ": <lowercase strerror>"
  std::string exec_not_executable;  // a path: `exec: "/etc/passwd": permission denied`

  // Terminal: init opens a pty in the container's devpts, makes the slave its stdio and
  // controlling terminal, and sends the master over console_fd (runc's console socket protocol).
  bool terminal = false;
  unsigned short console_rows = 0, console_cols = 0;

  int preserve_fds = 0;         // fds 3 .. 3+N-1 stay open across execve (--preserve-fds)
  std::string session_keyring;  // "_ses.<id>": init joins a new session keyring (runc's default)

  // Descriptors the child uses, numbers fixed before clone (all above the preserved ones).
  int stdio_fds[3] = {-1, -1, -1};  // made the container's 0, 1, 2; -1 inherits ours
  int sync_fd = -1;
  int console_fd = -1;
  int exec_fifo_fd = -1;   // O_PATH fd of <state>/exec.fifo, reopened O_WRONLY via /proc
  int trampoline_fd = -1;  // the sealed exec trampoline every program and in-init hook runs through

  // Hooks. Init asks the parent to run prestart/createRuntime once its mounts are done
  // (kHooks), runs createContainer itself before pivot_root and startContainer after the exec
  // fifo, each with the state JSON: head + init's host pid (from kGo) + tail.
  bool parent_hooks = false;
  std::vector<HookRun> create_container_hooks, start_container_hooks;
  std::string state_creating_head, state_created_head, state_tail;

  // Fds the plan names (idmapped trees): owned here, kept open in init until its mounts are done.
  std::vector<std::shared_ptr<UniqueFd>> held_fds;

  // Said to the user by the parent (logged as warnings); the child never reads them.
  std::vector<std::string> warnings;

  // The cgroup2 directory the child is cloned into (CLONE_INTO_CGROUP), or -1. Used by the
  // parent only; the child never sees it. spawn_init sets cloned_into_cgroup once clone3 has
  // returned, before BeforeGo.
  int cgroup_fd = -1;
  bool cloned_into_cgroup = false;
  // Cgroup v1 `tasks` files, opened by the parent: the child writes "0" into each first thing,
  // moving itself (no global lock, no RCU wait: cgroups::Manager::self_join_files), and
  // closes them. At most kMaxCgroupJoins; the parent attaches what they leave out.
  static constexpr size_t kMaxCgroupJoins = 16;
  int cgroup_join_fds[kMaxCgroupJoins] = {};
  size_t cgroup_joins = 0;
  // A nesting container on pure cgroup v2: its leaf's cgroup.procs (L/init), opened by the
  // parent's BeforeGo (after attach: a systemd scope's directory exists only then) and sent to
  // init with kCgroupLeaf. Init writes "0" into it right after unsharing its cgroup namespace
  // (so the namespace's root is L, and L itself holds no process); the kernel checks the
  // opener's credentials and namespace, so this works from inside a user namespace. -1: none.
  // In init, the received fd.
  int cgroup_leaf_fd = -1;
};

// What a config.json mount of type "cgroup" shows: the container's own cgroup, found by create.
struct CgroupMountSources {
  // A pure cgroup v2 host: the mount is a fresh cgroup2 when the container unshares a cgroup
  // namespace (init mounts it after the unshare, so its root is the container's cgroup), else a
  // bind of `v2_dir`, the container's cgroup2 directory.
  bool v2 = false;
  std::string v2_dir;
  // A v1 or hybrid host: a tmpfs holding a bind of the container's directory of each hierarchy,
  // (name in the tmpfs, host directory): ("memory", "/sys/fs/cgroup/memory/c1") …
  std::vector<std::pair<std::string, std::string>> v1;
  // A hybrid host: the container's directory in the cgroup2 hierarchy, shown as `unified` when
  // the mount is writable (an inner runtime places its containers there too).
  std::string unified;
};

struct PlanOptions {
  std::string bundle;  // relative bind sources are resolved against it, as runc does
  bool no_pivot = false;
  CgroupMountSources cgroup;
};

// `rootfs` is the absolute host path of the bundle's rootfs.
Result<InitPlan> build_init_plan(const spec::Spec& spec, const std::string& rootfs,
                                 const PlanOptions& options);

// A process joining a running container (exec): the namespaces of `init_pid` that differ from
// ours are joined (pid through the parent), no rootfs is set up, `process` says the rest.
// `seccomp` is the container's filter (linux.seccomp of its config.json): exec'd processes get it
// too.
Result<InitPlan> build_exec_plan(const spec::Process& process, pid_t init_pid,
                                 const std::optional<spec::Seccomp>& seccomp = std::nullopt);

// Fills the hook part of the plan. `state_creating` and `state_created` are the OCI state JSON
// with "pid":kStatePidMarker where init's pid goes.
inline constexpr int kStatePidMarker = 2147483647;
Result<void> set_hooks(InitPlan& plan, const spec::Hooks& hooks, const std::string& state_creating,
                       const std::string& state_created);

// Points argv/envp at the storage strings. Call once the plan sits where the clone will read it
// (moving a plan moves short strings' bytes, so the views are made last).
void bind_views(InitPlan& plan);

}  // namespace hippo::os
