#pragma once
// The node daemon's side of adoption (docs/containerd.md, "Adoption after the daemon's death"):
// under a keeper (shim/keeper.hpp) it leaves its record (shim/snapshot.hpp) whenever the loop
// goes idle, and a successor takes over from the last one: listener, containerd's connections,
// containers, pending Waits, undelivered events.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "shim/keeper.hpp"
#include "shim/publisher.hpp"
#include "shim/snapshot.hpp"
#include "shim/task_service.hpp"
#include "shim/ttrpc/event_loop.hpp"
#include "shim/ttrpc/server.hpp"

namespace hippo::shim {

class AdoptionRecorder {
 public:
  // Marks each connection in the record before the server reads from it.
  AdoptionRecorder(const KeeperContext& keeper, ttrpc::Server& server, TaskService& service,
                   Publisher& publisher);
  // Writes the record if it changed since the last one.
  void record();

 private:
  SnapshotStore store_;
  ttrpc::Server& server_;
  TaskService& service_;
  Publisher& publisher_;
  // Brings parts_ up to the containers' state now: true when one changed, came or went.
  bool update_parts();

  struct Part {
    SnapshotContainer state;
    std::string text;  // encode_container of it
  };
  SnapshotContainer scratch_;  // a container read now; memory kept between spells
  std::vector<Part> parts_;    // in id order, as last written
  struct ConnectionPart {
    SnapshotConnection state;
    std::string identity;
    EncodedConnection text;
    uint64_t spell = 0;  // the last record that had it
  };
  std::map<uint64_t, ConnectionPart> connection_parts_;  // by connection id
  uint64_t spell_ = 0;
  DaemonSnapshot last_head_;  // its listener, connections and events as last written
  bool written_ = false;
};

// The last record a dead daemon left, its fds checked; every other fd of the shared table but
// stdio, the keeper's and `listener` is closed (what the dead daemon held half-made, its epoll
// and signalfd). nullopt: the first daemon died before it wrote one.
Result<std::optional<DaemonSnapshot>> take_over_fds(const KeeperContext& keeper, int listener);

// Serves the record's connections, adopts its containers and Waits, sends its events.
void adopt(DaemonSnapshot snapshot, ttrpc::Server& server, TaskService& service,
           Publisher& publisher);

// Watches the keeper's exit pipe: each exit goes to service.keeper_exited.
Result<void> watch_keeper_exits(ttrpc::EventLoop& loop, const KeeperContext& keeper,
                                TaskService& service);

}  // namespace hippo::shim
