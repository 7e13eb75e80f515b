#pragma once
// The parent <-> init protocol over a SOCK_SEQPACKET socketpair (one message per datagram).
//
//   step  direction        message       meaning
//   0     parent -> child  kMountSource  [+ fd] a bind source opened by the host's root in init's
//                                        mount namespace (mount_sources.hpp), one per such
//                                        mount, before kGo; `pid` is the mount's index in the plan
//   0a    parent -> child  kCgroupLeaf   + fd: a v2 nesting container's L/init/cgroup.procs,
//                                        opened once init is in L (a systemd scope exists only
//                                        after attach), before kGo
//   1     parent -> child  kGo       uid/gid maps written, init placed in its cgroup: go on;
//                                    `pid` is init's pid as the host sees it (for hook states)
//   1a    child -> parent  kHooks    mounts done, before pivot_root: run prestart/createRuntime
//   1b    parent -> child  kGo       hooks done: go on (only when the plan has such hooks)
//   2     child -> parent  kReady    namespaces, rootfs, process settings done; the executable
//                                    was found; init now blocks opening the exec fifo
//   2'    child -> parent  kError    step failed: errno + what (the child then _exits)
//   kReady may carry the seccomp notify fd (SCM_RIGHTS) for the parent to hand to the agent.
//
// After kReady the socket is closed (CLOEXEC at execve); the create process may exit. `start`
// releases init by opening the exec fifo for reading, as runc does; init then runs the
// startContainer hooks and writes "0" (go) or the text of its failure into the fifo.

#include <cstdint>

namespace hippo::os {

enum class SyncType : uint32_t {
  kGo = 1,
  kReady = 2,
  kError = 3,
  kHooks = 4,
  kMountSource = 5,
  kCgroupLeaf = 6
};

struct SyncMessage {
  SyncType type;
  int32_t error;   // errno of a failed step, else 0
  int32_t pid;     // kGo: init's host pid
  char what[492];  // NUL-terminated description of the failed step
};

}  // namespace hippo::os
