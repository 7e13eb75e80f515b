// AsyncClient: one lazily (re)connected socket on the event loop, calls written in order,
// responses matched by stream id. Every `done` runs from a deferred loop callback, never from
// inside call()/reset() or the middle of frame parsing, so a callback may issue new calls,
// reset, or destroy the client.

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "shim/ttrpc/client.hpp"
#include "shim/ttrpc/messages.hpp"
#include "shim/ttrpc/unix_socket.hpp"

namespace hippo::ttrpc {

struct AsyncClient::Impl {
  enum class State { kIdle, kConnecting, kConnected };
  struct Pending {
    Done done;
    EventLoop::TimerId timer = 0;
    std::string name;  // "ttrpc call <service>/<method>", for error messages
  };

  static constexpr size_t kReadChunk = 64 * 1024;

  Impl(EventLoop& l, std::string a) : loop(l), address(std::move(a)) {}
  ~Impl() {
    for (auto& [stream, p] : pending) {
      if (p.timer != 0) loop.cancel(p.timer);
    }
    if (fd) loop.unwatch(fd.get());
  }

  EventLoop& loop;
  std::string address;
  State state = State::kIdle;
  os::UniqueFd fd;
  FrameDecoder decoder;
  std::string out;
  size_t out_pos = 0;
  uint32_t next_stream = 1;  // per connection: the server wants 1, 3, 5, … on each
  std::map<uint32_t, Pending> pending;
  // Deferred deliveries check this, so none runs after the client is destroyed.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  // On the heap, not the stack (see Server::Impl::read_buffer).
  std::unique_ptr<char[]> read_buffer{new char[kReadChunk]};

  void deliver(Done done, Result<CallResult> result) {
    loop.defer([weak = std::weak_ptr<bool>(alive), done = std::move(done),
                result = std::move(result)]() mutable {
      if (!weak.expired()) done(std::move(result));
    });
  }

  void complete(uint32_t stream, Result<CallResult> result) {
    const auto it = pending.find(stream);
    if (it == pending.end()) return;  // timed out already: a late answer
    Pending p = std::move(it->second);
    pending.erase(it);
    if (p.timer != 0) loop.cancel(p.timer);
    if (!result) result.error().context(p.name);
    deliver(std::move(p.done), std::move(result));
  }

  // Closes the connection and fails every pending call with `error`.
  void drop(const Error& error) {
    if (fd) {
      loop.unwatch(fd.get());
      fd.reset();
    }
    state = State::kIdle;
    decoder = FrameDecoder();
    out.clear();
    out_pos = 0;
    next_stream = 1;
    auto failed = std::move(pending);
    pending.clear();
    for (auto& [stream, p] : failed) {
      if (p.timer != 0) loop.cancel(p.timer);
      Error e = error;
      deliver(std::move(p.done), std::unexpected(std::move(e.context(p.name))));
    }
  }

  void update_interest() {
    if (state != State::kConnected) return;
    (void)loop.modify(fd.get(), EPOLLIN | (out_pos < out.size() ? EPOLLOUT : 0u));
  }

  void start_connect();
  void on_io(uint32_t events);
  bool read_ready();
  bool flush();
};

void AsyncClient::Impl::start_connect() {
  auto addr = unix_address(address);
  if (!addr) return drop(addr.error());
  fd.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return drop(Error::from_errno(errno, "socket"));
  const int rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr->addr), addr->length);
  if (rc != 0 && errno != EINPROGRESS) {
    return drop(Error::from_errno(errno, "connect \"" + address + "\""));
  }
  state = rc == 0 ? State::kConnected : State::kConnecting;
  const uint32_t events = rc == 0 ? EPOLLIN | EPOLLOUT : EPOLLOUT;
  auto watched = loop.watch(fd.get(), events, [this](uint32_t ev) { on_io(ev); });
  if (!watched) drop(watched.error());
}

