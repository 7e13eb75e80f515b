#include "shim/shim_cgroup.hpp"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/file_io.hpp"

namespace hippo::shim {
namespace {

bool fs_type_is(const std::string& path, long magic) {
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) == 0 && static_cast<long>(fs.f_type) == magic;
}

Result<void> add_pid(const std::string& dir, pid_t pid) {
  const auto procs = dir + "/cgroup.procs";
  if (auto ok = write_text_file(procs, std::to_string(pid)); !ok) return forward(ok);
  return {};
}

}  // namespace

Result<void> join_shim_cgroup(pid_t pid, const std::string& path, const std::string& root) {
  const auto what = "shim cgroup \"" + path + "\"";
  if (path.empty() || path.front() != '/' || normalize_path(path) != path) {
    return fail(ErrorKind::invalid_argument, what + ": not an absolute cgroup path");
  }
  if (fs_type_is(root, CGROUP2_SUPER_MAGIC)) {
    if (auto ok = add_pid(root + path, pid); !ok) return forward(ok, what);
    return {};
  }
  // v1 (or hybrid, where containerd's shim, too, keeps to the v1 hierarchies): each mounted
  // hierarchy once (cpu and cpuacct are symlinks to their co-mount).
  auto names = list_directory(root);
  if (!names) return forward(names, what);
  bool joined = false;
  for (const auto& name : *names) {
    const auto hierarchy = root + "/" + name;
    struct stat st {};
    if (::lstat(hierarchy.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (!fs_type_is(hierarchy, CGROUP_SUPER_MAGIC)) continue;
    const auto dir = hierarchy + path;
    if (::access(dir.c_str(), F_OK) != 0) continue;
    if (auto ok = add_pid(dir, pid); !ok) return forward(ok, what);
    joined = true;
  }
  if (!joined)
    return fail(ErrorKind::not_found,
                what + ": no cgroup hierarchy under " + root + " has it (create it first)");
  return {};
}

}  // namespace hippo::shim
