// Runs in the cloned child. Rules: no allocation, no locks, no exceptions, no logging library:
// raw system calls over the pre-built plan; a failed step reports {errno, what} to the parent and
// _exits. Fixed-size buffers live on the stack.
//
// run_init is the sequence; its steps live in init/ by concern (steps.hpp).

#include "runtime/linux/init_child.hpp"

#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/syscalls.hpp"
#include "runtime/linux/init/steps.hpp"
#include "runtime/linux/sync_protocol.hpp"

namespace hippo::os {
namespace {

using namespace init;

// Go's exec.LookPath, as runc uses it, in its words (engines map them to exit codes): the first
// regular file that is executable. A PATH search that finds none is "executable file not found";
// a path that exists but cannot run (a directory, no x bit for this user) is "permission
// denied"; a path that cannot be stat'ed says why, lowercase as Go's errors read.
const char* find_executable(const InitPlan& plan) {
  bool not_executable = false;
  int stat_errno = ENOENT;
  for (const auto& c : plan.exec_candidates) {
    struct stat st {};
    if (::stat(c.c_str(), &st) != 0) {
      stat_errno = errno;
      continue;
    }
    if (S_ISREG(st.st_mode) && ::access(c.c_str(), X_OK) == 0) return c.c_str();
    not_executable = true;
  }
  if (plan.exec_path_search) die_with(0, plan.exec_not_found.c_str());
  if (not_executable) die_with(0, plan.exec_not_executable.c_str());
  Text reason;
  reason.add(": ").add(strerrordesc_np(stat_errno));
  if (reason.buf[2] >= 'A' && reason.buf[2] <= 'Z')
    reason.buf[2] = static_cast<char>(reason.buf[2] - 'A' + 'a');
  die_with(0, plan.exec_not_found.c_str(), reason.buf);
}

// Closes every fd above stdio but the ones the protocol and the plan need: inherited copies of
// the parent's fds would otherwise live on in init (a state-dir flock held by init blocks every
// later command on the container until it execs).
void close_other_fds(int first, const InitPlan& plan) {
  // The fds to keep, sorted; -1 means none. At most kMaxTrees idmapped trees are kept.
  constexpr int kFixed = 4, kMaxTrees = 16;
  int keep[kFixed + kMaxTrees + InitPlan::kMaxCgroupJoins] = {plan.sync_fd, plan.exec_fifo_fd,
                                                              plan.console_fd, plan.trampoline_fd};
  int count = kFixed;
  for (const auto& m : plan.mounts) {
    if (m.tree_fd >= 0 && count < kFixed + kMaxTrees) keep[count++] = m.tree_fd;
  }
  for (size_t i = 0; i < plan.cgroup_joins; ++i) keep[count++] = plan.cgroup_join_fds[i];
  for (int i = 0; i < count; ++i) {
    for (int j = i + 1; j < count; ++j) {
      if (keep[j] < keep[i]) {
        const int t = keep[i];
        keep[i] = keep[j];
        keep[j] = t;
      }
    }
  }
  unsigned next = static_cast<unsigned>(first);
  for (int k = 0; k < count; ++k) {
    const int fd = keep[k];
    if (fd < static_cast<int>(next)) continue;
    if (static_cast<unsigned>(fd) > next) sys::close_range(next, static_cast<unsigned>(fd) - 1, 0);
    next = static_cast<unsigned>(fd) + 1;
  }
  sys::close_range(next, ~0U, 0);
}

// kReady, with the seccomp listener attached (SCM_RIGHTS) when there is one.
bool send_ready(int sock, int listener) {
  SyncMessage msg{};
  msg.type = SyncType::kReady;
  const ssize_t sent = listener >= 0 ? sys::send_fd(sock, listener, &msg, sizeof msg)
                                     : ::send(sock, &msg, sizeof msg, MSG_NOSIGNAL);
  return sent == static_cast<ssize_t>(sizeof msg);
}

// Opens every namespace before joining any: once in another mount namespace, /proc/<pid>/ns
// paths name something else (or nothing).
void join_namespaces(const InitPlan& plan) {
  int ns_fds[16];
  const size_t joins = plan.joins.size() < 16 ? plan.joins.size() : 16;
  for (size_t i = 0; i < joins; ++i) {
    ns_fds[i] = ::open(plan.joins[i].path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns_fds[i] < 0) die(plan.joins[i].what);
  }
  for (size_t i = 0; i < joins; ++i) {
    if (::setns(ns_fds[i], plan.joins[i].type) != 0) die(plan.joins[i].what);
    ::close(ns_fds[i]);
  }
}

// Root of a new user namespace, the cgroup namespace, the session keyring, host and domain name.
void set_identity(const InitPlan& plan) {
  if (plan.clone_flags & CLONE_NEWUSER) {
    // Raw system calls, as in switch_user (credentials.cpp).
    if (::syscall(SYS_setresgid, 0, 0, 0) != 0) die("setresgid 0 in the user namespace");
    if (::syscall(SYS_setresuid, 0, 0, 0) != 0) die("setresuid 0 in the user namespace");
  }
  if (plan.unshare_cgroup && ::unshare(CLONE_NEWCGROUP) != 0) die("unshare cgroup namespace");
  // Nesting on v2: out of L (the namespace's root now) into its leaf, so L may enable
  // controllers for the cgroups an inner runtime makes (no-internal-process rule).
  if (plan.cgroup_leaf_fd >= 0) {
    if (::write(plan.cgroup_leaf_fd, "0", 1) != 1) die("move init into its cgroup leaf");
    ::close(plan.cgroup_leaf_fd);
  }
  if (!plan.session_keyring.empty() &&
      ::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, plan.session_keyring.c_str()) < 0 &&
      errno != ENOSYS && errno != EACCES && errno != EPERM) {
    // Kernels or sandboxes without keyrings are tolerated, as runc does.
    die("join session keyring ", plan.session_keyring.c_str());
  }
  if (plan.hostname && ::sethostname(plan.hostname->data(), plan.hostname->size()) != 0) {
    die("sethostname");
  }
  if (plan.domainname && ::setdomainname(plan.domainname->data(), plan.domainname->size()) != 0) {
    die("setdomainname");
  }
}

// Limits and attributes the process keeps across execve; they may need privileges (a real-time
// policy needs CAP_SYS_NICE), so they come before the uid change.
void set_process_attributes(const InitPlan& plan) {
  for (const auto& r : plan.rlimits) {
    if (::setrlimit(static_cast<__rlimit_resource>(r.resource), &r.value) != 0) die(r.what);
  }
  if (plan.scheduler && ::syscall(SYS_sched_setattr, 0, &*plan.scheduler, 0) != 0)
    die("sched_setattr");
  if (plan.io_priority &&
      ::syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, *plan.io_priority) != 0) {
    die("ioprio_set");
  }
  if (plan.personality && ::personality(*plan.personality) < 0) die("personality");
  if (plan.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("no_new_privs");
  if (!plan.apparmor_exec.empty())
    set_exec_label("apparmor/exec", plan.apparmor_exec, "set the AppArmor profile");
  if (!plan.selinux_exec.empty())
    set_exec_label("exec", plan.selinux_exec, "set the SELinux label");
}

}  // namespace

