#include "shim/orphan_reaper.hpp"

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <string>
#include <string_view>
#include <vector>

#include "base/file_io.hpp"

namespace hippo::shim {
namespace {

// waitid(P_ALL, WNOWAIT) names one zombie, always the same one until it is reaped: it cannot
// step past a zombie that is ours (its pidfd's event may still be queued behind this SIGCHLD),
// so a loop over it stops there and leaves the orphans behind it for the next SIGCHLD, which
// may never come. Instead the children are listed, and each one that is not ours is waited for
// by pid (WNOHANG: a live one stays).

void add_pids(std::string_view text, std::vector<pid_t>& out) {
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = std::min(text.find(' ', at), text.size());
    pid_t pid = 0;
    if (std::from_chars(text.data() + at, text.data() + end, pid).ec == std::errc() && pid > 0) {
      out.push_back(pid);
    }
    at = end + 1;
  }
}

// Each thread's children (CONFIG_PROC_CHILDREN): a re-parented orphan goes to one of our
// threads. False when the kernel has no such files.
bool children_from_tasks(std::vector<pid_t>& out) {
  DIR* dir = ::opendir("/proc/self/task");
  if (!dir) return false;
  bool any = false;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    auto text = read_text_file(std::string("/proc/self/task/") + e->d_name + "/children");
    if (!text) continue;
    any = true;
    add_pids(*text, out);
  }
  ::closedir(dir);
  return any;
}

// Without CONFIG_PROC_CHILDREN: every process whose parent we are (field 4 of /proc/<pid>/stat).
void children_from_stat(std::vector<pid_t>& out) {
  DIR* dir = ::opendir("/proc");
  if (!dir) return;
  const pid_t self = ::getpid();
  while (const dirent* e = ::readdir(dir)) {
    pid_t pid = 0;
    const std::string_view name(e->d_name);
    if (std::from_chars(name.data(), name.data() + name.size(), pid).ec != std::errc()) continue;
    auto stat = read_text_file("/proc/" + std::string(name) + "/stat");
    if (!stat) continue;
    const auto paren = stat->rfind(')');  // comm may hold spaces and parentheses
    if (paren == std::string::npos || paren + 4 >= stat->size()) continue;
    const std::string_view rest = std::string_view(*stat).substr(paren + 4);  // after ") S "
    pid_t ppid = 0;
    std::from_chars(rest.data(), rest.data() + rest.size(), ppid);
    if (ppid == self) out.push_back(pid);
  }
  ::closedir(dir);
}

}  // namespace

int reap_orphans(const std::function<bool(pid_t)>& owned) {
  std::vector<pid_t> children;
  if (!children_from_tasks(children)) children_from_stat(children);
  int reaped = 0;
  for (pid_t pid : children) {
    if (owned(pid)) continue;
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG) == 0 &&
        info.si_pid == pid) {
      ++reaped;
    }
  }
  return reaped;
}

}  // namespace hippo::shim
