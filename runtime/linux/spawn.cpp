#include "runtime/linux/spawn.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/syscalls.hpp"
#include "runtime/linux/exec_trampoline.hpp"
#include "runtime/linux/init_child.hpp"
#include "runtime/linux/mount_sources.hpp"
#include "runtime/linux/sync_protocol.hpp"

namespace hippo::os {
namespace {

#ifndef CLONE_NEWTIME
constexpr int CLONE_NEWTIME = 0x00000080;
#endif

Result<void> write_proc_file(pid_t pid, const char* name, const std::string& text) {
  const std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return fail_errno("open " + path);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return fail_errno("write " + path);
  }
  return {};
}

void kill_and_reap(const SpawnedInit& child) {
  sys::pidfd_send_signal(child.pidfd.get(), SIGKILL);
  siginfo_t info{};
  ::waitid(P_PIDFD, static_cast<id_t>(child.pidfd.get()), &info, WEXITED);
}

std::string describe_exit(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED) return "exit status " + std::to_string(info.si_status);
  return std::string("signal ") + strsignal(info.si_status);
}

// Joins the pid namespace `path` for our future children only (pid_for_children).
class PidNamespaceForChildren {
 public:
  Result<void> enter(const std::string& path) {
    saved_ = UniqueFd(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
    UniqueFd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!target) return fail_errno("open pid namespace " + path);
    if (::setns(target.get(), CLONE_NEWPID) != 0) return fail_errno("join pid namespace " + path);
    return {};
  }
  ~PidNamespaceForChildren() {
    if (saved_) ::setns(saved_.get(), CLONE_NEWPID);
  }

 private:
  UniqueFd saved_;
};

// A new time namespace for our next child: unshare(CLONE_NEWTIME) affects only children, and
// its offsets can be written only before any process enters it. Restores ours afterwards.
class TimeNamespaceForChildren {
 public:
  Result<void> enter(const std::string& offsets) {
    saved_ = UniqueFd(::open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC));
    if (!saved_) return fail_errno("open /proc/self/ns/time");
    if (::unshare(CLONE_NEWTIME) != 0) return fail_errno("create a time namespace");
    if (!offsets.empty()) {
      UniqueFd fd(::open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC));
      if (!fd || ::write(fd.get(), offsets.data(), offsets.size()) !=
                     static_cast<ssize_t>(offsets.size())) {
        return fail_errno("write time namespace offsets");
      }
    }
    return {};
  }
  ~TimeNamespaceForChildren() {
    if (saved_) ::setns(saved_.get(), CLONE_NEWTIME);
  }

 private:
  UniqueFd saved_;
};

#ifndef CLONE_INTO_CGROUP
constexpr uint64_t CLONE_INTO_CGROUP = 0x200000000ULL;
#endif

// clone3 needs Linux 5.3; clone(2) has CLONE_PIDFD since 5.2 and returns the pidfd through the
// parent_tid argument. With a cgroup fd, clone3's CLONE_INTO_CGROUP (5.7, cgroup v2) makes the
// child in its cgroup: it is never counted in ours (our pids/memory limits) nor runs outside its
// own. A kernel that refuses it (too old, a v1-only fd, a threaded or busy cgroup) gets the plain
// clone; the caller's attach then moves the child as before.
long clone_with_pidfd(unsigned long flags, int* pidfd, int cgroup_fd, bool* into_cgroup) {
  clone_args args{};
  args.flags = CLONE_PIDFD | flags;
  args.pidfd = reinterpret_cast<uint64_t>(pidfd);
  args.exit_signal = SIGCHLD;
  *into_cgroup = false;
  if (cgroup_fd >= 0) {
    clone_args into = args;
    into.flags |= CLONE_INTO_CGROUP;
    into.cgroup = static_cast<uint64_t>(cgroup_fd);
    const long pid = sys::clone3(&into);
    if (pid >= 0) {
      *into_cgroup = pid > 0;
      return pid;
    }
  }
  long pid = sys::clone3(&args);
  if (pid < 0 && errno == ENOSYS) {
    pid = ::syscall(SYS_clone, CLONE_PIDFD | flags | SIGCHLD, nullptr, pidfd, nullptr, 0UL);
  }
  return pid;
}

}  // namespace

