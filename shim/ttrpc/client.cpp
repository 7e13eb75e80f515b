#include "shim/ttrpc/client.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <optional>

#include "shim/ttrpc/messages.hpp"
#include "shim/ttrpc/unix_socket.hpp"

namespace hippo::ttrpc {
namespace {

using Clock = std::chrono::steady_clock;

// nullopt deadline: wait forever.
int poll_timeout_ms(const std::optional<Clock::time_point>& deadline) {
  if (!deadline) return -1;
  const auto left = *deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > 1'000'000 ? 1'000'000 : static_cast<int>(ms);
}

bool expired(const std::optional<Clock::time_point>& deadline) {
  return deadline && Clock::now() >= *deadline;
}

// 0 when ready, else the errno (ETIMEDOUT once the deadline passed).
int wait_for(int fd, short events, const std::optional<Clock::time_point>& deadline) {
  for (;;) {
    if (expired(deadline)) return ETIMEDOUT;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, poll_timeout_ms(deadline));
    if (n > 0) return 0;
    if (n < 0 && errno != EINTR) return errno;
  }
}

}  // namespace

Result<Client> Client::connect(const std::string& address) {
  auto fd = connect_unix(address);
  if (!fd) return std::unexpected(fd.error().context("ttrpc client"));
  return Client(std::move(*fd));
}

Result<CallResult> Client::call(std::string_view service, std::string_view method,
                                std::string_view payload, const Metadata& metadata,
                                std::chrono::milliseconds timeout) {
  const std::string name = "ttrpc call " + std::string(service) + "/" + std::string(method);
  if (!fd_) return fail(name + ": ttrpc: closed", EPIPE);
  std::optional<Clock::time_point> deadline;
  RequestMessage request{std::string(service), std::string(method), std::string(payload), 0,
                         metadata};
  if (timeout.count() > 0) {
    deadline = Clock::now() + timeout;
    request.timeout_nano = std::chrono::nanoseconds(timeout).count();
  }
  const std::string body = encode_request(request);
  if (body.size() > kMaxMessageSize) {
    return fail(name + ": message length " + std::to_string(body.size()) +
                    " exceeds maximum message size " + std::to_string(kMaxMessageSize),
                EMSGSIZE);
  }
  const uint32_t stream = next_stream_;
  next_stream_ += 2;

  const std::string frame = encode_frame(stream, MessageType::kRequest, 0, body);
  for (size_t sent = 0; sent < frame.size();) {
    if (const int err = wait_for(fd_.get(), POLLOUT, deadline); err != 0) {
      fd_.reset();  // a partly written frame leaves the stream unusable
      return fail(name + ": send: " + std::strerror(err), err);
    }
    const ssize_t n =
        ::send(fd_.get(), frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      const int err = errno;
      fd_.reset();
      return fail(name + ": send: " + std::strerror(err), err);
    }
    sent += static_cast<size_t>(n);
  }

  char buf[64 * 1024];
  for (;;) {
    while (auto f = decoder_.next()) {
      // Responses for other streams are late answers to calls that already timed out.
      if (f->header.stream_id != stream ||
          f->header.type != static_cast<uint8_t>(MessageType::kResponse)) {
        continue;
      }
      if (f->oversize) {
        return fail(name + ": response length " + std::to_string(f->header.length) +
                        " exceeds maximum message size",
                    EMSGSIZE);
      }
      auto response = decode_response(f->payload);
      if (!response) return fail(name + ": invalid response encoding", EBADMSG);
      return CallResult{std::move(response->status), std::move(response->payload)};
    }
    if (const int err = wait_for(fd_.get(), POLLIN, deadline); err != 0) {
      if (err == ETIMEDOUT) return fail(name + ": deadline exceeded", ETIMEDOUT);
      return fail(name + ": poll: " + std::strerror(err), err);
    }
    const ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0) {
      fd_.reset();
      return fail(name + ": ttrpc: closed", ECONNRESET);
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      const int err = errno;
      fd_.reset();
      return fail(name + ": recv: " + std::strerror(err), err);
    }
    decoder_.feed(std::string_view(buf, static_cast<size_t>(n)));
  }
}

}  // namespace hippo::ttrpc
