#pragma once
// Copies bytes between two non-blocking fds on the event loop without ever dropping any: the
// shim's terminal relay (pty master -> stdout FIFO, stdin FIFO -> pty master).
// At most one short write waits for the writer, and while it waits the reader is not watched:
// the producer then blocks as it does on a terminal nobody reads, which is what runc's shim
// gives with its blocking copy. Dropping instead loses a fast process's output whenever the
// client reads more slowly than the pty fills (docs/reliability.md, issue 18).

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "shim/ttrpc/event_loop.hpp"

namespace hippo::shim {

class Relay {
 public:
  // Owns both fds and makes them non-blocking. An empty `out` discards what `in` gives.
  static Result<std::unique_ptr<Relay>> start(ttrpc::EventLoop& loop, os::UniqueFd in,
                                              os::UniqueFd out);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // The producer has exited: copy what `in` still holds, up to EOF or EIO (a pty whose slave is
  // closed everywhere), flush it, then run `done` on the loop (never from inside this call).
  // EAGAIN also ends it: another process still holds the pty slave, and runc's shim stops
  // there too. A writer that takes nothing for `stall` loses the rest, so a client that went
  // away cannot hold the exit back for ever.
  void finish(std::chrono::milliseconds stall, std::function<void()> done);

  size_t pending() const { return pending_.size() - pending_pos_; }
  // Its fds, for node mode's adoption record (shim/snapshot.hpp).
  int in_fd() const { return in_.get(); }
  int out_fd() const { return out_.get(); }

 private:
  struct Key {};  // only start() constructs: it sets the fds up first

 public:
  Relay(Key, ttrpc::EventLoop& loop, os::UniqueFd in, os::UniqueFd out)
      : loop_(loop), in_(std::move(in)), out_(std::move(out)) {}

 private:
  void on_readable();
  void on_writable();
  // Writes from data; what the writer does not take is kept in pending_. false: it blocked.
  bool write_out(const char* data, size_t size);
  // Watches `fd` (in_ or out_) for `events` with `handler`, `flag` saying whether it is
  // watched. Watching can fail (epoll); unwatching cannot.
  Result<void> watch(const os::UniqueFd& fd, bool& flag, uint32_t events, void (Relay::*handler)());
  void unwatch(const os::UniqueFd& fd, bool& flag);
  Result<void> watch_in() { return watch(in_, in_watched_, EPOLLIN, &Relay::on_readable); }
  Result<void> watch_out() { return watch(out_, out_watched_, EPOLLOUT, &Relay::on_writable); }
  void unwatch_in() { unwatch(in_, in_watched_); }
  void unwatch_out() { unwatch(out_, out_watched_); }
  void arm_stall_timer();
  void complete();

  ttrpc::EventLoop& loop_;
  os::UniqueFd in_, out_;
  std::string pending_;  // held only while the writer is full
  size_t pending_pos_ = 0;
  bool in_watched_ = false, out_watched_ = false;
  bool in_ended_ = false;  // EOF or an error on `in`
  bool finishing_ = false, completed_ = false;
  std::chrono::milliseconds stall_{0};
  ttrpc::EventLoop::TimerId stall_timer_ = 0;
  std::function<void()> done_;
};

}  // namespace hippo::shim
