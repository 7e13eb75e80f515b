#include "runtime/cgroups/proc_cgroup.hpp"

#include "runtime/cgroups/cgroup_files.hpp"
#include "runtime/cgroups/fs_manager.hpp"

namespace hippo::cgroups {
namespace {

bool lists_memory(std::string_view controllers) {
  while (!controllers.empty()) {
    const auto comma = controllers.find(',');
    if (controllers.substr(0, comma) == "memory") return true;
    if (comma == std::string_view::npos) break;
    controllers.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

Result<std::string> memory_dir_from_proc(std::string_view doc, const std::string& root,
                                         bool root_is_v2) {
  while (!doc.empty()) {
    const auto nl = doc.find('\n');
    const auto line = doc.substr(0, nl);
    doc.remove_prefix(nl == std::string_view::npos ? doc.size() : nl + 1);
    // hierarchy-id:controllers:path
    const auto first = line.find(':');
    const auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const auto controllers = line.substr(first + 1, second - first - 1);
    const auto path = std::string(line.substr(second + 1));
    if (root_is_v2 && line.substr(0, first) == "0" && controllers.empty()) return root + path;
    if (!root_is_v2 && lists_memory(controllers)) {
      return root + "/" + std::string(controllers) + path;
    }
  }
  return fail(root_is_v2 ? "no unified (0::) entry in /proc/<pid>/cgroup"
                         : "no memory controller in /proc/<pid>/cgroup");
}

Result<std::string> memory_dir_of_pid(pid_t pid) {
  const std::string file = "/proc/" + std::to_string(pid) + "/cgroup";
  auto doc = read_file(file, Tree::kernel);
  if (!doc) return std::unexpected(doc.error());
  const bool v2 = detect_fs_version("/sys/fs/cgroup") == FsVersion::v2;
  auto dir = memory_dir_from_proc(*doc, "/sys/fs/cgroup", v2);
  if (!dir) return fail(file + ": " + dir.error().message);
  return dir;
}

}  // namespace hippo::cgroups
