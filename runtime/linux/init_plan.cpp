#include "runtime/linux/init_plan.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <string>
#include <utility>

#include "base/file_io.hpp"
#include "base/mount_options.hpp"
#include "base/mountinfo.hpp"
#include "base/syscalls.hpp"
#include "base/userns.hpp"
#include "oci-spec/names.hpp"
#include "runtime/linux/exec_trampoline.hpp"
#include "runtime/linux/idmapped_mount.hpp"
#include "runtime/linux/lsm.hpp"
#include "runtime/linux/passwd_home.hpp"
#include "runtime/linux/plan_mounts.hpp"

extern char** environ;

namespace hippo::os {
namespace {

#ifndef CLONE_NEWTIME
constexpr int CLONE_NEWTIME = 0x00000080;
#endif

struct DefaultDevice {
  const char* name;
  unsigned major, minor;
};
// The devices every container gets, as runc creates them (runc's AllowedDevices).
constexpr DefaultDevice kDefaultDevices[] = {
    {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

Result<void> add_namespaces(InitPlan& plan, const spec::Linux& linux) {
  bool mount = false;
  for (const auto& ns : linux.namespaces.value_or(std::vector<spec::Namespace>{})) {
    const auto flag = static_cast<int>(*spec::names::find(spec::names::namespaces(), ns.type));
    if (ns.type == "mount") mount = true;
    if (ns.path) {
      if (flag == CLONE_NEWPID) {
        plan.pid_ns_path = *ns.path;
        continue;
      }
      NamespaceJoin join{flag, *ns.path, "join " + ns.type + " namespace " + *ns.path};
      if (flag == CLONE_NEWUSER) {
        plan.joins.insert(plan.joins.begin(), std::move(join));  // owner of the others: first
      } else {
        plan.joins.push_back(std::move(join));
      }
      continue;
    }
    if (flag == CLONE_NEWCGROUP) {
      plan.unshare_cgroup = true;  // after kGo, so its root is the container's cgroup
    } else if (ns.type == "time") {
      plan.new_time_ns = true;
      for (const auto& [clock, offset] :
           linux.timeOffsets.value_or(std::map<std::string, spec::TimeOffset>{})) {
        plan.timens_offsets += clock + " " + std::to_string(offset.secs.value_or(0)) + " " +
                               std::to_string(offset.nanosecs.value_or(0)) + "\n";
      }
    } else {
      plan.clone_flags |= static_cast<unsigned long>(flag);
    }
  }
  if (!mount) {
    return fail("linux.namespaces: hippo needs a mount namespace to set up the container's rootfs");
  }
  plan.setup_rootfs = true;
  auto map_text = [](const std::optional<std::vector<spec::IdMapping>>& maps) {
    std::string text;
    for (const auto& m : maps.value_or(std::vector<spec::IdMapping>{})) {
      text += std::to_string(m.containerID) + " " + std::to_string(m.hostID) + " " +
              std::to_string(m.size) + "\n";
    }
    return text;
  };
  if (plan.clone_flags & CLONE_NEWUSER) {
    plan.uid_map = map_text(linux.uidMappings);
    plan.gid_map = map_text(linux.gidMappings);
  }
  // mknod is refused in a user namespace: the container's own, or the one hippo runs in (a
  // nesting container's); the host's nodes are bound instead, as runc does.
  plan.bind_devices =
      (plan.clone_flags & CLONE_NEWUSER) != 0 ||
      std::ranges::any_of(plan.joins, [](const auto& j) { return j.type == CLONE_NEWUSER; }) ||
      os::running_in_user_namespace();
  return {};
}

void add_devices(InitPlan& plan, const spec::Linux& linux) {
  if (plan.create_default_devices) {
    for (const auto& d : kDefaultDevices) {
      DeviceNode node;
      node.path = std::string("dev/") + d.name;
      node.host_path = std::string("/dev/") + d.name;
      node.mode = S_IFCHR | 0666;
      node.dev = makedev(d.major, d.minor);
      node.what = "create device /dev/" + std::string(d.name);
      plan.devices.push_back(std::move(node));
    }
    plan.symlinks = {{"/proc/self/fd", "dev/fd"},
                     {"/proc/self/fd/0", "dev/stdin"},
                     {"/proc/self/fd/1", "dev/stdout"},
                     {"/proc/self/fd/2", "dev/stderr"}};
    // runc's rule: /dev/core only where the host's kernel has /proc/kcore (CONFIG_PROC_KCORE),
    // never a dangling link.
    struct stat kcore {};
    if (::stat("/proc/kcore", &kcore) == 0) plan.symlinks.push_back({"/proc/kcore", "dev/core"});
    const bool pts =
        std::ranges::any_of(plan.mounts, [](const auto& m) { return m.target == "dev/pts"; });
    if (pts) plan.symlinks.push_back({"pts/ptmx", "dev/ptmx"});
  }
  for (const auto& d : linux.devices.value_or(std::vector<spec::Device>{})) {
    DeviceNode node;
    node.path = relative_to_root(d.path);
    node.host_path = d.path;
    const mode_t kind = d.type == "b" ? S_IFBLK : d.type == "p" ? S_IFIFO : S_IFCHR;
    node.mode = kind | (d.fileMode ? *d.fileMode : 0666);
    node.dev = d.type == "p"
                   ? 0
                   : makedev(static_cast<unsigned>(*d.major), static_cast<unsigned>(*d.minor));
    node.uid = d.uid.value_or(0);
    node.gid = d.gid.value_or(0);
    node.what = "create device " + d.path;
    // A spec device replaces a default one of the same path.
    std::erase_if(plan.devices, [&](const DeviceNode& n) { return n.path == node.path; });
    plan.devices.push_back(std::move(node));
  }
}

// execve's limits (fs/exec.c, bprm_stack_limits): each string at most 32 pages with its NUL;
// all strings (the file name too) plus the pointer arrays within a quarter of RLIMIT_STACK,
// capped at 6 MiB and never below ARG_MAX (128 KiB). Checked for the trampoline's exec, the
// larger of the two (it adds the marker and the program's path), so that create fails with
// E2BIG instead of a container whose start cannot exec.
Result<void> check_exec_size(const InitPlan& plan) {
  constexpr size_t kMaxArgStrlen = 32 * 4096, kArgMax = 32 * 4096, kStackCap = 6UL << 20;
  size_t strings = sizeof kExecTrampolineMarker + sizeof "/dev/fd/2147483647";
  size_t longest_program = 0;
  for (const auto& c : plan.exec_candidates)
    longest_program = std::max(longest_program, c.size() + 1);
  strings += longest_program;
  auto add = [&](const std::vector<std::string>& list, const char* field) -> Result<void> {
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].size() + 1 > kMaxArgStrlen) {
        return std::unexpected(Error{E2BIG, std::string(field) + "[" + std::to_string(i) +
                                                "]: " + std::to_string(list[i].size()) +
                                                " bytes, over execve's limit of " +
                                                std::to_string(kMaxArgStrlen - 1) +
                                                " for one string: Argument list too long"});
      }
      strings += list[i].size() + 1;
    }
    return {};
  };
  if (auto ok = add(plan.argv_storage, "process.args"); !ok) return ok;
  if (auto ok = add(plan.env_storage, "process.env"); !ok) return ok;
  rlimit stack{};
  ::getrlimit(RLIMIT_STACK, &stack);
  for (const auto& r : plan.rlimits) {
    if (r.resource == RLIMIT_STACK) stack = r.value;
  }
  size_t limit =
      stack.rlim_cur == RLIM_INFINITY ? kStackCap : std::min<size_t>(kStackCap, stack.rlim_cur / 4);
  limit = std::max(limit, kArgMax);
  const size_t pointers = (plan.argv_storage.size() + 2 + plan.env_storage.size()) * sizeof(char*);
  if (pointers + strings > limit) {
    return std::unexpected(Error{
        E2BIG, "process.args and process.env: " + std::to_string(pointers + strings) +
                   " bytes with their pointers, over execve's limit of " + std::to_string(limit) +
                   " (a quarter of RLIMIT_STACK): Argument list too long"});
  }
  return {};
}

// `root`: the container's root as the host sees it, where the user's HOME is looked up.
Result<void> add_process(InitPlan& plan, const spec::Process& p, const std::string& root) {
  if (p.capabilities) {
    auto caps = build_capability_sets(*p.capabilities, kernel_last_cap(), plan.warnings);
    if (!caps) return std::unexpected(caps.error());
    plan.caps = *caps;
  }
  for (const auto& r : p.rlimits.value_or(std::vector<spec::Rlimit>{})) {
    Rlimit limit;
    limit.resource = static_cast<int>(*spec::names::find(spec::names::rlimits(), r.type));
    limit.value.rlim_cur = r.soft;
    limit.value.rlim_max = r.hard;
    limit.what = "setrlimit " + r.type;
    plan.rlimits.push_back(limit);
  }
  if (p.oomScoreAdj) plan.oom_score_adj = std::to_string(*p.oomScoreAdj);
  // As runc: an AppArmor profile on a host without AppArmor is ignored; an SELinux label that
  // cannot be applied is an error.
  if (p.apparmorProfile && !p.apparmorProfile->empty() && apparmor_enabled()) {
    plan.apparmor_exec = "exec " + *p.apparmorProfile;
  }
  if (p.selinuxLabel && !p.selinuxLabel->empty()) {
    if (!selinux_enabled()) {
      return fail("process.selinuxLabel: cannot apply \"" + *p.selinuxLabel +
                  "\": SELinux is not enabled on this host");
    }
    plan.selinux_exec = *p.selinuxLabel;
  }
  if (p.scheduler) {
    const auto policy = spec::names::find(spec::names::scheduler_policies(), p.scheduler->policy);
    if (!policy)
      return fail("process.scheduler.policy: unknown policy \"" + p.scheduler->policy + "\"");
    SchedulerAttr a;
    a.policy = static_cast<uint32_t>(*policy);
    for (const auto& f : p.scheduler->flags.value_or(spec::Strings{})) {
      const auto flag = spec::names::find(spec::names::scheduler_flags(), f);
      if (!flag) return fail("process.scheduler.flags: unknown flag \"" + f + "\"");
      a.flags |= static_cast<uint64_t>(*flag);
    }
    a.nice = p.scheduler->nice.value_or(0);
    a.priority = static_cast<uint32_t>(p.scheduler->priority.value_or(0));
    a.runtime = p.scheduler->runtime.value_or(0);
    a.deadline = p.scheduler->deadline.value_or(0);
    a.period = p.scheduler->period.value_or(0);
    plan.scheduler = a;
  }
  if (p.ioPriority) {
    const auto cls = spec::names::find(spec::names::ioprio_classes(), p.ioPriority->ioClass);
    if (!cls)
      return fail("process.ioPriority.class: unknown class \"" + p.ioPriority->ioClass + "\"");
    plan.io_priority = static_cast<int>(*cls << 13) | p.ioPriority->priority.value_or(0);
  }
  plan.no_new_privileges = p.noNewPrivileges.value_or(false);
  plan.uid = p.user.uid;
  plan.gid = p.user.gid;
  for (auto g : p.user.additionalGids.value_or(std::vector<uint32_t>{}))
    plan.additional_gids.push_back(g);
  if (p.user.umask) plan.umask = static_cast<mode_t>(*p.user.umask);
  plan.cwd = p.cwd;
  plan.argv_storage = p.args.value_or(spec::Strings{});
  plan.env_storage = p.env.value_or(spec::Strings{});
  if (auto ok = add_default_home(plan.env_storage, root, p.user.uid); !ok) return ok;

  // PATH lookup like Go's exec.LookPath over the container's own PATH, done inside the rootfs.
  const std::string& program = plan.argv_storage.front();
  if (program.find('/') != std::string::npos) {
    plan.exec_candidates.push_back(program);
  } else {
    // Without a PATH in the container's environment, search where execvp would (crun and
    // glibc do so; ctr --rootfs sets no PATH).
    std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (const auto& kv : plan.env_storage) {
      if (kv.starts_with("PATH=")) path = kv.substr(5);
    }
    size_t start = 0;
    while (!path.empty() && start <= path.size()) {
      size_t colon = path.find(':', start);
      if (colon == std::string::npos) colon = path.size();
      std::string dir = path.substr(start, colon - start);
      if (dir.empty()) dir = ".";
      plan.exec_candidates.push_back(dir + "/" + program);
      start = colon + 1;
    }
  }
  const std::string head = "exec: \"" + program + "\": ";
  plan.exec_path_search = program.find('/') == std::string::npos;
  plan.exec_not_found =
      head + (plan.exec_path_search ? "executable file not found in $PATH" : "stat " + program);
  plan.exec_not_executable = head + "permission denied";
  return check_exec_size(plan);
}

// realpath: mountinfo names mount points without symlinks; a rootfs that does not exist yet is
// only normalized.
std::string real_rootfs(const std::string& rootfs) {
  char real[PATH_MAX];
  return ::realpath(rootfs.c_str(), real) ? std::string(real) : normalize_path(rootfs);
}

// The mount point holding the rootfs in the namespace the container's is copied from (ours).
Result<std::string> rootfs_holder(const std::string& rootfs) {
  auto info = read_text_file("/proc/self/mountinfo");
  if (!info) return std::unexpected(info.error());
  return mount_point_holding(real_rootfs(rootfs), *info);
}

}  // namespace

