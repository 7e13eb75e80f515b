#pragma once
// The snapshotter mounts of CreateTaskRequest.rootfs, mounted in order onto <bundle>/rootfs in
// the host mount namespace (where containerd can see and clean them), and their removal.

#include <string>
#include <vector>

#include "base/error.hpp"

namespace hippo::shim {

struct RootfsMount {
  std::string type;
  std::string source;
  std::string target;  // inside the rootfs; empty for the root itself
  std::vector<std::string> options;
};

// Mounts everything or, on failure, unmounts what it mounted.
Result<void> mount_rootfs(const std::string& rootfs, const std::vector<RootfsMount>& mounts);
// Unmounts every mount at or under `path`, deepest first; missing path or nothing mounted is
// success.
Result<void> unmount_all(const std::string& path);

}  // namespace hippo::shim
