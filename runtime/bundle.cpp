#include "runtime/bundle.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "base/file_io.hpp"
#include "oci-spec/config.hpp"

namespace hippo::runtime {

Result<Bundle> load_bundle(const std::string& dir) {
  auto abs = absolute_path(dir);
  if (!abs) return std::unexpected(abs.error().context("bundle " + dir));
  Bundle bundle;
  bundle.dir = normalize_path(*abs);
  auto spec = spec::load(join_path(bundle.dir, "config.json"));
  if (!spec) return std::unexpected(spec.error());
  bundle.spec = std::move(*spec);
  bundle.rootfs = normalize_path(join_path(bundle.dir, bundle.spec.root->path));
  struct stat st {};
  if (::stat(bundle.rootfs.c_str(), &st) != 0) {
    return fail_errno("config.json: root.path: rootfs " + bundle.rootfs);
  }
  if (!S_ISDIR(st.st_mode)) {
    return fail("config.json: root.path: rootfs " + bundle.rootfs + " is not a directory", ENOTDIR);
  }
  return bundle;
}

Result<void> validate_container_id(std::string_view id) {
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '+' || c == '-' || c == '.';
  };
  const bool ok = !id.empty() && id.size() <= kMaxContainerIdLength && id != "." && id != ".." &&
                  std::ranges::all_of(id, allowed);
  if (!ok) {
    // The id is shown (shortened: a caller may pass kilobytes) so the user sees which one.
    constexpr size_t kShown = 64;
    std::string shown(id.substr(0, kShown));
    if (id.size() > kShown) shown += "...";
    return fail("invalid container ID format: \"" + shown +
                    "\" (letters, digits, '_', '+', '-', '.'; not \".\" or \"..\"; at most " +
                    std::to_string(kMaxContainerIdLength) + " bytes)",
                EINVAL);
  }
  return {};
}

}  // namespace hippo::runtime
