#include "shim/ttrpc/event_loop.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace hippo::ttrpc {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<EventLoop> make_loop() {
  auto loop = EventLoop::create();
  EXPECT_TRUE(loop) << loop.error().message;
  return std::move(*loop);
}

struct Pipe {
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) std::abort();
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
  void signal() const {
    if (::write(write.get(), "x", 1) != 1) std::abort();
  }
  os::UniqueFd read, write;
};

TEST(EventLoop, DeferredCallbacksRunBeforeTimersWhichRunByDeadline) {
  auto loop = make_loop();
  std::vector<std::string> order;
  // Armed first but due last: order must follow deadlines, not arming order.
  loop->after(milliseconds(300), [&] {
    order.push_back("300ms");
    loop->stop();
  });
  loop->after(milliseconds(0), [&] { order.push_back("0ms"); });
  loop->after(milliseconds(1), [&] { order.push_back("1ms"); });
  loop->defer([&] { order.push_back("deferred"); });
  ASSERT_TRUE(loop->run());
  EXPECT_EQ(order, (std::vector<std::string>{"deferred", "0ms", "1ms", "300ms"}));
}

TEST(EventLoop, IdleRunsOnceAfterEachBusySpellAndNotWhileAsleep) {
  auto loop = make_loop();
  int idle = 0;
  std::vector<int> seen;  // the idle count each callback saw
  loop->on_idle([&] { ++idle; });
  loop->defer([&] { seen.push_back(idle); });
  loop->after(milliseconds(50), [&] { seen.push_back(idle); });
  Pipe p;
  ASSERT_TRUE(loop->watch(p.read.get(), EPOLLIN, [&](uint32_t) {
    char c;
    while (::read(p.read.get(), &c, 1) == 1) {
    }
    seen.push_back(idle);
    loop->stop();
  }));
  loop->after(milliseconds(150), [&] { p.signal(); });
  ASSERT_TRUE(loop->run());
  // The deferred call, idle (1); the 50 ms timer, idle (2); 100 ms asleep without a call; the
  // 150 ms timer, idle (3); the pipe, which stops the loop.
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(idle, 3);
}

TEST(EventLoop, CancelledTimerNeverRuns) {
  auto loop = make_loop();
  bool fired = false;
  const auto id = loop->after(milliseconds(0), [&] { fired = true; });
  loop->after(milliseconds(5), [&] { loop->stop(); });
  loop->cancel(id);
  loop->cancel(12345);  // unknown ids are ignored
  ASSERT_TRUE(loop->run());
  EXPECT_FALSE(fired);
}

TEST(EventLoop, DeferFromDeferredRunsOnTheNextIteration) {
  auto loop = make_loop();
  Pipe p;
  p.signal();
  std::vector<std::string> order;
  ASSERT_TRUE(loop->watch(p.read.get(), EPOLLIN, [&](uint32_t) {
    order.push_back("fd");
    loop->unwatch(p.read.get());
  }));
  loop->defer([&] {
    order.push_back("first");
    loop->defer([&] {
      order.push_back("second");
      loop->stop();
    });
  });
  ASSERT_TRUE(loop->run());
  // "second" waits for the next iteration, so the ready fd is served in between.
  EXPECT_EQ(order, (std::vector<std::string>{"first", "fd", "second"}));
}

TEST(EventLoop, UnwatchedFdInSameBatchIsSkippedEvenIfItsNumberIsReused) {
  auto loop = make_loop();
  auto a = std::make_unique<Pipe>();
  auto b = std::make_unique<Pipe>();
  a->signal();
  b->signal();  // both ready: one epoll_wait returns both
  std::vector<std::string> calls;
  std::unique_ptr<Pipe> c;
  auto first_wins = [&](std::unique_ptr<Pipe>& other, const char* name) {
    calls.push_back(name);
    loop->unwatch(other->read.get());
    other.reset();
    // Likely gets the closed fd's number: its stale event must not reach this callback.
    c = std::make_unique<Pipe>();
    c->signal();
    ASSERT_TRUE(loop->watch(c->read.get(), EPOLLIN, [&](uint32_t) { calls.push_back("c"); }));
    loop->defer([&] { loop->stop(); });  // stop before the next epoll_wait
  };
  ASSERT_TRUE(loop->watch(a->read.get(), EPOLLIN, [&](uint32_t) { first_wins(b, "a"); }));
  ASSERT_TRUE(loop->watch(b->read.get(), EPOLLIN, [&](uint32_t) { first_wins(a, "b"); }));
  ASSERT_TRUE(loop->run());
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_TRUE(calls[0] == "a" || calls[0] == "b");
}

TEST(EventLoop, CallbackMayUnwatchItselfAndKeepUsingItsCaptures) {
  auto loop = make_loop();
  Pipe p;
  p.signal();
  auto state = std::make_shared<std::string>("alive");
  std::string seen;
  ASSERT_TRUE(loop->watch(p.read.get(), EPOLLIN, [&, state](uint32_t events) {
    loop->unwatch(p.read.get());  // destroys the stored callback; this copy lives on
    seen = *state + (events & EPOLLIN ? " in" : "");
    loop->stop();
  }));
  state.reset();
  ASSERT_TRUE(loop->run());
  EXPECT_EQ(seen, "alive in");
}

TEST(EventLoop, WatchReplacesCallbackAndModifyChangesEvents) {
  auto loop = make_loop();
  Pipe p;
  p.signal();
  std::vector<std::string> calls;
  ASSERT_TRUE(loop->watch(p.read.get(), EPOLLIN, [&](uint32_t) { calls.push_back("old"); }));
  ASSERT_TRUE(loop->watch(p.read.get(), EPOLLIN, [&](uint32_t) {
    calls.push_back("new");
    ASSERT_TRUE(loop->modify(p.read.get(), 0));  // still readable, no longer reported
    loop->after(milliseconds(20), [&] { loop->stop(); });
  }));
  ASSERT_TRUE(loop->run());
  EXPECT_EQ(calls, (std::vector<std::string>{"new"}));
  EXPECT_FALSE(loop->modify(999999, EPOLLIN));
}

TEST(EventLoop, WritableFdReportsEpollout) {
  auto loop = make_loop();
  Pipe p;
  uint32_t got = 0;
  ASSERT_TRUE(loop->watch(p.write.get(), EPOLLOUT, [&](uint32_t events) {
    got = events;
    loop->stop();
  }));
  ASSERT_TRUE(loop->run());
  EXPECT_TRUE(got & EPOLLOUT);
}

TEST(EventLoop, WatchingAnInvalidFdFails) {
  auto loop = make_loop();
  auto r = loop->watch(-1, EPOLLIN, [](uint32_t) {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EBADF);
}

}  // namespace
}  // namespace hippo::ttrpc
