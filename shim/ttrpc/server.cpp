#include "shim/ttrpc/server.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "shim/ttrpc/codec.hpp"
#include "shim/ttrpc/messages.hpp"

namespace hippo::ttrpc {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr int kAcceptBatch = 32;
// After EMFILE/ENFILE the pending connection stays queued and the listener stays readable;
// pausing instead of retrying at once keeps a level-triggered loop from spinning.
constexpr std::chrono::milliseconds kAcceptPause{100};
// A peer that sends requests but does not read its replies: above this many unsent bytes the
// connection is not read until the peer takes some (the Go server's per-connection goroutine
// blocks on its write the same way). One read may add the replies to a 64 kB chunk on top.
constexpr size_t kOutputHighWater = 1u << 20;
// Requests given to a handler and not yet answered (a Wait holds its reply until the process
// exits): beyond this the connection's further requests are answered ResourceExhausted, since
// pausing the reads could keep back the Kill that would end those Waits.
constexpr size_t kMaxPendingPerConnection = 1024;
// A reply buffer grown past this by a large reply is released once it is sent.
constexpr size_t kKeptOutputCapacity = 64 * 1024;

struct Connection {
  uint64_t id = 0;
  EventLoop* loop = nullptr;
  os::UniqueFd fd;
  FrameDecoder decoder;
  std::string out;  // whole frames only, so replies never interleave
  size_t out_pos = 0;
  uint32_t last_stream = 0;
  std::set<uint32_t> pending;  // streams given to a handler and not yet replied
  bool open = true;
  bool in_io = false;  // inside on_io, which flushes and sets the interest once at its end
  // The peer shut down its writing side (shutdown(SHUT_WR)): no more requests, but the
  // replies it is owed still go out; the connection closes once they have.
  bool read_closed = false;

  size_t unsent() const { return out.size() - out_pos; }
  bool has_output() const { return out_pos < out.size(); }
  bool reading() const { return !read_closed && unsent() < kOutputHighWater; }
  bool finished() const { return read_closed && pending.empty() && !has_output(); }

  void update_interest() {
    // A failure (ENOMEM) leaves the old interest set; the next event retries. EPOLLHUP (the
    // peer closed both ways) is reported even while neither is asked for.
    (void)loop->modify(fd.get(), (reading() ? EPOLLIN : 0u) | (has_output() ? EPOLLOUT : 0u));
  }

  void queue(uint32_t stream, const Status& status, std::string_view payload) {
    out += encode_frame(stream, MessageType::kResponse, 0, encode_response(status, payload));
    if (!in_io) update_interest();
  }

  // false: the peer is gone (EPIPE, ECONNRESET, …).
  bool flush() {
    while (has_output()) {
      const ssize_t n =
          ::send(fd.get(), out.data() + out_pos, out.size() - out_pos, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK;
      }
      out_pos += static_cast<size_t>(n);
      // A peer that reads slowly but never lets the buffer run empty must not keep what it
      // has already taken: drop the sent prefix once it is half the buffer.
      if (has_output() && out_pos >= kKeptOutputCapacity && out_pos >= out.size() / 2) {
        out.erase(0, out_pos);
        out_pos = 0;
      }
    }
    if (out.capacity() > kKeptOutputCapacity) {
      std::string().swap(out);
    } else {
      out.clear();
    }
    out_pos = 0;
    return true;
  }
};

}  // namespace

struct Server::Impl {
  explicit Impl(EventLoop& l) : loop(l) {}

  EventLoop& loop;
  os::UniqueFd listener;
  EventLoop::TimerId accept_pause = 0;
  std::map<std::string, std::map<std::string, Handler>> services;
  std::function<void(uint64_t)> on_disconnect;
  std::function<void(uint64_t)> before_read;
  std::map<uint64_t, std::shared_ptr<Connection>> connections;
  uint64_t next_connection_id = 1;
  // On the heap, not the stack: a 64 kB stack array puts every handler 64 kB deeper, and those
  // stack pages stay resident in every shim daemon; recv touches only the pages it fills.
  std::unique_ptr<char[]> read_buffer{new char[kReadChunk]};

  void accept_ready();
  std::shared_ptr<Connection> add_connection(os::UniqueFd fd);
  Reply make_reply(const std::shared_ptr<Connection>& conn, uint32_t stream);
  void on_io(const std::shared_ptr<Connection>& conn, uint32_t events);
  bool read_ready(const std::shared_ptr<Connection>& conn, uint32_t events);
  void handle_frame(const std::shared_ptr<Connection>& conn, FrameDecoder::Frame& frame);
  void dispatch(const std::shared_ptr<Connection>& conn, uint32_t stream, RequestMessage request);
  void close(const std::shared_ptr<Connection>& conn, bool notify);
  void close_all();
};

