#pragma once
// A single-threaded epoll reactor: fds with callbacks, one-shot timers, and "call soon". The
// shim daemon runs everything on one of these (ttrpc connections, pidfds, signalfd, OOM fds,
// stdio copies): no threads, no locks, a pending Wait is state, not a blocked thread.

#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace hippo::ttrpc {

class EventLoop {
 public:
  using FdCallback = std::function<void(uint32_t events)>;  // EPOLLIN/EPOLLOUT/EPOLLHUP/EPOLLERR
  using Callback = std::function<void()>;
  using TimerId = uint64_t;

  static Result<std::unique_ptr<EventLoop>> create();

  // Watches fd (level-triggered) for `events`; replaces an existing watch of the same fd.
  Result<void> watch(int fd, uint32_t events, FdCallback callback);
  Result<void> modify(int fd, uint32_t events);
  // Stops watching; safe to call from inside that fd's own callback.
  void unwatch(int fd);

  TimerId after(std::chrono::milliseconds delay, Callback callback);
  void cancel(TimerId id);
  // Runs `callback` on the next loop iteration (after the current callbacks).
  void defer(Callback callback);

  // Runs `callback` when the loop is about to wait after it ran anything (events, timers,
  // deferred calls): once per busy spell, never while it sleeps. The shim daemon gives memory
  // back there.
  void on_idle(Callback callback) { idle_ = std::move(callback); }

  // Runs until stop(); returns the first epoll error, if any.
  Result<void> run();
  void stop() { running_ = false; }

 private:
  // epoll_event.data carries fd and generation: an event queued for a watch that was removed
  // (or replaced, or whose fd number was reused) earlier in the same batch is recognised and
  // skipped. Level-triggered, so nothing is lost: a still-ready fd reports again.
  struct Watch {
    uint32_t generation = 0;
    uint32_t events = 0;
    std::shared_ptr<FdCallback> callback;
  };

  EventLoop() = default;
  void dispatch(const epoll_event& event);
  void run_deferred();
  void run_due_timers();
  int wait_timeout_ms() const;

  os::UniqueFd epoll_;
  std::map<int, Watch> fds_;
  uint32_t next_generation_ = 1;
  std::multimap<std::chrono::steady_clock::time_point, std::pair<TimerId, Callback>> timers_;
  std::vector<Callback> deferred_;
  Callback idle_;
  TimerId next_timer_ = 1;
  bool running_ = false;
};

}  // namespace hippo::ttrpc
