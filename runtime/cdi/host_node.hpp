#pragma once
// What a CDI device node leaves out is read from the host's node (pkg/cdi/container-edits_unix.go):
// its type, major/minor and file mode.

#include <cstdint>
#include <string>

#include "base/error.hpp"
#include "runtime/cdi/spec_model.hpp"

namespace hippo::cdi {

struct HostNode {
  std::string type;  // "b", "c" or "p"
  int64_t major = 0;
  int64_t minor = 0;
  uint32_t mode = 0;  // permission bits
};

// lstat of `path` (a symlink is not followed, as in the reference and runc); a file that is not a
// block, char or fifo node is an error: `"/etc/passwd" is not a device node`.
Result<HostNode> stat_host_node(const std::string& path);

// Fills hostPath (= path), and from the host node: fileMode when absent, and type, major and
// minor unless the spec gives type and a non-zero major (or type "p"). Only then may the host
// node be missing. A type that disagrees with the host node is an error.
Result<DeviceNode> complete_node(const DeviceNode& node);

}  // namespace hippo::cdi
