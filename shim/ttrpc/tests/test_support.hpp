#pragma once
// Test plumbing: an EventLoop on its own thread (work is handed over through an eventfd, so
// the loop is only ever touched from its thread), a temp dir, and raw-frame socket helpers.

#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "shim/ttrpc/codec.hpp"
#include "shim/ttrpc/event_loop.hpp"
#include "shim/ttrpc/messages.hpp"

namespace hippo::ttrpc::test_support {

// Generous bound for anything that waits on another thread: never a timing assertion, only a
// guard so a bug fails the test instead of hanging it.
inline constexpr std::chrono::seconds kBound{20};

class LoopThread {
 public:
  LoopThread() {
    auto loop = EventLoop::create();
    if (!loop) std::abort();
    loop_ = std::move(*loop);
    wake_ = os::UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_ || !loop_->watch(wake_.get(), EPOLLIN, [this](uint32_t) { drain(); })) {
      std::abort();
    }
    thread_ = std::thread([this] { (void)loop_->run(); });
  }
  ~LoopThread() { stop(); }
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  EventLoop& loop() { return *loop_; }

  void post(std::function<void()> fn) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(fn));
    }
    const uint64_t one = 1;
    if (::write(wake_.get(), &one, sizeof(one)) != sizeof(one)) std::abort();
  }

  // Runs fn on the loop thread and waits for its result.
  template <class F>
  auto run(F fn) -> decltype(fn()) {
    auto task = std::make_shared<std::packaged_task<decltype(fn())()>>(std::move(fn));
    auto result = task->get_future();
    post([task] { (*task)(); });
    return result.get();
  }

  void stop() {
    if (!thread_.joinable()) return;
    post([this] { loop_->stop(); });
    thread_.join();
  }

 private:
  void drain() {
    uint64_t count = 0;
    (void)::read(wake_.get(), &count, sizeof(count));
    std::vector<std::function<void()>> batch;
    {
      std::lock_guard lock(mu_);
      batch.swap(queue_);
    }
    for (auto& fn : batch) fn();
  }

  std::unique_ptr<EventLoop> loop_;
  os::UniqueFd wake_;
  std::mutex mu_;
  std::vector<std::function<void()>> queue_;
  std::thread thread_;
};

// Polls `pred` until it holds or kBound passes.
inline bool eventually(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + kBound;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hippo-ttrpc-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string request_frame(uint32_t stream, const std::string& service,
                                 const std::string& method, const std::string& payload) {
  RequestMessage r;
  r.service = service;
  r.method = method;
  r.payload = payload;
  return encode_frame(stream, MessageType::kRequest, 0, encode_request(r));
}

inline void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    ASSERT_GT(n, 0) << "send: " << std::strerror(errno);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

// The next frame from fd, or nullopt on EOF/error/kBound.
inline std::optional<FrameDecoder::Frame> read_frame(int fd, FrameDecoder& decoder) {
  const auto deadline = std::chrono::steady_clock::now() + kBound;
  for (;;) {
    if (auto f = decoder.next()) return f;
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return std::nullopt;
    decoder.feed(std::string_view(buf, static_cast<size_t>(n)));
  }
}

// The next frame decoded as a Response; fails the test if it is not one.
struct RawResponse {
  uint32_t stream = 0;
  ResponseMessage message;
};
inline std::optional<RawResponse> read_response(int fd, FrameDecoder& decoder) {
  auto f = read_frame(fd, decoder);
  if (!f) return std::nullopt;
  EXPECT_EQ(f->header.type, static_cast<uint8_t>(MessageType::kResponse));
  auto m = decode_response(f->payload);
  if (!m) return std::nullopt;
  return RawResponse{f->header.stream_id, std::move(*m)};
}

}  // namespace hippo::ttrpc::test_support
