// The Server against peers that misbehave (issue 18): each costs only its own connection, and
// every other connection keeps being served. Real sockets, a real event loop on its thread.

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <set>

#include "shim/ttrpc/client.hpp"
#include "shim/ttrpc/server.hpp"
#include "shim/ttrpc/tests/test_support.hpp"
#include "shim/ttrpc/unix_socket.hpp"

namespace hippo::ttrpc {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): test helpers
constexpr const char* kSvc = "test.v1.Echo";
constexpr size_t kHighWater = size_t{1} << 20;  // the server's, see server.cpp
constexpr size_t kMaxPending = 1024;            // the server's, see server.cpp

class HostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_ = dir_.path() + "/ttrpc.sock";
    loop_.run([this] {
      server_ = std::make_unique<Server>(loop_.loop());
      server_->register_method(kSvc, "Echo",
                               [this](const CallContext&, std::string_view p, Reply r) {
                                 ++echoes_;
                                 r(Status::Ok(), std::string(p));
                               });
      server_->register_method(kSvc, "Hold", [this](const CallContext&, std::string_view, Reply r) {
        held_.push_back(std::move(r));
      });
      server_->on_disconnect([this](uint64_t) { ++disconnects_; });
    });
    auto listener = listen_unix(socket_);
    ASSERT_TRUE(listener) << listener.error().message;
    auto served = loop_.run([&] { return server_->serve(std::move(*listener)); });
    ASSERT_TRUE(served) << served.error().message;
  }

  void TearDown() override {
    loop_.run([this] {
      held_.clear();
      server_.reset();
    });
    loop_.stop();
  }

  os::UniqueFd raw_connect() {
    auto fd = connect_unix(socket_);
    EXPECT_TRUE(fd) << fd.error().message;
    return fd ? std::move(*fd) : os::UniqueFd();
  }
  // A round trip on a fresh connection: the server still serves others.
  void expect_others_served(const std::string& what) {
    auto c = Client::connect("unix://" + socket_);
    ASSERT_TRUE(c) << what << ": " << c.error().message;
    auto r = c->call(kSvc, "Echo", what);
    ASSERT_TRUE(r) << what << ": " << r.error().message;
    EXPECT_EQ(r->payload, what);
  }
  size_t held_count() {
    return loop_.run([this] { return held_.size(); });
  }
  size_t connections() {
    return loop_.run([this] { return server_->connection_count(); });
  }
  Server::Backlog backlog() {
    return loop_.run([this] { return server_->backlog(); });
  }

  TempDir dir_;
  std::string socket_;
  LoopThread loop_;
  std::unique_ptr<Server> server_;  // loop thread only
  std::vector<Reply> held_;         // loop thread only
  std::atomic<size_t> echoes_{0};
  std::atomic<size_t> disconnects_{0};
};

TEST_F(HostileTest, PeerThatNeverReadsIsNotReadPastTheHighWaterMark) {
  // 16 MiB of requests whose replies are as large: without backpressure the server would read
  // them all and hold every reply it cannot send.
  constexpr int kRequests = 256;
  const std::string payload(64 * 1024, 'n');
  os::UniqueFd fd = raw_connect();
  std::atomic<bool> written{false};
  std::thread writer([&] {
    std::string batch;
    for (int i = 0; i < kRequests; ++i) batch += request_frame(2 * i + 1, kSvc, "Echo", payload);
    write_all(fd.get(), batch);
    written = true;
  });
  struct Unblock {  // a failed assertion must not leave the writer blocked in send
    int fd;
    std::thread& t;
    ~Unblock() {
      if (t.joinable()) {
        ::shutdown(fd, SHUT_RDWR);
        t.join();
      }
    }
  } unblock{fd.get(), writer};

  ASSERT_TRUE(eventually([&] { return written || backlog().paused_connections == 1; }));
  ASSERT_FALSE(written) << "the server read all 16 MiB of a peer that reads nothing";
  const Server::Backlog paused = backlog();
  EXPECT_GE(paused.unsent_bytes, kHighWater);
  EXPECT_LE(paused.unsent_bytes, kHighWater + 256 * 1024);
  // Paused, the connection is not read while another is served, and the backlog stays.
  const size_t handled = echoes_;
  expect_others_served("while one peer does not read");
  EXPECT_EQ(echoes_, handled + 1);
  EXPECT_LE(backlog().unsent_bytes, paused.unsent_bytes);

  // Once the peer reads, it gets every reply, in full, and the writer finishes.
  FrameDecoder dec;
  for (int i = 0; i < kRequests; ++i) {
    auto r = read_response(fd.get(), dec);
    ASSERT_TRUE(r) << "reply " << i;
    EXPECT_EQ(r->stream, static_cast<uint32_t>(2 * i + 1));
    EXPECT_EQ(r->message.payload.size(), payload.size());
  }
  writer.join();
  EXPECT_TRUE(written);
  EXPECT_EQ(backlog().unsent_bytes, 0u);
  EXPECT_EQ(backlog().paused_connections, 0u);
}

