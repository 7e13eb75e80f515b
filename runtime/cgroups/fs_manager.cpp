#include "runtime/cgroups/fs_manager.hpp"

#include <linux/magic.h>
#include <sys/statfs.h>

#include "runtime/cgroups/fs_v1.hpp"
#include "runtime/cgroups/fs_v2.hpp"

namespace hippo::cgroups {

FsVersion detect_fs_version(const std::string& root) {
  struct statfs st {};
  if (::statfs(root.c_str(), &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC) return FsVersion::v2;
  return FsVersion::v1;
}

std::unique_ptr<Manager> make_fs_manager(const CgroupConfig& config, const std::string& root,
                                         FsVersion version) {
  if (version == FsVersion::detect) version = detect_fs_version(root);
  if (version == FsVersion::v2) return make_fs_v2_manager(config, root);
  return make_fs_v1_manager(config, read_v1_layout(root));
}

std::unique_ptr<Manager> make_fs_manager(const CgroupConfig& config, const std::string& root) {
  return make_fs_manager(config, root, FsVersion::detect);
}

}  // namespace hippo::cgroups