Result<SpawnedInit> spawn_init(InitPlan& plan, const BeforeGo& before_go, const OnHooks& on_hooks,
                               const AfterGo& after_go) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return fail_errno("socketpair for init sync");
  }
  UniqueFd parent_end(pair[0]);
  UniqueFd child_end(pair[1]);
  plan.sync_fd = child_end.get();
  auto trampoline = sealed_exec_trampoline();
  if (!trampoline) return std::unexpected(trampoline.error());
  plan.trampoline_fd = trampoline->get();
  // The child keeps fds 3 .. 3+N-1 for the container: move ours above them.
  const int first_free = 3 + plan.preserve_fds;
  std::vector<UniqueFd> moved;
  std::vector<int*> internal = {&plan.sync_fd,      &plan.exec_fifo_fd, &plan.console_fd,
                                &plan.stdio_fds[0], &plan.stdio_fds[1], &plan.stdio_fds[2],
                                &plan.cgroup_fd,    &plan.trampoline_fd};
  for (auto& m : plan.mounts) {
    if (m.tree_fd >= 0) internal.push_back(&m.tree_fd);
  }
  for (size_t i = 0; i < plan.cgroup_joins; ++i) internal.push_back(&plan.cgroup_join_fds[i]);
  for (int* fd : internal) {
    if (*fd >= 0 && *fd < first_free) {
      int high = ::fcntl(*fd, F_DUPFD_CLOEXEC, first_free);
      if (high < 0) return fail_errno("move an internal fd above the preserved ones");
      moved.emplace_back(high);
      *fd = high;
    }
  }
  bind_views(plan);

  PidNamespaceForChildren pidns;
  if (!plan.pid_ns_path.empty()) {
    if (auto ok = pidns.enter(plan.pid_ns_path); !ok) return std::unexpected(ok.error());
  }

  TimeNamespaceForChildren timens;
  if (plan.new_time_ns) {
    if (auto ok = timens.enter(plan.timens_offsets); !ok) return std::unexpected(ok.error());
  }

  int pidfd = -1;
  bool into_cgroup = false;
  const long pid = clone_with_pidfd(plan.clone_flags, &pidfd, plan.cgroup_fd, &into_cgroup);
  if (pid < 0) return fail_errno("clone3 of the container's init");
  if (pid == 0) {
    ::close(parent_end.get());
    run_init(plan);
  }
  SpawnedInit child{static_cast<pid_t>(pid), UniqueFd(pidfd), UniqueFd(), into_cgroup};
  plan.cloned_into_cgroup = into_cgroup;
  child_end.reset();

  auto abort_with = [&](Error e) -> Result<SpawnedInit> {
    kill_and_reap(child);
    return std::unexpected(std::move(e));
  };
  if (plan.clone_flags & CLONE_NEWUSER) {
    if (auto ok = write_proc_file(child.pid, "uid_map", plan.uid_map); !ok)
      return abort_with(ok.error());
    if (auto ok = write_proc_file(child.pid, "gid_map", plan.gid_map); !ok)
      return abort_with(ok.error());
  }
  // Written here, not by init: init is not dumpable, so its /proc files belong to the host's root.
  if (plan.oom_score_adj) {
    if (auto ok = write_proc_file(child.pid, "oom_score_adj", *plan.oom_score_adj); !ok) {
      return abort_with(ok.error().context("process.oomScoreAdj " + *plan.oom_score_adj));
    }
  }
  if (before_go) {
    if (auto ok = before_go(child.pid); !ok) return abort_with(ok.error());
  }
  auto send_go = [&]() {
    SyncMessage go{};
    go.type = SyncType::kGo;
    go.pid = child.pid;
    return ::send(parent_end.get(), &go, sizeof go, MSG_NOSIGNAL) ==
           static_cast<ssize_t>(sizeof go);
  };
  // Opened by before_go (once init is in L): a systemd scope's directory exists only then.
  if (plan.cgroup_leaf_fd >= 0) {
    SyncMessage m{};
    m.type = SyncType::kCgroupLeaf;
    if (sys::send_fd(parent_end.get(), plan.cgroup_leaf_fd, &m, sizeof m) !=
        static_cast<ssize_t>(sizeof m)) {
      return abort_with(Error::from_errno(errno, "send the cgroup leaf to init"));
    }
  }
  auto sources = open_mount_sources(child.pid, plan);
  if (!sources) return abort_with(sources.error());
  for (const auto& [index, fd] : *sources) {
    SyncMessage m{};
    m.type = SyncType::kMountSource;
    m.pid = static_cast<int32_t>(index);
    if (sys::send_fd(parent_end.get(), fd.get(), &m, sizeof m) != static_cast<ssize_t>(sizeof m)) {
      return abort_with(Error::from_errno(errno, "send a bind source to init"));
    }
  }
  if (!send_go()) return abort_with(Error::from_errno(errno, "send go to init"));
  if (after_go) {
    if (auto ok = after_go(child.pid); !ok) return abort_with(ok.error());
  }
  SyncMessage msg{};
  ssize_t n;
  int received_fd = -1;
  for (;;) {
    msg = SyncMessage{};
    do {
      n = sys::receive_fd(parent_end.get(), &msg, sizeof msg, received_fd);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof msg) || msg.type != SyncType::kHooks) break;
    if (on_hooks) {
      if (auto ok = on_hooks(child.pid); !ok) return abort_with(ok.error());
    }
    if (!send_go()) return abort_with(Error::from_errno(errno, "send go to init after the hooks"));
  }
  UniqueFd attached(received_fd);
  if (n == static_cast<ssize_t>(sizeof msg) && msg.type == SyncType::kReady) {
    child.seccomp_listener = std::move(attached);
    return child;
  }
  if (n == static_cast<ssize_t>(sizeof msg) && msg.type == SyncType::kError) {
    msg.what[sizeof msg.what - 1] = '\0';
    const std::string what = std::string("container init: ") + msg.what;
    return abort_with(msg.error ? Error::from_errno(msg.error, what) : Error{0, what});
  }
  // EOF: init died before saying anything.
  siginfo_t info{};
  ::waitid(P_PIDFD, static_cast<id_t>(child.pidfd.get()), &info, WEXITED);
  return fail("container init exited before it was ready (" + describe_exit(info) + ")");
}

}  // namespace hippo::os
