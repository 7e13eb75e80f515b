#pragma once
// Undoes a step (removes a dir, a cgroup, kills a process) unless commit() is called, so a
// failure half-way through create leaves nothing behind without hand-written cleanup paths.

#include <functional>
#include <utility>

namespace hippo {

class Undo {
 public:
  Undo() = default;
  explicit Undo(std::function<void()> undo) : undo_(std::move(undo)) {}
  Undo(Undo&& other) noexcept : undo_(std::exchange(other.undo_, nullptr)) {}
  Undo& operator=(Undo&& other) noexcept {
    run();
    undo_ = std::exchange(other.undo_, nullptr);
    return *this;
  }
  Undo(const Undo&) = delete;
  Undo& operator=(const Undo&) = delete;
  ~Undo() { run(); }
  void commit() { undo_ = nullptr; }

 private:
  void run() {
    if (undo_) std::exchange(undo_, nullptr)();
  }
  std::function<void()> undo_;
};

}  // namespace hippo
