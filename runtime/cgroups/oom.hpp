#pragma once
// OOM kill notifications of a container's memory cgroup, as a pollable fd: on v1 an eventfd
// registered on memory.oom_control through cgroup.event_control, on v2 inotify on
// memory.events whose oom_kill counter is compared.

#include <cstdint>
#include <string>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace hippo::cgroups {

class OomWatcher {
 public:
  // `memory_dir`: the v1 memory cgroup dir, or the v2 cgroup dir.
  static Result<OomWatcher> open(const std::string& memory_dir);

  int fd() const { return fd_.get(); }
  // After fd() polled readable: how many OOM events happened since the last call.
  Result<uint64_t> consume();

 private:
  OomWatcher() = default;
  os::UniqueFd fd_;
  os::UniqueFd oom_control_;  // v1: must stay open while the eventfd is registered
  std::string events_path_;   // memory.oom_control (v1) or memory.events (v2): oom_kill N
  bool v1_ = false;
  uint64_t last_kills_ = 0;
};

}  // namespace hippo::cgroups
