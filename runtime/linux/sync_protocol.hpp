#pragma once
// The parent <-> init protocol over a SOCK_SEQPACKET socketpair (one message per datagram).
//
//   step  direction        message   meaning
//   1     parent -> child  kGo       uid/gid maps written, init placed in its cgroup: go on
//   2     child -> parent  kReady    namespaces, rootfs, process settings done; the executable
//                                    was found; init now blocks opening the exec fifo
//   2'    child -> parent  kError    step failed: errno + what (the child then _exits)
//
// After kReady the socket is closed (CLOEXEC at execve); the create process may exit. `start`
// releases init by opening the exec fifo for reading, as runc does.

#include <cstdint>

namespace hippo::linux {

enum class SyncType : uint32_t { kGo = 1, kReady = 2, kError = 3 };

struct SyncMessage {
  SyncType type;
  int32_t error;    // errno of a failed step, else 0
  char what[496];   // NUL-terminated description of the failed step
};

}  // namespace hippo::linux