void Server::Impl::accept_ready() {
  for (int i = 0; i < kAcceptBatch; ++i) {
    os::UniqueFd fd(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        (void)loop.modify(listener.get(), 0);
        accept_pause = loop.after(kAcceptPause, [this] {
          accept_pause = 0;
          (void)loop.modify(listener.get(), EPOLLIN);
        });
      }
      return;  // EAGAIN: drained
    }
    // Only our own user may drive the shim (ttrpc's UnixSocketRequireSameUser does the same).
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        cred.uid != ::geteuid()) {
      continue;
    }
    add_connection(std::move(fd));
  }
}

std::shared_ptr<Connection> Server::Impl::add_connection(os::UniqueFd fd) {
  auto conn = std::make_shared<Connection>();
  conn->id = next_connection_id++;
  conn->loop = &loop;
  conn->fd = std::move(fd);
  const int raw = conn->fd.get();
  // The watch holds the connection weakly: the map owns it, closing erases it.
  std::weak_ptr<Connection> weak = conn;
  auto watched = loop.watch(raw, EPOLLIN, [this, weak](uint32_t events) {
    if (auto c = weak.lock()) on_io(c, events);
  });
  if (!watched) return nullptr;
  connections.emplace(conn->id, conn);
  return conn;
}

Reply Server::Impl::make_reply(const std::shared_ptr<Connection>& conn, uint32_t stream) {
  conn->pending.insert(stream);
  // The reply may run long after this returns (Wait); it holds the connection weakly so a
  // reply after a disconnect, or after the Server is gone, does nothing.
  std::weak_ptr<Connection> weak = conn;
  return [weak, stream](Status status, std::string payload) {
    const auto c = weak.lock();
    if (!c || !c->open || c->pending.erase(stream) == 0) return;  // gone, or replied twice
    c->queue(stream, status, payload);
  };
}

void Server::Impl::on_io(const std::shared_ptr<Connection>& conn, uint32_t events) {
  conn->in_io = true;
  const bool readable = (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0;
  if (readable && !read_ready(conn, events)) return;  // closed
  conn->in_io = false;
  if (!conn->open) return;
  // Flush here too: replies given synchronously by handlers go out without another wakeup.
  if (!conn->flush() || conn->finished()) {
    close(conn, true);
    return;
  }
  conn->update_interest();
}

// false when the connection was closed (EOF, error, or a handler shut the server down).
bool Server::Impl::read_ready(const std::shared_ptr<Connection>& conn, uint32_t events) {
  if (before_read) before_read(conn->id);
  char* buf = read_buffer.get();
  const ssize_t n = ::recv(conn->fd.get(), buf, kReadChunk, MSG_DONTWAIT);
  // End of requests. Only a half-close (no EPOLLHUP: the peer can still read) is owed the
  // replies in flight; on_io closes once they are out.
  if (n == 0 && (events & (EPOLLHUP | EPOLLERR)) == 0) {
    conn->read_closed = true;
    return true;
  }
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    close(conn, true);
    return false;
  }
  if (n < 0) return true;
  conn->decoder.feed(std::string_view(buf, static_cast<size_t>(n)));
  while (conn->open) {
    auto frame = conn->decoder.next();
    if (!frame) break;
    handle_frame(conn, *frame);
  }
  return conn->open;
}

void Server::Impl::handle_frame(const std::shared_ptr<Connection>& conn,
                                FrameDecoder::Frame& frame) {
  const FrameHeader& h = frame.header;
  // As Go's channel.recv: an oversize frame is answered whatever its type, since its payload
  // was never looked at; it does not count as a use of the stream id.
  if (frame.oversize) {
    conn->queue(h.stream_id,
                {Code::kResourceExhausted, "message length " + std::to_string(h.length) +
                                               " exceeds maximum message size " +
                                               std::to_string(kMaxMessageSize)},
                {});
    return;
  }
  // Data (streaming, ttrpc >= 1.2) and future types: ignored for forward compatibility; no
  // Task API call streams.
  if (h.type != static_cast<uint8_t>(MessageType::kRequest)) return;
  if (h.stream_id % 2 == 0) {
    conn->queue(h.stream_id,
                {Code::kInvalidArgument, "StreamID must be odd for client initiated streams"}, {});
    return;
  }
  if (h.stream_id <= conn->last_stream) {
    conn->queue(h.stream_id,
                {Code::kInvalidArgument, "StreamID cannot be re-used and must increment"}, {});
    return;
  }
  conn->last_stream = h.stream_id;
  auto request = decode_request(frame.payload);
  if (!request) {
    conn->queue(h.stream_id,
                {Code::kInvalidArgument, "unmarshal request error: invalid protobuf encoding"}, {});
    return;
  }
  dispatch(conn, h.stream_id, std::move(*request));
}

