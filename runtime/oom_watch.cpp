#include "runtime/oom_watch.hpp"

#include "runtime/cgroups/oom.hpp"

namespace hippo::runtime {

Result<OomWatch> OomWatch::open(Backend& backend, const std::string& id) {
  auto dir = backend.memory_cgroup_dir(id);
  if (!dir) return std::unexpected(dir.error());
  auto watcher = cgroups::OomWatcher::open(*dir);
  if (!watcher) return std::unexpected(watcher.error());
  return OomWatch(std::make_unique<cgroups::OomWatcher>(std::move(*watcher)));
}

OomWatch::OomWatch(std::unique_ptr<cgroups::OomWatcher> watcher) : watcher_(std::move(watcher)) {}
OomWatch::OomWatch(OomWatch&&) noexcept = default;
OomWatch& OomWatch::operator=(OomWatch&&) noexcept = default;
OomWatch::~OomWatch() = default;

int OomWatch::fd() const { return watcher_->fd(); }

Result<uint64_t> OomWatch::consume() { return watcher_->consume(); }

}  // namespace hippo::runtime
