#pragma once
// OOM kill notifications of a container, as a pollable fd, for the runtime's users (the shim's
// TaskOOM events, `hippo events`). The cgroup drivers stay private to the runtime: this wraps
// the memory cgroup's watcher of whichever backend holds the container.

#include <cstdint>
#include <memory>
#include <string>

#include "base/error.hpp"
#include "runtime/backend.hpp"

namespace hippo::cgroups {
class OomWatcher;
}

namespace hippo::runtime {

class OomWatch {
 public:
  // Watches the memory cgroup of container `id` held by `backend`.
  static Result<OomWatch> open(Backend& backend, const std::string& id);
  OomWatch(OomWatch&&) noexcept;
  OomWatch& operator=(OomWatch&&) noexcept;
  ~OomWatch();

  int fd() const;
  // After fd() polled readable: how many OOM kills happened since the last call.
  Result<uint64_t> consume();

 private:
  explicit OomWatch(std::unique_ptr<cgroups::OomWatcher> watcher);
  std::unique_ptr<cgroups::OomWatcher> watcher_;
};

}  // namespace hippo::runtime
