// ttrpc-hostile: misbehaving ttrpc clients against a running shim daemon (shim-hostile.bats,
// issue 18). Each subcommand is one attack; it exits 0 when the shim answered or closed the way
// a robust server must, and prints one line of numbers for the test's log.
//
//   nonreader SOCKET PID MiB    requests whose replies are as large, never read; prints what
//                               the shim took before it stopped reading, and PID's VmRSS then
//   halfclose SOCKET ID EXEC    Wait for a running exec, shutdown(SHUT_WR): the reply must
//                               still arrive when the exec exits, then EOF
//   partial SOCKET SECONDS      two connections each send part of a frame, then sit silent
//   flood SOCKET ID CONNS REQS  CONNS connections with REQS pipelined State requests each
//   malformed SOCKET            bad headers, bad envelopes, oversize and random frames
//   waits SOCKET ID N           N Waits for the running init on one connection (all pending)
//   otheruid SOCKET UID         as UID: connect, send a request, expect a close unanswered

#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "shim/ttrpc/codec.hpp"
#include "shim/ttrpc/messages.hpp"
#include "shim/ttrpc/unix_socket.hpp"

namespace {

using hippo::os::UniqueFd;
namespace tt = hippo::ttrpc;
using Clock = std::chrono::steady_clock;

constexpr const char* kTask = "containerd.task.v2.Task";
constexpr auto kReplyBound = std::chrono::seconds(20);

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "ttrpc-hostile: %s\n", what.c_str());
  std::exit(1);
}

UniqueFd connect_to(const std::string& socket) {
  auto fd = tt::connect_unix(socket);
  if (!fd) die("connect " + socket + ": " + fd.error().message);
  return std::move(*fd);
}

// A protobuf message of string fields 1, 2, … (StateRequest, WaitRequest: id, exec_id).
std::string string_fields(const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].empty()) continue;
    out += static_cast<char>(((i + 1) << 3) | 2);
    for (size_t n = values[i].size();; n >>= 7) {
      out += static_cast<char>((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
      if (n < 0x80) break;
    }
    out += values[i];
  }
  return out;
}

std::string request(uint32_t stream, const std::string& service, const std::string& method,
                    const std::string& payload) {
  tt::RequestMessage r;
  r.service = service;
  r.method = method;
  r.payload = payload;
  return tt::encode_frame(stream, tt::MessageType::kRequest, 0, tt::encode_request(r));
}

