#pragma once
// The -ENOSYS stub that goes before libseccomp's program, as runc (libcontainer/seccomp/patchbpf)
// puts it: a syscall numbered above the highest one the profile names, for its architecture, is
// newer than the profile and gets ENOSYS instead of the default action. libc then falls back to
// an older call (clone3 -> clone, faccessat2 -> faccessat) where EPERM would make it fail.
//
// Only when the default action refuses (not ALLOW, LOG or TRACE) and its errno is not already
// ENOSYS; only for the architectures the profile lists (none listed: no stub, like runc).

#include <linux/filter.h>

#include <cstdint>
#include <span>
#include <vector>

#include "base/error.hpp"
#include "oci-spec/spec.hpp"

namespace hippo::os {

// `arch_tokens` are the libseccomp tokens (SCMP_ARCH_*) of linux.seccomp.architectures. The
// stub is self-contained: it ends by jumping to the instruction right after it, where the
// caller puts libseccomp's program. Empty when no stub is due.
Result<std::vector<sock_filter>> enosys_stub(const spec::Seccomp& seccomp,
                                             std::span<const uint32_t> arch_tokens);

}  // namespace hippo::os
