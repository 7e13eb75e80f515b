#include "bundle.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>

#include "oci-spec/config.hpp"
#include "oci-spec/file_io.hpp"

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
    return fail("config.json: root.path: rootfs " + bundle.rootfs + " is not a directory",
                ENOTDIR);
  }
  return bundle;
}

Result<void> validate_container_id(std::string_view id) {
  const bool ok = !id.empty() && id != "." && id != ".." &&
                  std::ranges::all_of(id, [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' ||
                           c == '-' || c == '.';
                  });
  if (!ok) {
    return fail("invalid container id \"" + std::string(id) +
                "\": use letters, digits, '_', '+', '-' and '.'");
  }
  return {};
}

}  // namespace hippo::runtime