TEST_F(HostileTest, PausedPeerThatGoesAwayIsClosedWithItsBacklog) {
  // Not read while paused, the peer's close must still be seen (EPOLLHUP, asked for or not).
  os::UniqueFd fd = raw_connect();
  std::thread writer([&] {
    std::string batch;  // 4 MiB of replies
    for (uint32_t s = 1; s < 2 * 64; s += 2) {
      batch += request_frame(s, kSvc, "Echo", std::string(64 * 1024, 'g'));
    }
    // Fails once the server is gone or the test shuts the socket: that ends the thread.
    while (!batch.empty()) {
      const ssize_t n = ::send(fd.get(), batch.data(), batch.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      batch.erase(0, static_cast<size_t>(n));
    }
  });
  ASSERT_TRUE(eventually([&] { return backlog().paused_connections == 1; }));
  ::shutdown(fd.get(), SHUT_RDWR);
  writer.join();
  fd.reset();
  ASSERT_TRUE(eventually([&] { return connections() == 0; }));
  EXPECT_EQ(disconnects_, 1u);
  EXPECT_EQ(backlog().unsent_bytes, 0u);
}

TEST_F(HostileTest, SlowReaderThatNeverLetsRepliesRunOutDoesNotPileUpSentBytes) {
  // 64 MiB each way: the writer is always ahead (held back only by the high-water mark), so the
  // reply buffer never empties; what was already sent must not stay in it.
  constexpr int kRequests = 1024;
  const std::string payload(64 * 1024, 's');
  os::UniqueFd fd = raw_connect();
  std::thread writer([&] {
    for (int i = 0; i < kRequests; ++i) {
      write_all(fd.get(), request_frame(2 * i + 1, kSvc, "Echo", payload));
    }
  });
  struct Unblock {
    int fd;
    std::thread& t;
    ~Unblock() {
      if (t.joinable()) {
        ::shutdown(fd, SHUT_RDWR);
        t.join();
      }
    }
  } unblock{fd.get(), writer};
  FrameDecoder dec;
  size_t peak = 0;
  for (int i = 0; i < kRequests; ++i) {
    auto r = read_response(fd.get(), dec);  // 4 kB reads: a slow peer
    ASSERT_TRUE(r) << "reply " << i;
    ASSERT_EQ(r->message.payload.size(), payload.size());
    peak = std::max(peak, backlog().reply_buffer_bytes);
  }
  writer.join();
  EXPECT_LE(peak, 8 * kHighWater) << "the reply buffer kept what it had sent";
  // Drained, a grown buffer is given back.
  EXPECT_LE(backlog().reply_buffer_bytes, 64u * 1024);
}

TEST_F(HostileTest, HalfClosedPeerGetsItsPendingRepliesThenTheConnectionCloses) {
  os::UniqueFd fd = raw_connect();
  FrameDecoder dec;
  write_all(fd.get(), request_frame(1, kSvc, "Hold", "") + request_frame(3, kSvc, "Echo", "x"));
  ASSERT_EQ(::shutdown(fd.get(), SHUT_WR), 0);
  auto r = read_response(fd.get(), dec);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stream, 3u);
  ASSERT_TRUE(eventually([&] { return held_count() == 1; }));
  EXPECT_EQ(connections(), 1u);  // kept open for the held reply
  EXPECT_EQ(disconnects_, 0u);
  loop_.run([this] { held_[0](Status::Ok(), "exited"); });
  r = read_response(fd.get(), dec);
  ASSERT_TRUE(r) << "the reply owed to a half-closed peer was dropped";
  EXPECT_EQ(r->stream, 1u);
  EXPECT_EQ(r->message.payload, "exited");
  EXPECT_FALSE(read_frame(fd.get(), dec));  // then EOF: the server closed
  ASSERT_TRUE(eventually([&] { return disconnects_ == 1; }));
  EXPECT_EQ(connections(), 0u);
}

