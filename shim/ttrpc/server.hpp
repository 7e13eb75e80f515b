#pragma once
// A ttrpc server on an EventLoop: many connections, many concurrent requests per connection.
// A handler gets a Reply it may call later (a Wait replies when the process exits) while other
// requests on the same connection proceed; replies go out in any order, each frame whole.

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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hippo::ttrpc
