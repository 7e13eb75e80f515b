#include "shim/ttrpc/server.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <condition_variable>
#include <set>

#include "shim/ttrpc/client.hpp"
#include "shim/ttrpc/tests/test_support.hpp"
#include "shim/ttrpc/unix_socket.hpp"

namespace hippo::ttrpc {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): test helpers
constexpr const char* kSvc = "test.v1.Echo";

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_ = dir_.path() + "/ttrpc.sock";
    loop_.run([this] {
      server_ = std::make_unique<Server>(loop_.loop());
      server_->register_method(kSvc, "Echo",
                               [this](const CallContext& c, std::string_view p, Reply reply) {
                                 last_call_ = c;
                                 reply(Status::Ok(), std::string(p));
                               });
      server_->register_method(kSvc, "Fail", [](const CallContext&, std::string_view, Reply r) {
        r({Code::kNotFound, "thing not found"}, "");
      });
      server_->register_method(
          kSvc, "Hold",
          [this](const CallContext&, std::string_view, Reply reply) { held_.push_back(reply); });
      server_->register_method(kSvc, "Twice", [](const CallContext&, std::string_view, Reply r) {
        r(Status::Ok(), "one");
        r(Status::Ok(), "two");  // ignored: a stream gets one response
      });
      server_->on_disconnect([this](uint64_t id) {
        std::lock_guard lock(mu_);
        disconnected_.push_back(id);
      });
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
  Client client() {
    auto c = Client::connect("unix://" + socket_);
    EXPECT_TRUE(c) << c.error().message;
    return std::move(*c);
  }
  size_t disconnects() {
    std::lock_guard lock(mu_);
    return disconnected_.size();
  }
  size_t held_count() {
    return loop_.run([this] { return held_.size(); });
  }

  TempDir dir_;
  std::string socket_;
  LoopThread loop_;
  std::unique_ptr<Server> server_;  // loop thread only
  CallContext last_call_;           // loop thread only
  std::vector<Reply> held_;         // loop thread only
  std::mutex mu_;
  std::vector<uint64_t> disconnected_;
};

TEST_F(ServerTest, UnaryCallRoundTripCarriesMetadataAndTimeout) {
  Client c = client();
  auto r = c.call(kSvc, "Echo", "ping", {{"containerd-namespace-ttrpc", "default"}},
                  std::chrono::seconds(7));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->status.ok());
  EXPECT_EQ(r->payload, "ping");
  const CallContext call = loop_.run([this] { return last_call_; });
  EXPECT_EQ(call.service, kSvc);
  EXPECT_EQ(call.method, "Echo");
  EXPECT_EQ(call.stream_id, 1u);
  EXPECT_NE(call.connection_id, 0u);
  EXPECT_EQ(call.timeout_nano, 7'000'000'000);
  ASSERT_EQ(call.metadata.size(), 1u);
  EXPECT_EQ(call.metadata[0].second, "default");
  // A second call on the same connection uses the next odd stream.
  ASSERT_TRUE(c.call(kSvc, "Echo", ""));
  EXPECT_EQ(loop_.run([this] { return last_call_.stream_id; }), 3u);
}

TEST_F(ServerTest, ErrorStatusAndUnknownServiceOrMethod) {
  Client c = client();
  auto failed = c.call(kSvc, "Fail", "");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status.code, Code::kNotFound);
  EXPECT_EQ(failed->status.message, "thing not found");
  auto no_service = c.call("nope.v1.Svc", "Echo", "");
  ASSERT_TRUE(no_service);
  EXPECT_EQ(no_service->status.code, Code::kUnimplemented);
  EXPECT_EQ(no_service->status.message, "service nope.v1.Svc");
  auto no_method = c.call(kSvc, "Nope", "");
  ASSERT_TRUE(no_method);
  EXPECT_EQ(no_method->status.code, Code::kUnimplemented);
  EXPECT_EQ(no_method->status.message, "method Nope");
}

