#pragma once
// Node mode's keeper (docs/containerd.md, "Adoption after the daemon's death"): the node
// daemon's parent, a child subreaper, sharing the daemon's fd table (clone(CLONE_FILES)). When
// the daemon dies, every fd it held lives on in the keeper at its number (containerd's
// connections, the FIFO keep-alive readers, the terminals' masters, the pidfds), the containers
// are re-parented to the keeper, which reaps them and writes their exits to a pipe of the
// shared table, and a new daemon is cloned the same way to take over.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>

namespace hippo::shim {

// One exit the keeper reaped, as written to the exit pipe: the pid and its wait status.
struct KeeperExit {
  int32_t pid = 0;
  int32_t status = 0;  // as waitpid reports it (WIFEXITED/WIFSIGNALED decode it)
};

struct KeeperLimits {
  // A daemon that dies more often than this is not cloned again: the keeper exits, the shared
  // fds close, and containerd cleans every task up, as without a keeper.
  unsigned max_restarts = 5;
  std::chrono::seconds window{60};
};

// What a daemon is told: which incarnation it is (0: the first, nothing to adopt), the read
// end of the exit pipe (non-blocking), and the fds of the shared table that are the keeper's:
// the pipe's write end and the memfd the daemons leave their adoption record in
// (shim/snapshot.hpp).
struct KeeperContext {
  unsigned generation = 0;
  int exits_fd = -1;
  int exits_write_fd = -1;
  int record_fd = -1;
};

// Runs the keeper in this process; `daemon` runs in each clone and returns its exit code. A
// daemon that exits 0 is done (its planned exit: idle or SIGTERM) and so is the keeper, which
// returns 0. Any other end (a signal, a crash, a non-zero code) clones the next daemon, within
// `limits`. Returns the code to exit with.
int run_keeper(const std::function<int(const KeeperContext&)>& daemon, KeeperLimits limits = {});

}  // namespace hippo::shim
