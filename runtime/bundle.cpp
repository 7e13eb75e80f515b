#include "bundle.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>

#include "oci-spec/config.hpp"

namespace hippo::runtime {

Result<Bundle> load_bundle(const std::filesystem::path& dir) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(dir, ec);
  if (ec) return fail("bundle " + dir.string() + ": " + ec.message(), ec.value());
  Bundle bundle;
  bundle.dir = abs.lexically_normal();
  auto spec = spec::load(bundle.dir / "config.json");
  if (!spec) return std::unexpected(spec.error());
  bundle.spec = std::move(*spec);
  const std::filesystem::path root(bundle.spec.root->path);
  bundle.rootfs = (root.is_absolute() ? root : bundle.dir / root).lexically_normal();
  struct stat st {};
  if (::stat(bundle.rootfs.c_str(), &st) != 0) {
    return fail_errno("config.json: root.path: rootfs " + bundle.rootfs.string());
  }
  if (!S_ISDIR(st.st_mode)) {
    return fail("config.json: root.path: rootfs " + bundle.rootfs.string() + " is not a directory",
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