TEST_F(ServerTest, EvenAndReusedStreamIdsAreRejectedOnThatStream) {
  os::UniqueFd fd = raw_connect();
  FrameDecoder dec;
  write_all(fd.get(), request_frame(2, kSvc, "Echo", "even"));
  auto r = read_response(fd.get(), dec);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stream, 2u);
  EXPECT_EQ(r->message.status.code, Code::kInvalidArgument);
  EXPECT_TRUE(r->message.status.message.starts_with("StreamID must be odd"));

  write_all(fd.get(), request_frame(5, kSvc, "Echo", "five") +
                          request_frame(3, kSvc, "Echo", "three") +
                          request_frame(5, kSvc, "Echo", "five again") +
                          request_frame(7, kSvc, "Echo", "seven"));
  const std::vector<std::pair<uint32_t, Code>> want = {
      {5, Code::kOk}, {3, Code::kInvalidArgument}, {5, Code::kInvalidArgument}, {7, Code::kOk}};
  for (const auto& [stream, code] : want) {
    r = read_response(fd.get(), dec);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->stream, stream);
    EXPECT_EQ(r->message.status.code, code) << r->message.status.message;
    if (code == Code::kInvalidArgument) {
      EXPECT_EQ(r->message.status.message, "StreamID cannot be re-used and must increment");
    }
  }
  EXPECT_EQ(r->message.payload, "seven");
}

TEST_F(ServerTest, OversizeFrameAnsweredResourceExhaustedAndConnectionStaysUsable) {
  os::UniqueFd fd = raw_connect();
  FrameDecoder dec;
  const uint32_t length = kMaxMessageSize + 1;
  uint8_t header[kHeaderSize];
  encode_header({length, 1, 1, 0}, header);
  write_all(fd.get(), std::string_view(reinterpret_cast<char*>(header), kHeaderSize));
  write_all(fd.get(), std::string(length, '\0'));
  auto r = read_response(fd.get(), dec);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stream, 1u);
  EXPECT_EQ(r->message.status.code, Code::kResourceExhausted);
  EXPECT_EQ(r->message.status.message,
            "message length 4194305 exceeds maximum message size 4194304");
  // Like Go, the skipped frame did not use up its stream id.
  write_all(fd.get(), request_frame(1, kSvc, "Echo", "after"));
  r = read_response(fd.get(), dec);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stream, 1u);
  EXPECT_TRUE(r->message.status.ok());
  EXPECT_EQ(r->message.payload, "after");
}

TEST_F(ServerTest, UndecodableRequestIsInvalidArgument) {
  os::UniqueFd fd = raw_connect();
  FrameDecoder dec;
  write_all(fd.get(), encode_frame(1, MessageType::kRequest, 0, "\xff\xff\xff"));
  auto r = read_response(fd.get(), dec);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stream, 1u);
  EXPECT_EQ(r->message.status.code, Code::kInvalidArgument);
  write_all(fd.get(), request_frame(3, kSvc, "Echo", "fine"));
  r = read_response(fd.get(), dec);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->message.payload, "fine");
}

TEST_F(ServerTest, UnknownMessageTypesAreIgnored) {
  os::UniqueFd fd = raw_connect();
  FrameDecoder dec;
  write_all(fd.get(), encode_frame(1, MessageType::kData, 0, "data") +
                          encode_frame(2, static_cast<MessageType>(9), 0, "future") +
                          encode_frame(1, MessageType::kResponse, 0, "") +
                          request_frame(1, kSvc, "Echo", "real"));
  // The first answer is the request's: nothing was sent for the others, and they did not
  // consume stream 1.
  auto r = read_response(fd.get(), dec);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stream, 1u);
  EXPECT_TRUE(r->message.status.ok());
  EXPECT_EQ(r->message.payload, "real");
}

TEST_F(ServerTest, SecondReplyToAStreamIsDropped) {
  os::UniqueFd fd = raw_connect();
  FrameDecoder dec;
  write_all(fd.get(), request_frame(1, kSvc, "Twice", "") + request_frame(3, kSvc, "Echo", "x"));
  auto r = read_response(fd.get(), dec);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stream, 1u);
  EXPECT_EQ(r->message.payload, "one");
  r = read_response(fd.get(), dec);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stream, 3u);
}

