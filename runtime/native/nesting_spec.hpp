#pragma once
// What nesting changes in the spec a container is created from (docs/nesting.md, 3.1, 3.2,
// 3.6-3.8): its own cgroup namespace, a writable cgroup mount, the capabilities and system
// calls an inner runtime needs, and config.yaml's extra devices. config.json stays the
// engine's: create builds its plan from the returned spec, and exec applies the process parts
// again from the record. Pure: `last_cap` is the kernel's highest capability number.

#include "oci-spec/spec.hpp"
#include "runtime/state_store.hpp"

namespace hippo::runtime::native {

// The system calls engine profiles allow only with CAP_SYS_ADMIN or never (section 3.7).
inline constexpr const char* kNestingSyscalls[] = {
    "mount",   "umount2", "pivot_root",  "unshare",     "setns",         "clone",  "clone3",
    "keyctl",  "add_key", "request_key", "sethostname", "setdomainname", "fsopen", "fsconfig",
    "fsmount", "fspick",  "move_mount",  "open_tree",   "mount_setattr"};

// The capabilities the privileged variant adds to the spec's (section 3.6). SYS_PTRACE: an inner
// runtime's hooks and CRI open /proc/<pid>/ns/* of processes that are not dumpable (hippo's
// init until execve) or run as another uid (the pause process): Docker's libnetwork-setkey
// hook and a sandbox's pid namespace fail without it.
inline constexpr const char* kPrivilegedNestingCaps[] = {
    "CAP_SYS_ADMIN",   "CAP_NET_ADMIN", "CAP_SETPCAP",      "CAP_SETFCAP", "CAP_MKNOD",
    "CAP_SYS_CHROOT",  "CAP_CHOWN",     "CAP_DAC_OVERRIDE", "CAP_FOWNER",  "CAP_FSETID",
    "CAP_KILL",        "CAP_SETUID",    "CAP_SETGID",       "CAP_NET_RAW", "CAP_NET_BIND_SERVICE",
    "CAP_AUDIT_WRITE", "CAP_SYS_PTRACE"};

// The device rule the outer adds for every nesting container, without a node: /dev/console
// (c 5:1). Docker's and containerd's default specs allow it to their containers, and a v1
// devices cgroup cannot allow more than its parent (devices.allow fails with EPERM).
inline constexpr int64_t kConsoleMajor = 5, kConsoleMinor = 1;

spec::Spec apply_nesting(spec::Spec spec, const NestingState& nesting, int last_cap);

// The process parts, for exec: capabilities, and the seccomp additions to `seccomp`.
void nest_capabilities(spec::Process& process, const NestingState& nesting, int last_cap);
void nest_seccomp(spec::Seccomp& seccomp, const NestingState& nesting);

}  // namespace hippo::runtime::native
