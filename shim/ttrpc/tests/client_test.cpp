#include "shim/ttrpc/client.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include "shim/ttrpc/tests/test_support.hpp"

namespace hippo::ttrpc {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): test helpers

// A Client on one end of a socketpair; the test plays the server on the other end by writing
// the answers first (they wait in the socket buffer), so no thread is needed.
struct Pair {
  Pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
    client.emplace(os::UniqueFd(fds[0]));
    peer.reset(fds[1]);
  }
  std::string response(uint32_t stream, const Status& status, std::string_view payload) {
    return encode_frame(stream, MessageType::kResponse, 0, encode_response(status, payload));
  }
  std::optional<Client> client;
  os::UniqueFd peer;
};

TEST(Client, SendsRequestAndIgnoresResponsesForOtherStreams) {
  Pair p;
  write_all(p.peer.get(), p.response(7, Status::Ok(), "stale") +
                              encode_frame(1, MessageType::kData, 0, "data") +
                              p.response(1, Status::Ok(), "mine"));
  auto r = p.client->call("svc.S", "M", "req", {{"k", "v"}}, std::chrono::seconds(2));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->status.ok());
  EXPECT_EQ(r->payload, "mine");

  FrameDecoder dec;
  auto f = read_frame(p.peer.get(), dec);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->header.stream_id, 1u);
  EXPECT_EQ(f->header.type, static_cast<uint8_t>(MessageType::kRequest));
  EXPECT_EQ(f->header.flags, 0);
  auto req = decode_request(f->payload);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->service, "svc.S");
  EXPECT_EQ(req->method, "M");
  EXPECT_EQ(req->payload, "req");
  EXPECT_EQ(req->timeout_nano, 2'000'000'000);
  EXPECT_EQ(req->metadata, (Metadata{{"k", "v"}}));
}

TEST(Client, RemoteErrorIsAStatusNotAnError) {
  Pair p;
  write_all(p.peer.get(), p.response(1, {Code::kFailedPrecondition, "not running"}, ""));
  auto r = p.client->call("s", "m", "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status.code, Code::kFailedPrecondition);
  EXPECT_EQ(r->status.message, "not running");
}

TEST(Client, DeadlineExceededThenLateAnswerIsSkipped) {
  Pair p;
  // Half of stream 1's answer arrives in time, the rest after the deadline: the client must
  // keep the partial frame to stay in step for the next call.
  const std::string late = p.response(1, Status::Ok(), "late");
  write_all(p.peer.get(), late.substr(0, 5));
  auto r = p.client->call("s", "Slow", "", {}, std::chrono::milliseconds(10));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ETIMEDOUT);
  EXPECT_NE(r.error().message.find("s/Slow"), std::string::npos);
  write_all(p.peer.get(), late.substr(5) + p.response(3, Status::Ok(), "on time"));
  r = p.client->call("s", "Fast", "");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->payload, "on time");
}

TEST(Client, PeerCloseIsATransportError) {
  Pair p;
  p.peer.reset();
  auto r = p.client->call("s", "m", "");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("s/m"), std::string::npos);
  auto again = p.client->call("s", "m", "");
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("closed"), std::string::npos);
}

TEST(Client, ConnectToMissingSocketNamesThePath) {
  TempDir dir;
  const std::string path = dir.path() + "/absent.sock";
  auto c = Client::connect("unix://" + path);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ENOENT);
  EXPECT_NE(c.error().message.find(path), std::string::npos);
  EXPECT_FALSE(Client::connect(""));
  EXPECT_FALSE(Client::connect("unix://" + std::string(200, 'x')));
}

TEST(Client, OversizeRequestIsRefusedLocally) {
  Pair p;
  auto r = p.client->call("s", "m", std::string(kMaxMessageSize, 'x'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EMSGSIZE);
}

}  // namespace
}  // namespace hippo::ttrpc