void send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die(std::string("send: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

struct Reply {
  uint32_t stream = 0;
  tt::ResponseMessage message;
};
enum class ReadEnd { kReply, kEof, kTimeout };

// The next response on fd, EOF (or a reset), or nothing within `bound`.
ReadEnd read_reply(int fd, tt::FrameDecoder& dec, Reply& out,
                   std::chrono::milliseconds bound = kReplyBound) {
  const auto deadline = Clock::now() + bound;
  std::vector<char> buf(256 * 1024);
  for (;;) {
    if (auto f = dec.next()) {
      auto m = tt::decode_response(f->payload);
      if (!m) die("undecodable response on stream " + std::to_string(f->header.stream_id));
      out = Reply{f->header.stream_id, std::move(*m)};
      return ReadEnd::kReply;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return ReadEnd::kTimeout;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return ReadEnd::kEof;
    if (n < 0) die(std::string("recv: ") + std::strerror(errno));
    dec.feed(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
}

Reply expect_reply(int fd, tt::FrameDecoder& dec, const std::string& what) {
  Reply r;
  const ReadEnd end = read_reply(fd, dec, r);
  if (end == ReadEnd::kEof) die(what + ": connection closed without a reply");
  if (end == ReadEnd::kTimeout) die(what + ": no reply within 20 s");
  return r;
}

// A fresh connection gets an answer: the shim still serves others.
void check_served(const std::string& socket, const std::string& after) {
  UniqueFd fd = connect_to(socket);
  send_all(fd.get(), request(1, kTask, "NoSuchMethod", ""));
  tt::FrameDecoder dec;
  const Reply r = expect_reply(fd.get(), dec, "round trip after " + after);
  if (r.message.status.code != tt::Code::kUnimplemented) {
    die("round trip after " + after + ": " + r.message.status.message);
  }
}

long rss_kb(const std::string& pid) {
  std::ifstream status("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  die("no VmRSS for pid " + pid);
}

int nonreader(const std::string& socket, const std::string& pid, size_t mib) {
  // The shim answers an unknown service by naming it: a 60 kB name makes a 60 kB reply.
  const std::string frame = request(1, std::string(60 * 1024, 's'), "M", "");
  const size_t total = mib << 20;
  UniqueFd fd = connect_to(socket);
  size_t sent = 0;
  bool stalled = false;
  uint32_t stream = 1;
  std::string next;
  while (sent < total) {
    if (next.empty()) {
      next = request(stream, std::string(60 * 1024, 's'), "M", "");
      stream += 2;
    }
    pollfd p{fd.get(), POLLOUT, 0};
    // No room for 2 s: the shim stopped taking requests from a peer that takes no replies.
    if (::poll(&p, 1, 2000) == 0) {
      stalled = true;
      break;
    }
    const ssize_t n = ::send(fd.get(), next.data(), next.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) die(std::string("nonreader send: ") + std::strerror(errno));
    sent += static_cast<size_t>(n);
    next.erase(0, static_cast<size_t>(n));
  }
  const long rss = rss_kb(pid);
  check_served(socket, "a peer that does not read");
  // Every whole request sent is answered once this peer reads.
  const size_t whole = sent / frame.size();
  tt::FrameDecoder dec;
  for (size_t i = 0; i < whole; ++i) {
    const Reply r = expect_reply(fd.get(), dec, "nonreader reply " + std::to_string(i));
    if (r.message.status.code != tt::Code::kUnimplemented) die("nonreader: unexpected status");
  }
  std::printf("nonreader sent_bytes=%zu stalled=%d shim_rss_kb=%ld replies=%zu\n", sent,
              stalled ? 1 : 0, rss, whole);
  return 0;
}

int halfclose(const std::string& socket, const std::string& id, const std::string& exec) {
  UniqueFd fd = connect_to(socket);
  send_all(fd.get(), request(1, kTask, "Wait", string_fields({id, exec})) +
                         request(3, kTask, "State", string_fields({id, exec})));
  if (::shutdown(fd.get(), SHUT_WR) != 0) die("shutdown");
  tt::FrameDecoder dec;
  const auto start = Clock::now();
  bool state = false;
  bool wait = false;
  for (int i = 0; i < 2; ++i) {
    const Reply r = expect_reply(fd.get(), dec, "half-closed connection");
    if (!r.message.status.ok()) die("half-closed: " + r.message.status.message);
    (r.stream == 1 ? wait : state) = true;
  }
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  Reply extra;
  if (read_reply(fd.get(), dec, extra, std::chrono::seconds(5)) != ReadEnd::kEof) {
    die("half-closed: the shim did not close the connection after its last reply");
  }
  std::printf("halfclose state=%d wait=%d wait_reply_after_ms=%lld then=EOF\n", state, wait,
              static_cast<long long>(waited.count()));
  return 0;
}

int partial(const std::string& socket, int seconds) {
  const std::string frame = request(1, kTask, "NoSuchMethod", std::string(1000, 'p'));
  UniqueFd header = connect_to(socket);
  UniqueFd payload = connect_to(socket);
  send_all(header.get(), std::string_view(frame).substr(0, 5));
  send_all(payload.get(), std::string_view(frame).substr(0, tt::kHeaderSize + 10));
  int rounds = 0;
  for (const auto end = Clock::now() + std::chrono::seconds(seconds); Clock::now() < end;) {
    check_served(socket, "partial frames");
    ++rounds;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // The silent peers were kept, and one finishes its frame late: it is answered.
  send_all(header.get(), std::string_view(frame).substr(5));
  tt::FrameDecoder dec;
  const Reply r = expect_reply(header.get(), dec, "late rest of a frame");
  if (r.message.status.code != tt::Code::kUnimplemented) die("partial: unexpected status");
  std::printf("partial served_meanwhile=%d late_frame=answered\n", rounds);
  return 0;
}

int flood(const std::string& socket, const std::string& id, int conns, int reqs) {
  const auto start = Clock::now();
  std::vector<UniqueFd> fds;
  for (int c = 0; c < conns; ++c) {
    fds.push_back(connect_to(socket));
    std::string batch;
    for (int i = 0; i < reqs; ++i) batch += request(2 * i + 1, kTask, "State", string_fields({id}));
    send_all(fds.back().get(), batch);
  }
  int ok = 0;
  for (auto& fd : fds) {
    tt::FrameDecoder dec;
    for (int i = 0; i < reqs; ++i) {
      const Reply r = expect_reply(fd.get(), dec, "flood");
      if (!r.message.status.ok()) die("flood: State: " + r.message.status.message);
      ++ok;
    }
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  std::printf("flood connections=%d requests=%d answered_ok=%d in_ms=%lld\n", conns, conns * reqs,
              ok, static_cast<long long>(ms));
  return ok == conns * reqs ? 0 : 1;
}

int malformed(const std::string& socket) {
  struct Case {
    const char* what;
    std::string bytes;
    tt::Code want;
  };
  std::string oversize(tt::kHeaderSize, '\0');
  tt::encode_header({5u << 20, 1, 1, 0}, reinterpret_cast<uint8_t*>(oversize.data()));
  oversize += std::string(5u << 20, 'o');
  const std::vector<Case> cases = {
      {"all-ones header", std::string(tt::kHeaderSize, '\xff'), tt::Code::kResourceExhausted},
      {"oversize frame", oversize, tt::Code::kResourceExhausted},
      {"empty request", tt::encode_frame(1, tt::MessageType::kRequest, 0, ""),
       tt::Code::kUnimplemented},
      {"truncated envelope",
       tt::encode_frame(1, tt::MessageType::kRequest, 0,
                        "\x0a\x05"
                        "ab"),
       tt::Code::kInvalidArgument},
      {"even stream", request(2, kTask, "State", ""), tt::Code::kInvalidArgument},
      {"unknown service", request(1, "evil.v1.Svc", "State", ""), tt::Code::kUnimplemented},
      {"unknown method", request(1, kTask, "Evil", ""), tt::Code::kUnimplemented},
      {"garbage State body", request(1, kTask, "State", "\xff\xff\xff\xff"),
       tt::Code::kInvalidArgument},
  };
  for (const auto& c : cases) {
    UniqueFd fd = connect_to(socket);
    send_all(fd.get(), c.bytes);
    tt::FrameDecoder dec;
    const Reply r = expect_reply(fd.get(), dec, c.what);
    if (r.message.status.code != c.want) {
      die(std::string(c.what) + ": got code " +
          std::to_string(static_cast<int>(r.message.status.code)) + " " + r.message.status.message);
    }
    check_served(socket, c.what);
  }
  // Random bytes, and random bytes behind a valid header: answered or not, never fatal.
  std::mt19937 rng(18);
  for (int i = 0; i < 100; ++i) {
    UniqueFd fd = connect_to(socket);
    std::string junk(1 + rng() % 400, '\0');
    for (char& ch : junk) ch = static_cast<char>(rng());
    if (i % 2 == 1) junk = tt::encode_frame(1, tt::MessageType::kRequest, 0, junk);
    send_all(fd.get(), junk);
  }
  check_served(socket, "random frames");
  std::printf("malformed cases=%zu random=100 all_answered_or_closed=1\n", cases.size());
  return 0;
}

int waits(const std::string& socket, const std::string& id, int n) {
  UniqueFd fd = connect_to(socket);
  std::string batch;
  for (int i = 0; i < n; ++i) batch += request(2 * i + 1, kTask, "Wait", string_fields({id}));
  send_all(fd.get(), batch);
  tt::FrameDecoder dec;
  const int refused = n > 1024 ? n - 1024 : 0;
  for (int i = 0; i < refused; ++i) {
    const Reply r = expect_reply(fd.get(), dec, "waits");
    if (r.message.status.code != tt::Code::kResourceExhausted) {
      die("waits: expected ResourceExhausted, got " + r.message.status.message);
    }
  }
  check_served(socket, "pending Waits");
  std::printf("waits sent=%d refused_resource_exhausted=%d\n", n, refused);
  return 0;
}

int otheruid(const std::string& socket, uid_t uid) {
  if (::setgroups(0, nullptr) != 0 || ::setgid(uid) != 0 || ::setuid(uid) != 0) {
    die(std::string("drop to uid ") + std::to_string(uid) + ": " + std::strerror(errno));
  }
  auto fd = tt::connect_unix(socket);
  if (!fd) {
    std::fprintf(stderr, "ttrpc-hostile: connect as uid %u: %s\n", uid, fd.error().message.c_str());
    return 2;  // refused by file permissions, not by the shim
  }
  // The shim may have closed us before the request goes out: that is the refusal too.
  const std::string frame = request(1, kTask, "NoSuchMethod", "");
  if (::send(fd->get(), frame.data(), frame.size(), MSG_NOSIGNAL) < 0 && errno != EPIPE &&
      errno != ECONNRESET) {
    die(std::string("otheruid send: ") + std::strerror(errno));
  }
  tt::FrameDecoder dec;
  Reply r;
  switch (read_reply(fd->get(), dec, r, std::chrono::seconds(10))) {
    case ReadEnd::kEof:
      std::printf("otheruid uid=%u connected=1 closed_unanswered=1\n", uid);
      return 0;
    case ReadEnd::kReply:
      std::fprintf(stderr, "ttrpc-hostile: uid %u was answered: %s\n", uid,
                   r.message.status.message.c_str());
      return 1;
    case ReadEnd::kTimeout:
      break;
  }
  std::fprintf(stderr, "ttrpc-hostile: uid %u: neither answered nor closed in 10 s\n", uid);
  return 3;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> a(argv + 1, argv + argc);
  auto need = [&](size_t n) {
    if (a.size() != n) die("usage: see the comment at the top of ttrpc_hostile.cpp");
  };
  if (a.empty()) need(1);
  const std::string& cmd = a[0];
  if (cmd == "nonreader") return need(4), nonreader(a[1], a[2], std::stoul(a[3]));
  if (cmd == "halfclose") return need(4), halfclose(a[1], a[2], a[3]);
  if (cmd == "partial") return need(3), partial(a[1], std::stoi(a[2]));
  if (cmd == "flood") return need(5), flood(a[1], a[2], std::stoi(a[3]), std::stoi(a[4]));
  if (cmd == "malformed") return need(2), malformed(a[1]);
  if (cmd == "waits") return need(4), waits(a[1], a[2], std::stoi(a[3]));
  if (cmd == "otheruid") return need(3), otheruid(a[1], static_cast<uid_t>(std::stoul(a[2])));
  die("unknown subcommand " + cmd);
}