TEST_F(ServerTest, HeldReplyDoesNotBlockFiftyOtherCallsAndArrivesLast) {
  os::UniqueFd fd = raw_connect();
  FrameDecoder dec;
  std::string batch = request_frame(1, kSvc, "Hold", "");
  for (uint32_t s = 3; s <= 101; s += 2) {
    batch += request_frame(s, kSvc, "Echo", "p" + std::to_string(s));
  }
  write_all(fd.get(), batch);  // pipelined: all 51 requests in flight at once
  std::set<uint32_t> seen;
  for (int i = 0; i < 50; ++i) {
    auto r = read_response(fd.get(), dec);
    ASSERT_TRUE(r);
    EXPECT_NE(r->stream, 1u);
    EXPECT_EQ(r->message.payload, "p" + std::to_string(r->stream));
    seen.insert(r->stream);
  }
  EXPECT_EQ(seen.size(), 50u);
  ASSERT_EQ(held_count(), 1u);
  loop_.run([this] { held_[0](Status::Ok(), "exited"); });
  auto r = read_response(fd.get(), dec);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stream, 1u);
  EXPECT_EQ(r->message.payload, "exited");
}

TEST_F(ServerTest, LargeRepliesGoOutWholeThroughManyPartialWrites) {
  // Each reply is far larger than the socket buffer, so the server must park it and finish
  // on EPOLLOUT; frames must still arrive intact and unmixed.
  os::UniqueFd fd = raw_connect();
  FrameDecoder dec;
  std::string batch;
  for (uint32_t s = 1; s <= 5; s += 2) {
    batch += request_frame(s, kSvc, "Echo", std::string(1 << 20, static_cast<char>('a' + s)));
  }
  std::thread writer([&] { write_all(fd.get(), batch); });
  for (uint32_t s = 1; s <= 5; s += 2) {
    auto r = read_response(fd.get(), dec);
    if (!r) {
      ADD_FAILURE() << "no response for stream " << s;
      ::shutdown(fd.get(), SHUT_RDWR);  // unblocks the writer
      break;
    }
    EXPECT_EQ(r->stream, s);
    EXPECT_EQ(r->message.payload, std::string(1 << 20, static_cast<char>('a' + s)));
  }
  writer.join();
  Client c = client();
  auto big = c.call(kSvc, "Echo", std::string(3 << 20, 'z'));
  ASSERT_TRUE(big) << big.error().message;
  EXPECT_EQ(big->payload.size(), size_t{3} << 20);
}

TEST_F(ServerTest, ManyConnectionsServedInterleaved) {
  constexpr int kClients = 20;
  std::vector<Client> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(client());
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < kClients; ++i) {
      const std::string p = std::to_string(i) + "/" + std::to_string(round);
      auto r = clients[i].call(kSvc, "Echo", p);
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ(r->payload, p);
    }
  }
  EXPECT_EQ(loop_.run([this] { return server_->connection_count(); }), size_t{kClients});
  clients.clear();
  ASSERT_TRUE(eventually([&] { return disconnects() == kClients; }));
  EXPECT_EQ(loop_.run([this] { return server_->connection_count(); }), 0u);
  std::lock_guard lock(mu_);
  EXPECT_EQ(std::set<uint64_t>(disconnected_.begin(), disconnected_.end()).size(),
            size_t{kClients});
}

TEST_F(ServerTest, LateReplyAfterClientDisconnectIsHarmless) {
  {
    os::UniqueFd fd = raw_connect();
    write_all(fd.get(), request_frame(1, kSvc, "Hold", ""));
    ASSERT_TRUE(eventually([&] { return held_count() == 1; }));
  }
  ASSERT_TRUE(eventually([&] { return disconnects() == 1; }));
  loop_.run([this] { held_[0](Status::Ok(), "too late"); });
  Client c = client();
  auto r = c.call(kSvc, "Echo", "still serving");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->payload, "still serving");
}

