#include "shim/ttrpc/event_loop.hpp"

#include <cerrno>
#include <string>
#include <utility>

namespace hippo::ttrpc {
namespace {

constexpr int kMaxEvents = 64;

uint64_t pack(int fd, uint32_t generation) {
  return (uint64_t{generation} << 32) | static_cast<uint32_t>(fd);
}

}  // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  os::UniqueFd fd(::epoll_create1(EPOLL_CLOEXEC));
  if (!fd) return fail_errno("epoll_create1");
  // The constructor is private (a loop only exists with its epoll fd), so make_unique can't.
  std::unique_ptr<EventLoop> loop(new EventLoop());
  loop->epoll_ = std::move(fd);
  return loop;
}

Result<void> EventLoop::watch(int fd, uint32_t events, FdCallback callback) {
  const auto it = fds_.find(fd);
  const uint32_t generation = next_generation_++;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = pack(fd, generation);
  int rc = -1;
  if (it != fds_.end()) {
    rc = ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
    // The old fd was closed without unwatch() and the number reused: epoll forgot it.
    if (rc != 0 && errno != ENOENT) return fail_errno("epoll_ctl watch fd " + std::to_string(fd));
  }
  if (rc != 0 && ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return fail_errno("epoll_ctl watch fd " + std::to_string(fd));
  }
  fds_[fd] = Watch{generation, events, std::make_shared<FdCallback>(std::move(callback))};
  return {};
}

Result<void> EventLoop::modify(int fd, uint32_t events) {
  const auto it = fds_.find(fd);
  if (it == fds_.end()) return fail("epoll modify: fd " + std::to_string(fd) + " is not watched");
  if (it->second.events == events) return {};
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = pack(fd, it->second.generation);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) {
    return fail_errno("epoll_ctl modify fd " + std::to_string(fd));
  }
  it->second.events = events;
  return {};
}

void EventLoop::unwatch(int fd) {
  if (fds_.erase(fd) == 0) return;
  // Fails harmlessly (EBADF) if the caller closed the fd first: closing already removed it.
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

EventLoop::TimerId EventLoop::after(std::chrono::milliseconds delay, Callback callback) {
  const TimerId id = next_timer_++;
  timers_.emplace(std::chrono::steady_clock::now() + delay,
                  std::make_pair(id, std::move(callback)));
  return id;
}

void EventLoop::cancel(TimerId id) {
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->second.first == id) {
      timers_.erase(it);
      return;
    }
  }
}

void EventLoop::defer(Callback callback) { deferred_.push_back(std::move(callback)); }

void EventLoop::dispatch(const epoll_event& event) {
  const int fd = static_cast<int>(event.data.u64 & 0xffffffffu);
  const auto generation = static_cast<uint32_t>(event.data.u64 >> 32);
  const auto it = fds_.find(fd);
  if (it == fds_.end() || it->second.generation != generation) return;
  // Held here so the callback survives unwatching itself (or being replaced) while it runs.
  const std::shared_ptr<FdCallback> callback = it->second.callback;
  (*callback)(event.events);
}

void EventLoop::run_deferred() {
  // Callbacks deferred while these run wait for the next iteration, so a callback that
  // re-defers itself cannot starve fds and timers.
  std::vector<Callback> batch;
  batch.swap(deferred_);
  for (auto& callback : batch) callback();
}

void EventLoop::run_due_timers() {
  // Timers armed by these callbacks with a zero delay land after `now` and run next time.
  const auto now = std::chrono::steady_clock::now();
  while (!timers_.empty() && timers_.begin()->first <= now) {
    Callback callback = std::move(timers_.begin()->second.second);
    timers_.erase(timers_.begin());
    callback();
  }
}

int EventLoop::wait_timeout_ms() const {
  if (!deferred_.empty()) return 0;
  if (timers_.empty()) return -1;
  const auto left = timers_.begin()->first - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) return 0;
  // Round up: waking before the deadline would only spin until it passes.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > 1'000'000 ? 1'000'000 : static_cast<int>(ms);
}

Result<void> EventLoop::run() {
  running_ = true;
  epoll_event events[kMaxEvents];
  bool busy = true;  // setup ran before the first wait
  while (running_) {
    run_deferred();
    if (!running_) break;
    if (busy && idle_ && deferred_.empty()) {
      busy = false;
      idle_();
      continue;  // it may have deferred or stopped
    }
    const int n = ::epoll_wait(epoll_.get(), events, kMaxEvents, wait_timeout_ms());
    if (n < 0) {
      if (errno == EINTR) continue;
      running_ = false;
      return fail_errno("epoll_wait");
    }
    busy = true;
    for (int i = 0; i < n && running_; ++i) dispatch(events[i]);
    if (running_) run_due_timers();
  }
  return {};
}

}  // namespace hippo::ttrpc
