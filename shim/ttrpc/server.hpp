#pragma once
// A ttrpc server on an EventLoop: many connections, many concurrent requests per connection.
// A handler gets a Reply it may call later (a Wait replies when the process exits) while other
// requests on the same connection proceed; replies go out in any order, each frame whole.
// A hostile or broken peer costs only its own connection: another uid is closed unanswered, a
// frame over 4 MiB is answered ResourceExhausted unread, a peer that does not read its replies
// is not read either while 1 MiB of them waits, requests past 1024 unanswered ones on one
// connection are answered ResourceExhausted, and a half-closed peer (shutdown(SHUT_WR)) still
// gets every reply it is owed before the connection closes.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "shim/ttrpc/event_loop.hpp"
#include "shim/ttrpc/status.hpp"

namespace hippo::ttrpc {

struct CallContext {
  uint64_t connection_id = 0;
  uint32_t stream_id = 0;
  std::string service;
  std::string method;
  int64_t timeout_nano = 0;
  std::vector<std::pair<std::string, std::string>> metadata;
};

// Call exactly once: with a payload (the encoded response message) and OK, or an error status.
// Calling it after the connection closed is harmless; later calls are ignored. Call it on the
// loop's thread (it may be copied and kept, e.g. by a pending Wait).
using Reply = std::function<void(Status status, std::string payload)>;
using Handler = std::function<void(const CallContext& call, std::string_view payload, Reply reply)>;

class Server {
 public:
  explicit Server(EventLoop& loop);
  ~Server();

  void register_method(const std::string& service, const std::string& method, Handler handler);
  // Serves connections accepted on `listener` (a bound, listening unix socket; adopted).
  Result<void> serve(os::UniqueFd listener);
  // Called when a connection closes (containerd went away), with its id; not for shutdown().
  void on_disconnect(std::function<void(uint64_t connection_id)> callback);
  // Closes the listener and every connection (pending replies are dropped).
  void shutdown();
  size_t connection_count() const;
  int listener_fd() const;  // -1 before serve() and after shutdown()
  // Called with a connection's id before bytes are read from it (node mode's adoption marks
  // the connections a daemon was in the middle of serving).
  void before_read(std::function<void(uint64_t connection_id)> callback);

  // Adoption after a daemon's death (shim/keeper.hpp): serves a connection the previous daemon
  // accepted, whose next byte begins a frame; stream ids up to `last_stream` were that daemon's.
  // Returns the connection's new id.
  Result<uint64_t> adopt_connection(os::UniqueFd fd, uint32_t last_stream);
  // The reply to a request the previous daemon read and left unanswered (a pending Wait); a
  // no-op Reply when that connection is gone.
  Reply adopted_reply(uint64_t connection_id, uint32_t stream_id);
  // What a successor needs to adopt each connection: its id, fd, the last stream id read, and
  // whether the bytes read so far end inside a frame, or a reply is partly sent (such a
  // connection cannot be adopted).
  struct ConnectionRecord {
    uint64_t id = 0;
    int fd = -1;
    uint32_t last_stream = 0;
    bool mid_frame = false;
  };
  std::vector<ConnectionRecord> connection_records() const;
  // Replies not yet taken by their peers, the memory their buffers hold, and the connections
  // left unread meanwhile (a peer with more than 1 MiB unread is not read until it takes some).
  struct Backlog {
    size_t unsent_bytes = 0;
    size_t reply_buffer_bytes = 0;
    size_t paused_connections = 0;
  };
  Backlog backlog() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hippo::ttrpc
