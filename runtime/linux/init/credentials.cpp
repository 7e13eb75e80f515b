// Who the container's process runs as: groups, gid, uid, the five capability sets, LSM exec
// labels and the seccomp filter.
// Runs in the cloned child. Rules: no allocation, no locks, no exceptions, no logging library:
// raw system calls over the pre-built plan; a failed step reports {errno, what} to the parent and
// _exits. Fixed-size buffers live on the stack.

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/linux/init/steps.hpp"

namespace hippo::os::init {
namespace {

// Needs CAP_SETPCAP, so it runs before the uid change. EINVAL: a capability this kernel lacks.
void drop_bounding(const CapabilitySets& c) {
  for (int cap = 0; cap <= c.last_cap; ++cap) {
    if ((c.bounding >> cap & 1) == 0 && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 &&
        errno != EINVAL) {
      die("drop capability from the bounding set");
    }
  }
}

// After the uid change (PR_SET_KEEPCAPS kept the permitted set across it).
void set_capabilities(const CapabilitySets& c) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  data[0].effective = static_cast<uint32_t>(c.effective);
  data[1].effective = static_cast<uint32_t>(c.effective >> 32);
  data[0].permitted = static_cast<uint32_t>(c.permitted);
  data[1].permitted = static_cast<uint32_t>(c.permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(c.inheritable);
  data[1].inheritable = static_cast<uint32_t>(c.inheritable >> 32);
  if (::syscall(SYS_capset, &header, data) != 0) die("capset");
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    die("clear ambient capabilities");
  }
  for (int cap = 0; cap <= c.last_cap; ++cap) {
    if ((c.ambient >> cap & 1) && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
      die("raise ambient capability");
    }
  }
}

}  // namespace

void set_exec_label(const char* name, const std::string& value, const char* what) {
  Text path;
  path.add("/proc/thread-self/attr/").add(name);
  int fd = ::open(path.buf, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fd = ::open("/proc/self/attr/exec", O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(what);
  if (::write(fd, value.data(), value.size()) != static_cast<ssize_t>(value.size())) die(what);
  ::close(fd);
}

// Returns the notify listener fd, or -1 when the filter has no SCMP_ACT_NOTIFY rule.
int load_seccomp(const SeccompProgram& p) {
  sock_fprog prog{static_cast<unsigned short>(p.filter.size()),
                  const_cast<sock_filter*>(p.filter.data())};
  const unsigned flags = p.flags | (p.listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0u);
  const long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) die("load the seccomp filter");
  return p.listener ? static_cast<int>(rc) : -1;
}

void switch_user(const InitPlan& plan) {
  if (plan.caps.apply) drop_bounding(plan.caps);
  if (plan.caps.apply && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) die("set keep-caps");
  // Raw system calls: glibc's wrappers apply the change to every thread of its thread list
  // (nptl's setxid, by signals), and this raw clone inherited the parent's list. Cloned while
  // the parent had a second thread, init would wait forever for a thread it does not have.
  if (plan.set_groups &&
      ::syscall(SYS_setgroups, plan.additional_gids.size(), plan.additional_gids.data()) != 0) {
    die("setgroups");
  }
  if (::syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0) die("setresgid");
  if (::syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0) die("setresuid");
  if (plan.caps.apply) {
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) die("clear keep-caps");
    set_capabilities(plan.caps);
  }
}

}  // namespace hippo::os::init
