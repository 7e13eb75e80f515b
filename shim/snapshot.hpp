#pragma once
// Node mode's adoption record (docs/containerd.md, "Adoption after the daemon's death"): what a
// daemon leaves for the one the keeper starts after it dies. It is written into a memfd of the
// keeper's shared fd table whenever the loop goes idle after a change. Open files are named by
// fd number: the shared table outlives the daemon, so each number still names the same open
// file (connection, FIFO, pty master, pidfd) for the successor.

#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "shim/process_state.hpp"
#include "shim/stdio.hpp"

namespace hippo::shim {

// Times in the record: nanoseconds since the epoch.
inline int64_t record_time(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
inline std::chrono::system_clock::time_point record_time(int64_t ns) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(ns)));
}

struct SnapshotWaiter {
  uint64_t connection = 0;
  uint32_t stream = 0;

  bool operator==(const SnapshotWaiter&) const = default;
};

struct SnapshotProcess {
  std::string exec_id;
  ProcessState state = ProcessState::kCreated;
  pid_t pid = 0;
  bool reaped = false;  // reaped, its exit not reported yet (exit_status holds it)
  uint32_t exit_status = 0;
  int64_t exited_at_ns = 0;  // since the epoch
  StdioUris uris;
  int pidfd = -1, pty = -1;
  int stdin_keepalive = -1, stdout_keepalive = -1, stderr_keepalive = -1;
  // A terminal's relays: master -> stdout FIFO, stdin FIFO -> master.
  int output_in = -1, output_out = -1, input_in = -1, input_out = -1;
  std::vector<SnapshotWaiter> waiters;

  bool operator==(const SnapshotProcess&) const = default;
};

struct SnapshotContainer {
  std::string id, bundle;
  bool rootfs_mounted = false;
  bool kill_all_on_exit = false;
  bool init_exit_deferred = false;
  int oom_fd = -1;
  SnapshotProcess init;
  std::vector<SnapshotProcess> execs;  // created but never started ones are left out

  bool operator==(const SnapshotContainer&) const = default;
};

struct SnapshotConnection {
  uint64_t id = 0;
  int fd = -1;
  uint32_t last_stream = 0;
  bool mid_frame = false;

  bool operator==(const SnapshotConnection&) const = default;
};

// An event the publisher had not delivered yet.
struct SnapshotEvent {
  std::string topic, type_url, event;  // event: the encoded protobuf message
  int64_t when_ns = 0;

  bool operator==(const SnapshotEvent&) const = default;
};

struct DaemonSnapshot {
  int listener_fd = -1;
  std::vector<SnapshotConnection> connections;
  std::vector<SnapshotContainer> containers;
  std::vector<SnapshotEvent> events;
  // Each named fd's identity when recorded (fd_identity): the daemon may have closed a number
  // after its last record, and the number may name something else since.
  std::map<int, std::string> fd_ids;

  // The state, without fd_ids: what says whether a new record is due. A connection's last
  // stream id alone does not: it only lets a successor refuse a stream id reused by a client,
  // and it changes with every request (containerd's State, Stats, CloseIO change nothing else).
  bool same_state(const DaemonSnapshot& o) const {
    const auto same_connection = [](const SnapshotConnection& a, const SnapshotConnection& b) {
      return a.id == b.id && a.fd == b.fd && a.mid_frame == b.mid_frame;
    };
    return listener_fd == o.listener_fd &&
           std::ranges::equal(connections, o.connections, same_connection) &&
           containers == o.containers && events == o.events;
  }
  // Every fd number the snapshot names (the successor closes the table's others).
  std::vector<int> fds() const;
  void record_fd_ids();
  // record_fd_ids, taking again only what `before` did not record: the listener and each
  // connection (same id, same fd) keep their identity, since the daemon holds their fds open
  // for as long as they live. Two syscalls per connection per record otherwise.
  void record_fd_ids(const DaemonSnapshot& before);
  // Sets every named fd whose identity changed since the record to -1 (a pidfd must also
  // still name its process's pid) and returns the numbers still named.
  std::vector<int> forget_changed_fds();
};

// The identity of an open fd: device, inode and access mode; "" when it is not open.
std::string fd_identity(int fd);
// The fds a container's record names.
std::vector<int> container_fds(const SnapshotContainer& c);
// One container's part of the record, with the identities in `ids` of the fds it names.
std::string encode_container(const SnapshotContainer& c, const std::map<int, std::string>& ids);
// One connection's entry in the record and that of its fd's identity, encoded apart (a daemon
// re-encodes only the connections that changed).
struct EncodedConnection {
  std::string entry, fd_id;
};
EncodedConnection encode_connection(const SnapshotConnection& c, const std::string& identity);
// The record: `head`'s listener, events and the listener's fd identity, the connections
// `conns` (head.connections, encoded), then `parts`, each an encode_container.
std::string encode_record(const DaemonSnapshot& head,
                          const std::vector<const EncodedConnection*>& conns,
                          const std::vector<std::string_view>& parts);
// The same, encoding head.connections with their identities in head.fd_ids.
std::string encode_record(const DaemonSnapshot& head, const std::vector<std::string_view>& parts);
// The whole record at once (encode_record of encode_container of each).
std::string encode_snapshot(const DaemonSnapshot& snapshot);
// A clear error for a record that is not one (never written whole, or another version).
Result<DaemonSnapshot> decode_snapshot(std::string_view text);

// The memfd the keeper creates before its first daemon. Two slots and a header naming the last
// one written whole: a daemon killed in the middle of a write leaves the previous record.
//
// Beside the record, the connections read from since it was written: a daemon killed in the
// middle of a request has consumed bytes the record does not account for, so its successor
// must close those connections. They are kept in a shared mapping of the memfd: no syscall per
// read.
class SnapshotStore {
 public:
  static Result<int> create_fd();  // the keeper's; in the shared table, close-on-exec
  // The first write goes to the slot the last record is not in.
  explicit SnapshotStore(int fd);
  ~SnapshotStore();
  SnapshotStore(const SnapshotStore&) = delete;
  SnapshotStore& operator=(const SnapshotStore&) = delete;

  Result<void> write(std::string_view record);
  // nullopt: no record was written yet (the first daemon died before its first idle spell).
  Result<std::optional<std::string>> read() const;

  Result<void> map_touched();
  void touch(uint64_t connection);
  // The record is current (just written, or unchanged): the touched connections are in it.
  void clear_touched();
  // The connections touched since the last record; `all` when more than it holds were.
  std::vector<uint64_t> touched(bool& all) const;

 private:
  struct Touched;
  int fd_;
  unsigned next_slot_ = 0;
  Touched* touched_ = nullptr;
};

}  // namespace hippo::shim
