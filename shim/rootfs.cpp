#include "shim/rootfs.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "base/file_io.hpp"
#include "base/mount_options.hpp"
#include "base/mountinfo.hpp"

namespace hippo::shim {
namespace {

std::vector<std::string> mounts_under(const std::string& path) {
  std::vector<std::string> out;
  auto text = read_text_file("/proc/self/mountinfo");
  if (!text) return out;
  for (auto& point : os::mount_points(*text)) {
    if (point == path || point.starts_with(path + "/")) out.push_back(std::move(point));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.size() > b.size(); });
  return out;
}

Result<void> unmount_one(const std::string& target) {
  // EBUSY is retried (about 2.5 s, as containerd's helper does); EINVAL means nothing is
  // mounted there any more.
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (::umount2(target.c_str(), UMOUNT_NOFOLLOW) == 0) continue;  // stacked mounts: again
    if (errno == EINVAL || errno == ENOENT) return {};
    if (errno != EBUSY) return fail_errno("unmount " + target);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0 || errno == EINVAL) return {};
  return fail_errno("unmount " + target);
}

}  // namespace

Result<void> mount_rootfs(const std::string& rootfs, const std::vector<RootfsMount>& mounts) {
  if (::mkdir(rootfs.c_str(), 0711) != 0 && errno != EEXIST) return fail_errno("mkdir " + rootfs);
  for (const auto& m : mounts) {
    auto opts = os::parse_mount_options(m.options);
    std::string target = rootfs;
    if (!m.target.empty())
      target = join_path(
          rootfs, m.target.substr(std::min(m.target.find_first_not_of('/'), m.target.size())));
    const unsigned long flags = opts.flags & ~static_cast<unsigned long>(MS_REC | MS_BIND);
    const bool bind = opts.bind();
    int rc = ::mount(m.source.c_str(), target.c_str(), bind ? nullptr : m.type.c_str(),
                     bind ? (opts.flags & (MS_BIND | MS_REC)) : flags,
                     opts.data.empty() ? nullptr : opts.data.c_str());
    if (rc == 0 && bind && opts.remount_flags()) {
      rc = ::mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | opts.remount_flags(),
                   nullptr);
    }
    if (rc == 0 && opts.propagation)
      rc = ::mount(nullptr, target.c_str(), nullptr, opts.propagation, nullptr);
    if (rc != 0) {
      const int err = errno;
      (void)unmount_all(rootfs);
      return fail_errno("mount " + m.type + " " + m.source + " on " + target, err);
    }
  }
  return {};
}

Result<void> unmount_all(const std::string& path) {
  for (const auto& target : mounts_under(path)) {
    if (auto ok = unmount_one(target); !ok) return ok;
  }
  return {};
}

}  // namespace hippo::shim
