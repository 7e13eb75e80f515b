#pragma once
// A ttrpc client. Client is blocking with a deadline (tests, the `delete` action, tools);
// AsyncClient runs on an EventLoop (the shim daemon's event publisher).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "shim/ttrpc/codec.hpp"
#include "shim/ttrpc/event_loop.hpp"
#include "shim/ttrpc/status.hpp"

namespace hippo::ttrpc {

using Metadata = std::vector<std::pair<std::string, std::string>>;

struct CallResult {
  Status status;
  std::string payload;
};

class Client {
 public:
  // `address`: a socket path, with or without "unix://".
  static Result<Client> connect(const std::string& address);
  explicit Client(os::UniqueFd fd) : fd_(std::move(fd)) {}

  // Transport failures are errors; a remote error status is a CallResult with that status.
  Result<CallResult> call(std::string_view service, std::string_view method,
                          std::string_view payload, const Metadata& metadata = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(5));
  int fd() const { return fd_.get(); }

 private:
  os::UniqueFd fd_;
  uint32_t next_stream_ = 1;
  // Kept across calls: a response that arrives after its call timed out may be split
  // across reads, and the next call must resynchronise on frame boundaries.
  FrameDecoder decoder_;
};

class AsyncClient {
 public:
  using Done = std::function<void(Result<CallResult>)>;
  AsyncClient(EventLoop& loop, std::string address);
  ~AsyncClient();

  // Connects lazily; `done` gets a transport error (connect refused, closed, timeout) or the
  // result. Calls on one AsyncClient are sent in order.
  void call(std::string service, std::string method, std::string payload, Metadata metadata,
            std::chrono::milliseconds timeout, Done done);
  // Drops the connection (the next call reconnects).
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hippo::ttrpc