TEST_F(HostileTest, HalfClosedPeerGetsALargeReplyWhole) {
  // The reply is far larger than the socket buffer: it is still going out when the EOF is read.
  os::UniqueFd fd = raw_connect();
  const std::string payload(3 << 20, 'h');
  write_all(fd.get(), request_frame(1, kSvc, "Echo", payload));
  ASSERT_EQ(::shutdown(fd.get(), SHUT_WR), 0);
  ASSERT_TRUE(eventually([&] { return echoes_ == 1; }));
  FrameDecoder dec;
  auto r = read_response(fd.get(), dec);
  ASSERT_TRUE(r) << "the reply was cut when the peer's EOF was read";
  EXPECT_EQ(r->message.payload, payload);
  EXPECT_FALSE(read_frame(fd.get(), dec));
  ASSERT_TRUE(eventually([&] { return disconnects_ == 1; }));
}

TEST_F(HostileTest, PartialFramesFollowedBySilenceBlockNobody) {
  os::UniqueFd half_header = raw_connect();
  os::UniqueFd half_payload = raw_connect();
  const std::string frame = request_frame(1, kSvc, "Echo", std::string(1000, 'p'));
  write_all(half_header.get(), std::string_view(frame).substr(0, 5));
  write_all(half_payload.get(), std::string_view(frame).substr(0, kHeaderSize + 10));
  for (int i = 0; i < 3; ++i) expect_others_served("call " + std::to_string(i));
  ASSERT_TRUE(eventually([&] { return disconnects_ == 3; }));  // the three callers'
  EXPECT_EQ(connections(), 2u);
  // The waiting peer's frame is whole once the rest arrives, however late.
  write_all(half_header.get(), std::string_view(frame).substr(5));
  FrameDecoder dec;
  auto r = read_response(half_header.get(), dec);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->message.payload.size(), 1000u);
  half_payload.reset();
  ASSERT_TRUE(eventually([&] { return disconnects_ == 4; }));
  EXPECT_EQ(connections(), 1u);
}

TEST_F(HostileTest, RequestsPastTheInFlightLimitAreResourceExhausted) {
  constexpr size_t kExtra = 76;
  os::UniqueFd fd = raw_connect();
  std::string batch;
  for (size_t i = 0; i < kMaxPending + kExtra; ++i) {
    batch += request_frame(static_cast<uint32_t>(2 * i + 1), kSvc, "Hold", "");
  }
  write_all(fd.get(), batch);
  FrameDecoder dec;
  for (size_t i = 0; i < kExtra; ++i) {
    auto r = read_response(fd.get(), dec);
    ASSERT_TRUE(r) << "answer " << i;
    EXPECT_EQ(r->stream, static_cast<uint32_t>(2 * (kMaxPending + i) + 1));
    EXPECT_EQ(r->message.status.code, Code::kResourceExhausted);
    EXPECT_EQ(r->message.status.message, "more than 1024 requests in flight on this connection");
  }
  EXPECT_EQ(held_count(), kMaxPending);
  // An answered request makes room again.
  loop_.run([this] { held_[0](Status::Ok(), "done"); });
  auto r = read_response(fd.get(), dec);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stream, 1u);
  write_all(fd.get(), request_frame(static_cast<uint32_t>(2 * (kMaxPending + kExtra) + 1), kSvc,
                                    "Echo", "room"));
  r = read_response(fd.get(), dec);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->message.status.ok()) << r->message.status.message;
  EXPECT_EQ(r->message.payload, "room");
}