Result<InitPlan> build_init_plan(const spec::Spec& spec, const std::string& rootfs,
                                 const PlanOptions& options) {
  if (!spec.process) return fail("config.json: process: required to create a container");
  const spec::Linux linux = spec.linux.value_or(spec::Linux{});
  InitPlan plan;
  plan.rootfs = rootfs;
  plan.no_pivot = options.no_pivot;
  if (plan.no_pivot) {
    // Init's mount namespace is a copy of ours: what we see now is what it will detach.
    auto info = read_text_file("/proc/self/mountinfo");
    if (!info) return std::unexpected(info.error());
    plan.no_pivot_detach = pseudo_filesystems_outside(*info, real_rootfs(rootfs));
  }
  if (auto ok = add_namespaces(plan, linux); !ok) return std::unexpected(ok.error());

  // runc's default: the container's mounts receive host events but send none back.
  plan.root_propagation = MS_SLAVE | MS_REC;
  if (linux.rootfsPropagation && !linux.rootfsPropagation->empty()) {
    const auto prop = static_cast<unsigned long>(
        *spec::names::find(spec::names::rootfs_propagations(), *linux.rootfsPropagation));
    plan.root_propagation = prop;
    if (prop & MS_SHARED) {
      // The container's mounts stay peers of the host's, so a mount made in a shared volume
      // reaches the host (a slave would only receive). pivot_root refuses a shared new root:
      // the rootfs is bound from a private mount and goes shared again after the pivot.
      plan.rootfs_propagation_after = prop;
      auto holder = rootfs_holder(rootfs);
      if (!holder) return std::unexpected(holder.error());
      plan.rootfs_holder = *holder;
    }
  }
  plan.readonly_root = spec.root && spec.root->readonly.value_or(false);

  for (const auto& m : spec.mounts.value_or(std::vector<spec::Mount>{})) {
    if (auto ok = add_mount(plan, m, options, linux); !ok) return std::unexpected(ok.error());
  }
  // linux.mountLabel labels the filesystems the container mounts; without SELinux it is
  // ignored (runc's label.FormatMountLabel does the same).
  if (linux.mountLabel && !linux.mountLabel->empty() && selinux_enabled()) {
    for (auto& step : plan.mounts) {
      if (step.bind || (step.flags & MS_REMOUNT) || step.data.find("context=") != std::string::npos)
        continue;
      step.data +=
          (step.data.empty() ? "" : ",") + std::string("context=\"") + *linux.mountLabel + "\"";
    }
  }
  add_devices(plan, linux);
  plan.masked_paths = linux.maskedPaths.value_or(spec::Strings{});
  plan.readonly_paths = linux.readonlyPaths.value_or(spec::Strings{});
  for (const auto& [key, value] : linux.sysctl.value_or(spec::StringMap{})) {
    std::string path = "/proc/sys/" + key;
    std::ranges::replace(path.begin() + 10, path.end(), '.', '/');
    plan.sysctls.push_back({path, value, "sysctl " + key});
  }
  if (spec.hostname && !spec.hostname->empty()) plan.hostname = spec.hostname;
  if (spec.domainname && !spec.domainname->empty()) plan.domainname = spec.domainname;
  plan.terminal = spec.process->terminal.value_or(false);
  if (spec.process->consoleSize) {
    plan.console_rows = static_cast<unsigned short>(spec.process->consoleSize->height);
    plan.console_cols = static_cast<unsigned short>(spec.process->consoleSize->width);
  }
  if (auto ok = add_process(plan, *spec.process, rootfs); !ok) return std::unexpected(ok.error());
  if (linux.personality) {
    const auto domain =
        spec::names::find(spec::names::personality_domains(), linux.personality->domain);
    if (!domain)
      return fail("linux.personality.domain: unknown domain \"" + linux.personality->domain + "\"");
    plan.personality = static_cast<unsigned long>(*domain);
  }
  if (linux.seccomp) {
    auto program = build_seccomp_program(*linux.seccomp);
    if (!program) return std::unexpected(program.error());
    plan.seccomp = std::move(*program);
  }
  return plan;
}

