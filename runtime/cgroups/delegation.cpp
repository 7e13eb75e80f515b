#include "runtime/cgroups/delegation.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

namespace hippo::cgroups {
namespace {

constexpr const char* kHierarchies[] = {
    "blkio", "cpu",     "cpuacct",  "cpuset",     "devices", "freezer", "hugetlb",      "memory",
    "misc",  "net_cls", "net_prio", "perf_event", "pids",    "rdma",    "name=systemd", ""};

// Where the kernel names the files a v2 delegate may write (5.x: cgroup.procs, cgroup.threads,
// cgroup.subtree_control, memory.oom.group, memory.reclaim).
constexpr const char* kKernelDelegateList = "/sys/kernel/cgroup/delegate";

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// `dir` and every cgroup below it, parents first.
void collect_subtree(const std::string& dir, std::vector<std::string>& out) {
  out.push_back(dir);
  for (const auto& child : child_cgroups(dir).value_or(std::vector<std::string>{})) {
    collect_subtree(child, out);
  }
}

// Freezes or thaws one cgroup by whichever freezer it has (v1 freezer.state, v2 cgroup.freeze).
// Best effort: a cgroup that vanished or a hierarchy without a freezer is left as it is.
void set_frozen(const std::string& dir, bool frozen) {
  if (const auto v1 = join(dir, "freezer.state"); exists(v1)) {
    (void)write_file(v1, frozen ? "FROZEN" : "THAWED", Tree::kernel);
  } else if (const auto v2 = join(dir, "cgroup.freeze"); exists(v2)) {
    (void)write_file(v2, frozen ? "1" : "0", Tree::kernel);
  }
}

// Whether a freeze of `dir` has taken hold (or cannot: no freezer, or gone).
bool freeze_settled(const std::string& dir) {
  if (auto state = read_optional(join(dir, "freezer.state")); state && *state) {
    return trim(**state) != "FREEZING";
  }
  if (auto events = read_optional(join(dir, "cgroup.events")); events && *events) {
    auto frozen = keyed_value(**events, "frozen", join(dir, "cgroup.events"));
    return !frozen || *frozen == 1;
  }
  return true;
}

// One round: freeze, read every pid below every dir, SIGKILL them, thaw everything below.
// Returns whether no process was found.
bool kill_round(const std::vector<std::string>& dirs) {
  // Nothing can fork into an empty subtree: no freeze then. Each freeze and thaw flips the
  // kernel's freezer_active static key, which patches kernel text on every CPU; it was ~3% of a
  // `hippo run` whose init had long exited (docs/performance.md).
  if (std::ranges::all_of(dirs, [](const std::string& dir) {
        auto pids = read_procs_recursive(dir, Tree::kernel);
        return pids && pids->empty();
      })) {
    return true;
  }
  for (const auto& dir : dirs) set_frozen(dir, true);
  // A freeze that does not settle (a task stuck in the kernel) is not waited for long: the
  // kill still reaches what is there, and the next round what it forked meanwhile.
  (void)poll_until(std::chrono::milliseconds(200),
                   [&]() -> Result<bool> { return std::ranges::all_of(dirs, freeze_settled); });
  std::vector<pid_t> pids;
  for (const auto& dir : dirs) {
    auto found = read_procs_recursive(dir, Tree::kernel);
    if (found) pids.insert(pids.end(), found->begin(), found->end());
  }
  for (pid_t pid : pids) {
    if (pid > 0) ::kill(pid, SIGKILL);
  }
  // Thawing L does not thaw a cgroup an inner runtime froze itself: thaw each one.
  for (const auto& dir : dirs) {
    std::vector<std::string> subtree;
    collect_subtree(dir, subtree);
    for (const auto& d : subtree) set_frozen(d, false);
  }
  return pids.empty();
}

Result<void> chown_path(const std::string& path, uid_t uid, gid_t gid, bool may_be_missing) {
  if (::chown(path.c_str(), uid, gid) == 0) return {};
  if (errno == ENOENT && may_be_missing) return {};
  return fail_errno("chown " + path + " to " + std::to_string(uid) + ":" + std::to_string(gid));
}

}  // namespace

std::vector<std::string> cgroup_dirs(const Manager& m) {
  std::vector<std::string> dirs;
  for (const char* h : kHierarchies) {
    auto dir = m.path_of(h);
    if (dir.empty() || std::ranges::find(dirs, dir) != dirs.end() || !is_dir(dir)) continue;
    dirs.push_back(std::move(dir));
  }
  return dirs;
}

Result<void> kill_subtrees(const std::vector<std::string>& dirs,
                           std::chrono::milliseconds timeout) {
  if (dirs.empty()) return {};
  for (const auto& dir : dirs) {
    // Kills the whole subtree at once, frozen tasks too; the rounds below then find it empty.
    if (const auto file = join(dir, "cgroup.kill"); exists(file)) {
      (void)write_file(file, "1", Tree::kernel);
    }
  }
  auto empty = poll_until(timeout, [&]() -> Result<bool> { return kill_round(dirs); });
  if (!empty) return std::unexpected(empty.error());
  if (!*empty) {
    return fail("kill the processes of cgroup " + dirs.front() + ": some are still there after " +
                    std::to_string(timeout.count()) + " ms",
                ETIMEDOUT);
  }
  return {};
}

std::vector<std::string> v2_delegate_files(std::string_view kernel_list) {
  auto names = words(kernel_list);
  if (names.empty()) return {"cgroup.procs", "cgroup.threads", "cgroup.subtree_control"};
  return names;
}

std::vector<std::string> v1_delegate_files() {
  return {"cgroup.procs", "tasks", "cgroup.clone_children"};
}

Result<void> delegate_dirs(const std::vector<std::string>& dirs, uid_t uid, gid_t gid) {
  std::optional<std::vector<std::string>> v2_files;
  for (const auto& dir : dirs) {
    const bool v2 = exists(join(dir, "cgroup.controllers"));
    std::vector<std::string> targets{dir};
    if (v2) {
      if (!v2_files) {
        auto list = read_optional(kKernelDelegateList);
        if (!list) return std::unexpected(list.error());
        v2_files = v2_delegate_files(list->value_or(""));
      }
      if (const auto leaf = join(dir, "init"); is_dir(leaf)) targets.push_back(leaf);
    }
    const auto files = v2 ? *v2_files : v1_delegate_files();
    for (const auto& target : targets) {
      if (auto ok = chown_path(target, uid, gid, false); !ok) return ok;
      for (const auto& file : files) {
        if (auto ok = chown_path(join(target, file), uid, gid, true); !ok) return ok;
      }
    }
  }
  return {};
}

Result<void> Manager::kill_all() { return kill_subtrees(cgroup_dirs(*this)); }

Result<void> Manager::delegate(uid_t uid, gid_t gid) {
  return delegate_dirs(cgroup_dirs(*this), uid, gid);
}

}  // namespace hippo::cgroups