TEST_F(ServerTest, ShutdownClosesConnectionsAndDropsPendingReplies) {
  Client c = client();
  ASSERT_TRUE(c.call(kSvc, "Echo", ""));
  os::UniqueFd held = raw_connect();
  write_all(held.get(), request_frame(1, kSvc, "Hold", ""));
  ASSERT_TRUE(eventually([&] { return held_count() == 1; }));
  loop_.run([this] {
    server_->shutdown();
    held_[0](Status::Ok(), "dropped");
  });
  EXPECT_EQ(loop_.run([this] { return server_->connection_count(); }), 0u);
  auto r = c.call(kSvc, "Echo", "");
  ASSERT_FALSE(r);
  FrameDecoder dec;
  EXPECT_FALSE(read_frame(held.get(), dec));  // EOF, no response
  EXPECT_FALSE(Client::connect(socket_));     // listener closed
  EXPECT_EQ(disconnects(), 0u);               // our own shutdown is not a peer disconnect
}

TEST_F(ServerTest, PeerWithAnotherUidIsClosedUnanswered) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to connect as another uid";
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(socket_.c_str(), 0777), 0);
  auto addr = unix_address(socket_);
  ASSERT_TRUE(addr);
  const std::string frame = request_frame(1, kSvc, "Echo", "x");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Raw syscalls only: the parent has threads.
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    const timeval bound{kBound.count(), 0};  // a bug fails the test instead of hanging it
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof(bound));
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr->addr), addr->length) != 0) {
      ::_exit(11);
    }
    (void)::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL);
    char buf[64];
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);  // blocks until the server closes
    // Closed by the server: EOF, or a reset since our request was left unread.
    ::_exit(n == 0 || (n < 0 && errno == ECONNRESET) ? 0 : 12);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10/11: setup failed, 12: answered or timed out";
  EXPECT_EQ(disconnects(), 0u);
  Client c = client();
  EXPECT_TRUE(c.call(kSvc, "Echo", ""));
}

}  // namespace
}  // namespace hippo::ttrpc

namespace hippo::ttrpc {
namespace {

// A connection adopted from a previous daemon (shim/keeper.hpp): served from its next frame,
// the stream ids that daemon read refused, and a request it left pending answered.
TEST(ServerAdopt, ServesTheNextFramesAndAnswersWhatThePreviousDaemonLeftPending) {
  using namespace test_support;  // NOLINT(google-build-using-namespace): test helpers
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  os::UniqueFd ours(pair[0]);
  LoopThread loop;
  std::unique_ptr<Server> server;
  uint64_t id = 0;
  loop.run([&] {
    server = std::make_unique<Server>(loop.loop());
    server->register_method("test.v1.Echo", "Echo",
                            [](const CallContext&, std::string_view p, Reply reply) {
                              reply(Status::Ok(), std::string(p));
                            });
    auto adopted = server->adopt_connection(os::UniqueFd(pair[1]), 5);
    ASSERT_TRUE(adopted) << adopted.error().message;
    id = *adopted;
    const auto records = server->connection_records();
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].id, id);
    EXPECT_EQ(records[0].last_stream, 5u);
    EXPECT_FALSE(records[0].mid_frame);
  });
  FrameDecoder decoder;
  // Stream 5 was the previous daemon's: refused as a reuse; 7 is served.
  write_all(ours.get(), request_frame(5, "test.v1.Echo", "Echo", "old"));
  auto refused = read_response(ours.get(), decoder);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->stream, 5u);
  EXPECT_EQ(refused->message.status.code, Code::kInvalidArgument);
  write_all(ours.get(), request_frame(7, "test.v1.Echo", "Echo", "new"));
  auto served = read_response(ours.get(), decoder);
  ASSERT_TRUE(served);
  EXPECT_EQ(served->stream, 7u);
  EXPECT_EQ(served->message.payload, "new");
  // Stream 3, a Wait the previous daemon read and did not answer.
  loop.run([&] { server->adopted_reply(id, 3)(Status::Ok(), "exited"); });
  auto pending = read_response(ours.get(), decoder);
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->stream, 3u);
  EXPECT_EQ(pending->message.payload, "exited");
  // Half a frame read: the connection is recorded as inside a frame.
  const std::string frame = request_frame(9, "test.v1.Echo", "Echo", "half");
  write_all(ours.get(), frame.substr(0, frame.size() / 2));
  EXPECT_TRUE(eventually(
      [&] { return loop.run([&] { return server->connection_records().at(0).mid_frame; }); }));
  loop.run([&] { server.reset(); });
  loop.stop();
}

}  // namespace
}  // namespace hippo::ttrpc
