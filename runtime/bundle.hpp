#pragma once
// An OCI bundle on disk: <dir>/config.json plus the root filesystem it names.

#include <string>
#include <string_view>

#include "oci-spec/error.hpp"
#include "oci-spec/spec.hpp"

namespace hippo::runtime {

struct Bundle {
  std::string dir;     // absolute, normalized
  std::string rootfs;  // absolute, normalized: root.path resolved against dir
  spec::Spec spec;
};

// Reads and validates <dir>/config.json and checks that the rootfs is a directory.
Result<Bundle> load_bundle(const std::string& dir);

// runc's rule for container ids: letters, digits, '_', '+', '-', '.', not "." or "..".
Result<void> validate_container_id(std::string_view id);

}  // namespace hippo::runtime
