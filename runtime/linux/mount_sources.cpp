#include "runtime/linux/mount_sources.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "base/syscalls.hpp"

namespace hippo::os {
namespace {

// What the helper says about each source, with the fd attached when `error` is 0.
struct SourceReport {
  uint64_t index = 0;
  int32_t error = 0;
};

// The forked helper: only system calls over strings made before the fork (the parent may have
// threads). Joining a mount namespace needs a process of its own: setns(CLONE_NEWNS) refuses
// one that shares its filesystem context with other threads, and it would move our root.
[[noreturn]] void helper(int sock, int mntns, const InitPlan& plan) {
  SourceReport report{};
  if (::setns(mntns, CLONE_NEWNS) != 0) {
    report.index = UINT64_MAX;
    report.error = errno;
    ::send(sock, &report, sizeof report, MSG_NOSIGNAL);
    ::_exit(1);
  }
  for (size_t i = 0; i < plan.mounts.size(); ++i) {
    if (!plan.mounts[i].source_by_host) continue;
    report.index = i;
    const int fd = ::open(plan.mounts[i].source.c_str(), O_PATH | O_CLOEXEC);
    report.error = fd < 0 ? errno : 0;
    const ssize_t sent = fd < 0 ? ::send(sock, &report, sizeof report, MSG_NOSIGNAL)
                                : sys::send_fd(sock, fd, &report, sizeof report);
    if (sent != static_cast<ssize_t>(sizeof report) || fd < 0) ::_exit(1);
    ::close(fd);
  }
  ::_exit(0);
}

}  // namespace

Result<std::vector<std::pair<size_t, UniqueFd>>> open_mount_sources(pid_t init,
                                                                    const InitPlan& plan) {
  std::vector<std::pair<size_t, UniqueFd>> out;
  size_t wanted = 0;
  for (const auto& m : plan.mounts) wanted += m.source_by_host ? 1 : 0;
  if (wanted == 0) return out;
  const std::string ns_path = "/proc/" + std::to_string(init) + "/ns/mnt";
  UniqueFd mntns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!mntns) return fail_errno("open the container's mount namespace " + ns_path);
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return fail_errno("socketpair for the bind sources");
  }
  UniqueFd ours(pair[0]), theirs(pair[1]);
  const pid_t pid = ::fork();
  if (pid < 0) return fail_errno("fork to open the bind sources");
  if (pid == 0) helper(theirs.get(), mntns.get(), plan);
  theirs.reset();
  Result<std::vector<std::pair<size_t, UniqueFd>>> result = std::move(out);
  while (result && result->size() < wanted) {
    SourceReport report{};
    int fd = -1;
    ssize_t n;
    do {
      n = sys::receive_fd(ours.get(), &report, sizeof report, fd);
    } while (n < 0 && errno == EINTR);
    UniqueFd held(fd);
    if (n != static_cast<ssize_t>(sizeof report)) {
      result = fail_errno("open the bind sources: the helper ended early", n < 0 ? errno : EPROTO);
    } else if (report.index == UINT64_MAX) {
      result =
          fail_errno("open the bind sources: join the container's mount namespace", report.error);
    } else if (report.index >= plan.mounts.size()) {
      result = fail_errno("open the bind sources: the helper named no mount", EPROTO);
    } else if (report.error != 0 || !held) {
      const auto& m = plan.mounts[report.index];
      result = fail_errno(m.what + ": open the source in the container's mount namespace",
                          report.error ? report.error : EPROTO);
    } else {
      result->emplace_back(static_cast<size_t>(report.index), std::move(held));
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return result;
}

}  // namespace hippo::os