void Server::Impl::dispatch(const std::shared_ptr<Connection>& conn, uint32_t stream,
                            RequestMessage request) {
  const auto service = services.find(request.service);
  if (service == services.end()) {
    conn->queue(stream, {Code::kUnimplemented, "service " + request.service}, {});
    return;
  }
  const auto method = service->second.find(request.method);
  if (method == service->second.end()) {
    conn->queue(stream, {Code::kUnimplemented, "method " + request.method}, {});
    return;
  }
  if (conn->pending.size() >= kMaxPendingPerConnection) {
    conn->queue(stream,
                {Code::kResourceExhausted, "more than " + std::to_string(kMaxPendingPerConnection) +
                                               " requests in flight on this connection"},
                {});
    return;
  }
  // A copy: the handler may replace its own registration while it runs.
  const Handler handler = method->second;
  CallContext call;
  call.connection_id = conn->id;
  call.stream_id = stream;
  call.service = std::move(request.service);
  call.method = std::move(request.method);
  call.timeout_nano = request.timeout_nano;
  call.metadata = std::move(request.metadata);
  handler(call, request.payload, make_reply(conn, stream));
}

void Server::Impl::close(const std::shared_ptr<Connection>& conn, bool notify) {
  if (!conn->open) return;
  conn->open = false;
  conn->pending.clear();
  loop.unwatch(conn->fd.get());
  conn->fd.reset();
  const uint64_t id = conn->id;
  connections.erase(id);
  if (notify && on_disconnect) {
    // A copy, and nothing after it: the callback may replace itself or destroy the Server.
    const auto callback = on_disconnect;
    callback(id);
  }
}

void Server::Impl::close_all() {
  auto all = std::move(connections);
  connections.clear();
  for (auto& [id, conn] : all) close(conn, false);
}

Server::Server(EventLoop& loop) : impl_(std::make_unique<Impl>(loop)) {}

Server::~Server() { shutdown(); }

void Server::register_method(const std::string& service, const std::string& method,
                             Handler handler) {
  impl_->services[service][method] = std::move(handler);
}

Result<void> Server::serve(os::UniqueFd listener) {
  if (impl_->listener) return fail("ttrpc server: already serving", EBUSY);
  const int flags = ::fcntl(listener.get(), F_GETFL);
  if (flags < 0 || ::fcntl(listener.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return fail_errno("ttrpc server: set listener non-blocking");
  }
  Impl* impl = impl_.get();
  auto watched =
      impl->loop.watch(listener.get(), EPOLLIN, [impl](uint32_t) { impl->accept_ready(); });
  if (!watched) return std::unexpected(watched.error().context("ttrpc server"));
  impl->listener = std::move(listener);
  return {};
}

void Server::on_disconnect(std::function<void(uint64_t connection_id)> callback) {
  impl_->on_disconnect = std::move(callback);
}

void Server::shutdown() {
  if (impl_->listener) {
    impl_->loop.unwatch(impl_->listener.get());
    impl_->listener.reset();
  }
  if (impl_->accept_pause != 0) {
    impl_->loop.cancel(impl_->accept_pause);
    impl_->accept_pause = 0;
  }
  impl_->close_all();
}

size_t Server::connection_count() const { return impl_->connections.size(); }

int Server::listener_fd() const { return impl_->listener.get(); }

void Server::before_read(std::function<void(uint64_t)> callback) {
  impl_->before_read = std::move(callback);
}

Result<uint64_t> Server::adopt_connection(os::UniqueFd fd, uint32_t last_stream) {
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return fail_errno("ttrpc server: adopt connection fd " + std::to_string(fd.get()));
  }
  const int raw = fd.get();
  auto conn = impl_->add_connection(std::move(fd));
  if (!conn) return fail("ttrpc server: adopt connection fd " + std::to_string(raw) + ": watch");
  conn->last_stream = last_stream;
  return conn->id;
}

Reply Server::adopted_reply(uint64_t connection_id, uint32_t stream_id) {
  const auto it = impl_->connections.find(connection_id);
  if (it == impl_->connections.end()) return [](Status, std::string) {};
  return impl_->make_reply(it->second, stream_id);
}

std::vector<Server::ConnectionRecord> Server::connection_records() const {
  std::vector<ConnectionRecord> records;
  for (const auto& [id, conn] : impl_->connections) {
    // Unsent reply bytes count too: the peer may have taken part of a frame.
    records.push_back(
        {id, conn->fd.get(), conn->last_stream, conn->decoder.mid_frame() || conn->has_output()});
  }
  return records;
}

Server::Backlog Server::backlog() const {
  Backlog b;
  for (const auto& [id, conn] : impl_->connections) {
    b.unsent_bytes += conn->unsent();
    b.reply_buffer_bytes += conn->out.capacity();
    if (!conn->read_closed && !conn->reading()) ++b.paused_connections;
  }
  return b;
}

}  // namespace hippo::ttrpc