void AsyncClient::Impl::on_io(uint32_t events) {
  if (state == State::kConnecting) {
    int err = 0;
    socklen_t len = sizeof(err);
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) return drop(Error::from_errno(err, "connect \"" + address + "\""));
    state = State::kConnected;
  }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 && !read_ready()) return;
  if (!flush()) return;
  update_interest();
}

// false: the connection was dropped.
bool AsyncClient::Impl::read_ready() {
  char* buf = read_buffer.get();
  const ssize_t n = ::recv(fd.get(), buf, kReadChunk, MSG_DONTWAIT);
  if (n == 0) {
    drop(Error{ECONNRESET, "ttrpc: closed"});
    return false;
  }
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
    drop(Error::from_errno(errno, "recv"));
    return false;
  }
  decoder.feed(std::string_view(buf, static_cast<size_t>(n)));
  while (auto f = decoder.next()) {
    if (f->header.type != static_cast<uint8_t>(MessageType::kResponse)) continue;
    if (f->oversize) {
      complete(
          f->header.stream_id,
          std::unexpected(Error{EMSGSIZE, "response length " + std::to_string(f->header.length) +
                                              " exceeds maximum message size"}));
      continue;
    }
    auto response = decode_response(f->payload);
    if (!response) {
      complete(f->header.stream_id, std::unexpected(Error{EBADMSG, "invalid response encoding"}));
      continue;
    }
    complete(f->header.stream_id,
             CallResult{std::move(response->status), std::move(response->payload)});
  }
  return true;
}

// false: the connection was dropped.
bool AsyncClient::Impl::flush() {
  while (out_pos < out.size()) {
    const ssize_t n =
        ::send(fd.get(), out.data() + out_pos, out.size() - out_pos, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      drop(Error::from_errno(errno, "send"));
      return false;
    }
    out_pos += static_cast<size_t>(n);
  }
  out.clear();
  out_pos = 0;
  return true;
}

AsyncClient::AsyncClient(EventLoop& loop, std::string address)
    : impl_(std::make_unique<Impl>(loop, std::move(address))) {}

AsyncClient::~AsyncClient() = default;

void AsyncClient::call(std::string service, std::string method, std::string payload,
                       Metadata metadata, std::chrono::milliseconds timeout, Done done) {
  Impl& c = *impl_;
  std::string name = "ttrpc call " + service + "/" + method;
  RequestMessage request{std::move(service), std::move(method), std::move(payload), 0,
                         std::move(metadata)};
  if (timeout.count() > 0) request.timeout_nano = std::chrono::nanoseconds(timeout).count();
  const std::string body = encode_request(request);
  if (body.size() > kMaxMessageSize) {
    c.deliver(
        std::move(done),
        std::unexpected(Error{EMSGSIZE, name + ": message length " + std::to_string(body.size()) +
                                            " exceeds maximum message size"}));
    return;
  }
  const uint32_t stream = c.next_stream;
  c.next_stream += 2;
  c.out += encode_frame(stream, MessageType::kRequest, 0, body);
  Impl::Pending& p = c.pending[stream];
  p.done = std::move(done);
  p.name = std::move(name);
  if (timeout.count() > 0) {
    Impl* impl = impl_.get();
    p.timer = c.loop.after(timeout, [impl, stream] {
      const auto it = impl->pending.find(stream);
      if (it == impl->pending.end()) return;
      it->second.timer = 0;  // it is firing; complete() must not cancel it
      impl->complete(stream, std::unexpected(Error{ETIMEDOUT, "deadline exceeded"}));
    });
  }
  if (c.state == Impl::State::kIdle) {
    c.start_connect();  // on failure, drop() fails this call (deferred) with the others
  } else {
    c.update_interest();
  }
}

void AsyncClient::reset() { impl_->drop(Error{ECONNABORTED, "ttrpc: client reset"}); }

}  // namespace hippo::ttrpc
