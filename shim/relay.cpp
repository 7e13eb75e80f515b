#include "shim/relay.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "base/logging.hpp"

namespace hippo::shim {
namespace {

constexpr size_t kChunk = 8192;

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

Result<void> set_nonblock(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
    return fail_errno("relay: set fd " + std::to_string(fd) + " non-blocking");
  return {};
}

}  // namespace

Result<std::unique_ptr<Relay>> Relay::start(ttrpc::EventLoop& loop, os::UniqueFd in,
                                            os::UniqueFd out) {
  if (auto ok = set_nonblock(in.get()); !ok) return forward(ok);
  if (out) {
    if (auto ok = set_nonblock(out.get()); !ok) return forward(ok);
  }
  auto relay = std::make_unique<Relay>(Key{}, loop, std::move(in), std::move(out));
  if (auto watched = relay->watch_in(); !watched) return forward(watched, "relay");
  return relay;
}

Relay::~Relay() {
  unwatch_in();
  unwatch_out();
  if (stall_timer_ != 0) loop_.cancel(stall_timer_);
}

void Relay::on_readable() {
  // One chunk per wakeup while the producer runs, so one busy terminal cannot starve the
  // loop; everything that is left once it has exited.
  char buf[kChunk];
  do {
    const ssize_t n = ::read(in_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // EOF, EIO (the pty's slave is closed everywhere), or, once finishing, EAGAIN.
      if (n < 0 && would_block(errno) && !finishing_) return;
      in_ended_ = true;
      unwatch_in();
      if (finishing_ && pending() == 0) complete();
      return;
    }
    if (!write_out(buf, static_cast<size_t>(n))) {
      unwatch_in();
      if (auto ok = watch_out(); !ok) log::warn(ok.error().message);
      return;
    }
  } while (finishing_ && !completed_);
}

bool Relay::write_out(const char* data, size_t size) {
  size_t written = 0;
  while (out_ && written < size) {
    const ssize_t n = ::write(out_.get(), data + written, size - written);
    if (n > 0) {
      written += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && would_block(errno)) {
      pending_.assign(data + written, size - written);
      pending_pos_ = 0;
      return false;
    } else {
      // The reader is gone for good (EPIPE): nothing more can be delivered, but the producer
      // must not block on it either.
      unwatch_out();
      out_.reset();
    }
  }
  return true;
}

void Relay::on_writable() {
  while (out_ && pending() > 0) {
    const ssize_t n = ::write(out_.get(), pending_.data() + pending_pos_, pending());
    if (n > 0) {
      pending_pos_ += static_cast<size_t>(n);
      if (finishing_) arm_stall_timer();
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && would_block(errno)) {
      return;
    } else {
      unwatch_out();
      out_.reset();
    }
  }
  std::string().swap(pending_);  // the memory goes back as soon as the writer keeps up
  pending_pos_ = 0;
  unwatch_out();
  if (in_ended_) {
    if (finishing_) complete();
  } else if (finishing_) {
    on_readable();
  } else if (auto ok = watch_in(); !ok) {
    log::warn(ok.error().message);
  }
}

void Relay::finish(std::chrono::milliseconds stall, std::function<void()> done) {
  if (finishing_) return;
  finishing_ = true;
  stall_ = stall;
  done_ = std::move(done);
  if (pending() > 0) {
    arm_stall_timer();  // on_writable goes on from here
  } else if (in_ended_) {
    complete();
  } else {
    arm_stall_timer();
    on_readable();
  }
}

Result<void> Relay::watch(const os::UniqueFd& fd, bool& flag, uint32_t events,
                          void (Relay::*handler)()) {
  if (flag || !fd) return {};
  if (auto ok = loop_.watch(fd.get(), events, [this, handler](uint32_t) { (this->*handler)(); });
      !ok) {
    return ok;
  }
  flag = true;
  return {};
}

void Relay::unwatch(const os::UniqueFd& fd, bool& flag) {
  if (!flag) return;
  flag = false;
  loop_.unwatch(fd.get());
}

void Relay::arm_stall_timer() {
  if (stall_timer_ != 0) loop_.cancel(stall_timer_);
  stall_timer_ = loop_.after(stall_, [this] {
    stall_timer_ = 0;
    log::warn("terminal relay: the client read nothing for " + std::to_string(stall_.count()) +
              " ms after the process exited; " + std::to_string(pending()) +
              " bytes of its output are dropped");
    pending_.clear();
    pending_pos_ = 0;
    complete();
  });
}

void Relay::complete() {
  if (completed_) return;
  completed_ = true;
  unwatch_in();
  unwatch_out();
  if (stall_timer_ != 0) {
    loop_.cancel(stall_timer_);
    stall_timer_ = 0;
  }
  if (done_) loop_.defer(std::move(done_));
}

}  // namespace hippo::shim
