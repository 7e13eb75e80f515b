#include <gtest/gtest.h>

#include "shim/ttrpc/client.hpp"
#include "shim/ttrpc/server.hpp"
#include "shim/ttrpc/tests/test_support.hpp"
#include "shim/ttrpc/unix_socket.hpp"

namespace hippo::ttrpc {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): test helpers
constexpr const char* kSvc = "test.v1.Events";

// Server and AsyncClient share one loop thread; the test thread only hands work over.
class AsyncClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_ = dir_.path() + "/events.sock";
    loop_.run(
        [this] { client_ = std::make_unique<AsyncClient>(loop_.loop(), "unix://" + socket_); });
  }
  void TearDown() override {
    loop_.run([this] {
      client_.reset();
      held_.clear();
      server_.reset();
    });
    loop_.stop();
  }

  void start_server() {
    auto listener = listen_unix(socket_);
    ASSERT_TRUE(listener) << listener.error().message;
    auto served = loop_.run([&] {
      server_ = std::make_unique<Server>(loop_.loop());
      server_->register_method(kSvc, "Publish",
                               [this](const CallContext& c, std::string_view p, Reply reply) {
                                 received_.emplace_back(p);
                                 timeouts_.push_back(c.timeout_nano);
                                 reply(Status::Ok(), "ack:" + std::string(p));
                               });
      server_->register_method(
          kSvc, "Hold",
          [this](const CallContext&, std::string_view, Reply reply) { held_.push_back(reply); });
      return server_->serve(std::move(*listener));
    });
    ASSERT_TRUE(served) << served.error().message;
  }

  // Issues a call on the loop thread; the future resolves when `done` runs.
  std::future<Result<CallResult>> call(
      std::string method, std::string payload,
      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto promise = std::make_shared<std::promise<Result<CallResult>>>();
    auto future = promise->get_future();
    loop_.post([=, this] {
      client_->call(kSvc, method, payload, {{"containerd-namespace-ttrpc", "default"}}, timeout,
                    [promise](Result<CallResult> r) { promise->set_value(std::move(r)); });
    });
    return future;
  }

  static Result<CallResult> wait(std::future<Result<CallResult>>& f) {
    if (f.wait_for(kBound) != std::future_status::ready) return fail("test: no answer in time");
    return f.get();
  }

  TempDir dir_;
  std::string socket_;
  LoopThread loop_;
  // Loop thread only:
  std::unique_ptr<AsyncClient> client_;
  std::unique_ptr<Server> server_;
  std::vector<std::string> received_;
  std::vector<int64_t> timeouts_;
  std::vector<Reply> held_;
};

TEST_F(AsyncClientTest, RoundTripSetsTimeout) {
  start_server();
  auto f = call("Publish", "exit", std::chrono::seconds(3));
  auto r = wait(f);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->status.ok());
  EXPECT_EQ(r->payload, "ack:exit");
  EXPECT_EQ(loop_.run([this] { return timeouts_; }), std::vector<int64_t>{3'000'000'000});
}

TEST_F(AsyncClientTest, CallsQueuedBeforeConnectAreSentInOrder) {
  start_server();
  std::vector<std::future<Result<CallResult>>> futures;
  for (int i = 0; i < 10; ++i) futures.push_back(call("Publish", std::to_string(i)));
  for (int i = 0; i < 10; ++i) {
    auto r = wait(futures[i]);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->payload, "ack:" + std::to_string(i));
  }
  const auto received = loop_.run([this] { return received_; });
  ASSERT_EQ(received.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(received[i], std::to_string(i));
}

TEST_F(AsyncClientTest, FailsWhileServerAbsentThenSucceedsOnceItAppears) {
  auto f = call("Publish", "early");
  auto r = wait(f);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ENOENT);
  EXPECT_NE(r.error().message.find("Publish"), std::string::npos);
  EXPECT_NE(r.error().message.find(socket_), std::string::npos);

  start_server();
  f = call("Publish", "late");
  r = wait(f);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->payload, "ack:late");
}

TEST_F(AsyncClientTest, TimeoutFailsOnlyThatCall) {
  start_server();
  auto held = call("Hold", "", std::chrono::milliseconds(20));
  auto r = wait(held);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ETIMEDOUT);
  // The late answer for the timed-out stream is ignored; the connection keeps working.
  loop_.run([this] { held_.at(0)(Status::Ok(), "late"); });
  auto f = call("Publish", "next");
  r = wait(f);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->payload, "ack:next");
}

TEST_F(AsyncClientTest, ServerGoingAwayFailsPendingCallsThenReconnects) {
  start_server();
  auto held = call("Hold", "", std::chrono::milliseconds(0));  // no deadline, like Wait
  ASSERT_TRUE(eventually([&] { return loop_.run([this] { return held_.size(); }) == 1; }));
  loop_.run([this] {
    held_.clear();
    server_.reset();
  });
  auto r = wait(held);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("closed"), std::string::npos);

  std::filesystem::remove(socket_);
  start_server();
  auto f = call("Publish", "again");
  r = wait(f);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->payload, "ack:again");
}

TEST_F(AsyncClientTest, ResetFailsPendingAndDestroyedClientNeverCallsBack) {
  start_server();
  auto held = call("Hold", "", std::chrono::milliseconds(0));
  ASSERT_TRUE(eventually([&] { return loop_.run([this] { return held_.size(); }) == 1; }));
  loop_.run([this] { client_->reset(); });
  auto r = wait(held);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ECONNABORTED);

  bool called = false;  // loop thread only
  loop_.run([&] {
    client_->call(kSvc, "Publish", "x", {}, std::chrono::seconds(5),
                  [&](Result<CallResult>) { called = true; });
    client_.reset();
  });
  // Two more loop turns: any delivery already deferred would have run by now.
  loop_.run([] {});
  loop_.run([] {});
  EXPECT_FALSE(loop_.run([&] { return called; }));
}

}  // namespace
}  // namespace hippo::ttrpc