void run_init(const InitPlan& plan) {
  // Until execve this process is an image of hippo: not dumpable, so that nothing in the
  // container can open /proc/<pid>/exe (the host's hippo binary) or its memory. execve
  // makes the container's program dumpable again.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  g_sync_fd = plan.sync_fd;
  g_trampoline_fd = plan.trampoline_fd;
  for (int i = 0; i < 3; ++i) {
    if (plan.stdio_fds[i] >= 0 && ::dup2(plan.stdio_fds[i], i) < 0) die("set up stdio");
  }
  close_other_fds(3 + plan.preserve_fds, plan);
  for (int fd = 3; fd < 3 + plan.preserve_fds; ++fd) ::fcntl(fd, F_SETFD, 0);
  // The parent may block signals it forwards (hippo run); the container starts with none
  // blocked and default dispositions, whatever its creator had.
  sys::reset_signals();
  // Only this process's copy of the plan is written (as exec_argv's slot below): the parent's
  // fd number means nothing here, kCgroupLeaf brings init its own.
  auto& leaf_fd = const_cast<int&>(plan.cgroup_leaf_fd);
  leaf_fd = -1;
  SyncMessage msg{};
  for (;;) {
    int fd = -1;
    if (sys::receive_fd(plan.sync_fd, &msg, sizeof msg, fd) != static_cast<ssize_t>(sizeof msg)) {
      ::_exit(1);  // the parent went away or gave up on us
    }
    if (msg.type == SyncType::kCgroupLeaf) {
      if (fd < 0) ::_exit(1);
      leaf_fd = fd;
      continue;
    }
    if (msg.type != SyncType::kMountSource) break;
    const auto index = static_cast<size_t>(msg.pid);
    if (fd < 0 || msg.pid < 0 || index >= plan.mounts.size()) ::_exit(1);
    // Only this process's copy of the plan is written (as exec_argv's slot below).
    const_cast<MountStep&>(plan.mounts[index]).source_fd = fd;
  }
  if (msg.type != SyncType::kGo) ::_exit(1);
  g_host_pid = msg.pid;
  // Into the container's v1 cgroups before anything of the container runs, each by a write of
  // "0" (this thread alone: no global lock). The parent opened the files: the kernel checks
  // the opener. After kGo, so that a failure reaches the parent as an error message.
  for (size_t i = 0; i < plan.cgroup_joins; ++i) {
    if (::write(plan.cgroup_join_fds[i], "0", 1) != 1) die("join the container's cgroup");
    ::close(plan.cgroup_join_fds[i]);
  }
  ::umask(0);  // device and directory modes are exact; the process umask is set before exec

  join_namespaces(plan);
  set_identity(plan);
  if (plan.setup_rootfs) setup_rootfs(plan);
  if (plan.terminal) setup_console(plan);
  finish_rootfs(plan);

  set_process_attributes(plan);
  int listener = -1;
  if (plan.seccomp && !plan.no_new_privileges) listener = load_seccomp(*plan.seccomp);
  // As runc: change directory while still root as well as after the uid change, so that a cwd
  // only root can enter (/root, mode 0700, for user 1000) works, and so does one only the
  // process user can enter (a volume chowned to it on root-squashing storage). Only a refusal
  // is worth the second try.
  bool chdir_after = ::chdir(plan.cwd.c_str()) != 0;
  if (chdir_after && errno != EACCES && errno != EPERM) die("chdir to cwd ", plan.cwd.c_str());
  switch_user(plan);
  ::umask(plan.umask ? *plan.umask : 022);
  if (chdir_after && ::chdir(plan.cwd.c_str()) != 0) die("chdir to cwd ", plan.cwd.c_str());
  const char* program = find_executable(plan);
  if (plan.seccomp && plan.no_new_privileges) listener = load_seccomp(*plan.seccomp);

  if (!send_ready(plan.sync_fd, listener)) ::_exit(1);
  if (listener >= 0) ::close(listener);  // the agent has it now; the container must not
  ::close(plan.sync_fd);
  g_sync_fd = -1;

  // A container's init blocks until `start` opens the fifo for reading (runc's exec fifo);
  // an exec'd process has no fifo and goes on at once.
  if (plan.exec_fifo_fd >= 0) {
    Text fifo;
    proc_fd_path(fifo, plan.exec_fifo_fd);
    int fd = ::open(fifo.buf, O_WRONLY | O_CLOEXEC);
    if (fd < 0) die("open exec fifo");
    g_fifo_fd = fd;
    for (const auto& h : plan.start_container_hooks)
      run_hook(h, plan.state_created_head, plan.state_tail);
    if (::write(fd, "0", 1) != 1) die("write exec fifo");
    g_fifo_fd = -1;
    ::close(fd);
    ::close(plan.exec_fifo_fd);
  }

  // Only this process's copy of the plan is written (the slot bind_views left for it).
  const_cast<char**>(plan.exec_argv.data())[1] = const_cast<char*>(program);
  exec_through_trampoline(plan.trampoline_fd, plan.exec_argv.data(), plan.envp.data());
  die("exec ", program);
}

}  // namespace hippo::os
