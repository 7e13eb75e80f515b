#include "runtime/cgroups/oom.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "runtime/cgroups/cgroup_files.hpp"

namespace hippo::cgroups {
namespace {

uint64_t read_oom_kills(const std::string& events_path) {
  auto text = read_file(events_path, Tree::kernel);
  if (!text) return 0;
  auto kills = keyed_value(*text, "oom_kill", events_path);
  return kills ? *kills : 0;
}

}  // namespace

Result<OomWatcher> OomWatcher::open(const std::string& dir) {
  OomWatcher w;
  const std::string oom_control = dir + "/memory.oom_control";
  if (::access(oom_control.c_str(), F_OK) == 0) {
    w.events_path_ = oom_control;
    w.v1_ = true;
    w.last_kills_ = read_oom_kills(oom_control);
    w.oom_control_ = os::UniqueFd(::open(oom_control.c_str(), O_RDONLY | O_CLOEXEC));
    if (!w.oom_control_) return fail_errno("open " + oom_control);
    w.fd_ = os::UniqueFd(::eventfd(0, EFD_CLOEXEC));
    if (!w.fd_) return fail_errno("eventfd for " + oom_control);
    const std::string control = dir + "/cgroup.event_control";
    const std::string line =
        std::to_string(w.fd_.get()) + " " + std::to_string(w.oom_control_.get());
    os::UniqueFd ctl(::open(control.c_str(), O_WRONLY | O_CLOEXEC));
    if (!ctl || ::write(ctl.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      return fail_errno("register OOM eventfd in " + control);
    }
    return w;
  }
  w.events_path_ = dir + "/memory.events";
  w.fd_ = os::UniqueFd(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!w.fd_) return fail_errno("inotify for " + w.events_path_);
  if (::inotify_add_watch(w.fd_.get(), w.events_path_.c_str(), IN_MODIFY) < 0) {
    return fail_errno("watch " + w.events_path_);
  }
  w.last_kills_ = read_oom_kills(w.events_path_);
  return w;
}

Result<uint64_t> OomWatcher::consume() {
  if (v1_) {
    // v1 fires when the OOM starts (before the kill shows in oom_kill) and when the cgroup is
    // removed; as runc, a cgroup that still exists means an OOM.
    uint64_t count = 0;
    if (::read(fd_.get(), &count, sizeof count) != sizeof count)
      return fail_errno("read OOM eventfd");
    if (::access(events_path_.c_str(), F_OK) != 0) return 0;
    last_kills_ = read_oom_kills(events_path_);
    return count;
  } else {
    char buf[4096];
    while (::read(fd_.get(), buf, sizeof buf) > 0) {
    }
  }
  const uint64_t kills = read_oom_kills(events_path_);
  const uint64_t fresh = kills > last_kills_ ? kills - last_kills_ : 0;
  last_kills_ = kills;
  return fresh;
}

}  // namespace hippo::cgroups
