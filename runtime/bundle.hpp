#pragma once
// An OCI bundle on disk: <dir>/config.json plus the root filesystem it names.

#include <cstddef>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "oci-spec/spec.hpp"

namespace hippo::runtime {

struct Bundle {
  std::string dir;     // absolute, normalized
  std::string rootfs;  // absolute, normalized: root.path resolved against dir
  spec::Spec spec;
};

// Reads and validates <dir>/config.json and checks that the rootfs is a directory.
Result<Bundle> load_bundle(const std::string& dir);

// The longest id: it names a directory under the state root (NAME_MAX). runc has no limit of
// its own and fails later, at mkdir.
inline constexpr size_t kMaxContainerIdLength = 255;

// runc's rule for container ids (libcontainer validateID): ASCII letters, digits, '_', '+', '-',
// '.', not empty, not "." or "..", so an id is always one plain entry of the state root; plus
// the length above. The error reads runc's "invalid container ID format" with the id.
// Every entry point (CLI, shim actions, Task API, state store) checks it before touching the
// filesystem.
Result<void> validate_container_id(std::string_view id);

}  // namespace hippo::runtime
