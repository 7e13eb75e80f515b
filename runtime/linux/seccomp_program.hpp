#pragma once
// linux.seccomp compiled to a BPF program by libseccomp in the parent, before the clone. The
// container's init only hands the ready program to seccomp(2) (init_child.cpp), so the child
// neither allocates nor calls into libseccomp.

#include <linux/filter.h>

#include <string>
#include <vector>

#include "base/error.hpp"
#include "oci-spec/spec.hpp"

namespace hippo::os {

struct SeccompProgram {
  std::vector<sock_filter> filter;
  unsigned flags = 0;     // SECCOMP_FILTER_FLAG_* from linux.seccomp.flags
  bool listener = false;  // SCMP_ACT_NOTIFY rules: load with NEW_LISTENER, hand the fd over
};

// Syscall names libseccomp does not know are skipped (runc does the same: profiles list
// syscalls of newer kernels); a rule whose action is the default action is redundant and skipped.
// runc's -ENOSYS stub (seccomp_enosys.hpp) goes first: syscalls newer than the profile get ENOSYS.
Result<SeccompProgram> build_seccomp_program(const spec::Seccomp& seccomp);

}  // namespace hippo::os