TEST_F(HostileTest, FloodOfTwoHundredConnectionsWithFiftyPipelinedRequestsEach) {
  constexpr int kConns = 200;
  constexpr int kPerConn = 50;
  std::vector<os::UniqueFd> fds;
  for (int c = 0; c < kConns; ++c) {
    fds.push_back(raw_connect());
    std::string batch;
    for (int i = 0; i < kPerConn; ++i) {
      batch += request_frame(2 * i + 1, kSvc, "Echo", std::to_string(c) + "/" + std::to_string(i));
    }
    write_all(fds.back().get(), batch);
  }
  for (int c = 0; c < kConns; ++c) {
    FrameDecoder dec;
    std::set<uint32_t> streams;
    for (int i = 0; i < kPerConn; ++i) {
      auto r = read_response(fds[c].get(), dec);
      ASSERT_TRUE(r) << "connection " << c << " reply " << i;
      EXPECT_EQ(r->message.payload, std::to_string(c) + "/" + std::to_string((r->stream - 1) / 2));
      streams.insert(r->stream);
    }
    EXPECT_EQ(streams.size(), size_t{kPerConn});
  }
  EXPECT_EQ(echoes_, size_t{kConns * kPerConn});
  EXPECT_EQ(connections(), size_t{kConns});
  fds.clear();
  ASSERT_TRUE(eventually([&] { return disconnects_ == kConns; }));
  EXPECT_EQ(connections(), 0u);
}

TEST_F(HostileTest, MalformedHeadersAndEnvelopesAreAnsweredNotFatal) {
  struct Case {
    const char* what;
    std::string bytes;
    Code want;
  };
  const std::vector<Case> cases = {
      {"all-ones header (4 GiB length)", std::string(kHeaderSize, '\xff'),
       Code::kResourceExhausted},
      {"empty request", encode_frame(1, MessageType::kRequest, 0, ""), Code::kUnimplemented},
      {"truncated string",
       encode_frame(1, MessageType::kRequest, 0,
                    "\x0a\x05"
                    "ab"),
       Code::kInvalidArgument},
      {"truncated varint", encode_frame(1, MessageType::kRequest, 0, "\x08"),
       Code::kInvalidArgument},
      {"huge field length", encode_frame(1, MessageType::kRequest, 0, "\x0a\xff\xff\xff\xff\x0f"),
       Code::kInvalidArgument},
      {"stream 0", request_frame(0, kSvc, "Echo", ""), Code::kInvalidArgument},
  };
  for (const auto& c : cases) {
    os::UniqueFd fd = raw_connect();
    write_all(fd.get(), c.bytes);
    FrameDecoder dec;
    auto r = read_response(fd.get(), dec);
    ASSERT_TRUE(r) << c.what;
    EXPECT_EQ(r->message.status.code, c.want) << c.what << ": " << r->message.status.message;
    expect_others_served(c.what);
  }
  // Random bytes: answered or not, each connection is closed when its peer goes.
  std::mt19937 rng(18);
  for (int i = 0; i < 50; ++i) {
    os::UniqueFd fd = raw_connect();
    std::string junk(1 + rng() % 300, '\0');
    for (char& ch : junk) ch = static_cast<char>(rng());
    write_all(fd.get(), junk);
  }
  expect_others_served("after random bytes");
  ASSERT_TRUE(eventually([&] { return connections() == 0; }));
}

}  // namespace
}  // namespace hippo::ttrpc