Result<InitPlan> build_exec_plan(const spec::Process& process, pid_t init_pid,
                                 const std::optional<spec::Seccomp>& seccomp) {
  InitPlan plan;
  if (seccomp) {
    auto program = build_seccomp_program(*seccomp);
    if (!program) return std::unexpected(program.error());
    plan.seccomp = std::move(*program);
  }
  const std::string base = "/proc/" + std::to_string(init_pid) + "/ns/";
  // The user namespace first: it owns the others.
  constexpr std::pair<const char*, int> kKinds[] = {
      {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},  {"net", CLONE_NEWNET},
      {"ipc", CLONE_NEWIPC},   {"uts", CLONE_NEWUTS}, {"cgroup", CLONE_NEWCGROUP},
      {"time", CLONE_NEWTIME}};
  auto same = [&](const std::string& kind) {
    struct stat ours {
    }, theirs{};
    if (::stat(("/proc/self/ns/" + kind).c_str(), &ours) != 0) return true;  // kernel lacks it
    if (::stat((base + kind).c_str(), &theirs) != 0) return true;
    return ours.st_ino == theirs.st_ino && ours.st_dev == theirs.st_dev;
  };
  for (const auto& [kind, flag] : kKinds) {
    if (same(kind)) continue;
    plan.joins.push_back(
        {flag, base + kind, "join the container's " + std::string(kind) + " namespace"});
  }
  if (!same("pid")) plan.pid_ns_path = base + "pid";
  plan.bind_devices =
      std::ranges::any_of(plan.joins, [](const auto& j) { return j.type == CLONE_NEWUSER; });
  plan.terminal = process.terminal.value_or(false);
  if (process.consoleSize) {
    plan.console_rows = static_cast<unsigned short>(process.consoleSize->height);
    plan.console_cols = static_cast<unsigned short>(process.consoleSize->width);
  }
  if (!process.args || process.args->empty()) return fail("exec: the process needs args");
  const std::string root = "/proc/" + std::to_string(init_pid) + "/root";
  if (auto ok = add_process(plan, process, root); !ok) return std::unexpected(ok.error());
  return plan;
}

Result<void> set_hooks(InitPlan& plan, const spec::Hooks& hooks, const std::string& state_creating,
                       const std::string& state_created) {
  const std::string marker = "\"pid\":" + std::to_string(kStatePidMarker);
  const auto split = [&](const std::string& json, std::string& head,
                         std::string* tail) -> Result<void> {
    const auto at = json.find(marker);
    if (at == std::string::npos) return fail("hook state: no pid marker");
    head = json.substr(0, at) + "\"pid\":";
    if (tail) *tail = json.substr(at + marker.size());
    return {};
  };
  if (auto ok = split(state_creating, plan.state_creating_head, &plan.state_tail); !ok) return ok;
  std::string tail_created;
  if (auto ok = split(state_created, plan.state_created_head, &tail_created); !ok) return ok;
  if (tail_created != plan.state_tail)
    return fail("hook state: the two states differ past the pid");
  // Init writes the state into a pipe before it forks the hook: it must fit a pipe's buffer.
  if (state_creating.size() + 16 > 65536 || state_created.size() + 16 > 65536) {
    return fail(
        "hooks: the container's state is over 64 KiB (its annotations?): too large for "
        "a hook's stdin");
  }
  plan.parent_hooks = (hooks.prestart && !hooks.prestart->empty()) ||
                      (hooks.createRuntime && !hooks.createRuntime->empty());
  std::vector<std::string> environ_copy;
  for (char** e = environ; e && *e; ++e) environ_copy.emplace_back(*e);
  const auto runs = [&](const char* kind, const std::optional<std::vector<spec::Hook>>& list) {
    std::vector<HookRun> out;
    const auto& hs = list.value_or(std::vector<spec::Hook>{});
    for (size_t i = 0; i < hs.size(); ++i) {
      HookRun r;
      r.path = hs[i].path;
      r.argv_storage = hs[i].args.value_or(spec::Strings{});
      if (r.argv_storage.empty()) r.argv_storage.push_back(r.path);
      // Without "env" a hook inherits the runtime's environment (Go's exec.Cmd does so in runc).
      r.env_storage = hs[i].env ? *hs[i].env : environ_copy;
      // poll(2) takes milliseconds in an int: longer timeouts are as good as none.
      r.timeout_s = static_cast<int>(std::min<int64_t>(hs[i].timeout.value_or(0), 2'000'000));
      // runc's phrase, which tools grep for; the kind and path say which hook it was.
      r.what = "error running hook #" + std::to_string(i) + " (" + kind + ", " + r.path + ")";
      out.push_back(std::move(r));
    }
    return out;
  };
  plan.create_container_hooks = runs("createContainer", hooks.createContainer);
  plan.start_container_hooks = runs("startContainer", hooks.startContainer);
  return {};
}

void bind_views(InitPlan& plan) {
  for (auto* list : {&plan.create_container_hooks, &plan.start_container_hooks}) {
    for (auto& h : *list) {
      h.argv.clear();
      h.envp.clear();
      for (auto& a : h.argv_storage) h.argv.push_back(a.data());
      h.argv.push_back(nullptr);
      for (auto& e : h.env_storage) h.envp.push_back(e.data());
      h.envp.push_back(nullptr);
      h.exec_argv = {const_cast<char*>(kExecTrampolineMarker), h.path.data()};
      h.exec_argv.insert(h.exec_argv.end(), h.argv.begin(), h.argv.end());
    }
  }
  plan.argv.clear();
  plan.envp.clear();
  for (auto& a : plan.argv_storage) plan.argv.push_back(a.data());
  plan.argv.push_back(nullptr);
  for (auto& e : plan.env_storage) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);
  plan.exec_argv = {const_cast<char*>(kExecTrampolineMarker), nullptr};
  plan.exec_argv.insert(plan.exec_argv.end(), plan.argv.begin(), plan.argv.end());
}

}  // namespace hippo::os
