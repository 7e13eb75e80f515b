#include "runtime/linux/plan_mounts.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "base/file_io.hpp"
#include "base/mount_options.hpp"
#include "base/mountinfo.hpp"
#include "base/syscalls.hpp"
#include "oci-spec/names.hpp"
#include "runtime/linux/idmapped_mount.hpp"

namespace hippo::os {
namespace {

constexpr unsigned long kCgroupFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;

// mount_setattr(2), Linux 5.12: EBADF for the bad fd where it exists, ENOSYS where it does not.
bool have_mount_setattr() {
  static const bool have =
      ::syscall(SYS_mount_setattr, -1, "", 0, nullptr, 0) != 0 && errno != ENOSYS;
  return have;
}

// proc and sysfs must be mounted on an ordinary directory (runc: "must be mounted on ordinary
// directory"): a symlink there, even one resolved inside the rootfs, would let the image choose
// where the container's /proc or /sys lands (and so what masked paths and read-only /sys miss).
// Checked here, before anything is created, with the rootfs's own symlinks on the way resolved
// inside it; init opens the target with O_NOFOLLOW|O_DIRECTORY, so a swap since is refused too.
Result<void> check_ordinary_directory(const std::string& rootfs, const std::string& target,
                                      const spec::Mount& m, const std::string& type) {
  UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return {};  // no rootfs to look into (the bundle check reports a missing one)
  UniqueFd fd(sys::openat2(root.get(), target.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC,
                           RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS));
  const std::string path = join_path(rootfs, target);
  if (!fd) {
    if (errno == ENOENT) return {};  // init creates it
    return fail_errno("mounts: " + m.destination + ": " + type + " target " + path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return fail_errno("mounts: " + m.destination + ": " + type + " target " + path);
  }
  const std::string at = "mounts: " + m.destination + ": " + type +
                         " must be mounted on an ordinary directory, but " + path;
  if (S_ISLNK(st.st_mode)) {
    char link[PATH_MAX];
    const ssize_t n = ::readlinkat(fd.get(), "", link, sizeof link - 1);
    const std::string to = n > 0 ? " (-> " + std::string(link, static_cast<size_t>(n)) + ")" : "";
    return fail(at + " is a symlink" + to, ELOOP);
  }
  if (!S_ISDIR(st.st_mode)) return fail(at + " is not a directory", ENOTDIR);
  return {};
}

// A bind of a host cgroup directory, writable or not; opened by the host's root under a user
// namespace of the container's own (runc's rule for binds, see below), since the container's
// root may not be able to look the path up.
MountStep cgroup_bind(const InitPlan& plan, const std::string& host, const std::string& target,
                      bool ro, const std::string& shown) {
  MountStep b;
  b.source = host;
  b.target = target;
  b.bind = true;
  b.flags = MS_BIND | MS_REC;
  b.remount = kCgroupFlags | (ro ? MS_RDONLY : 0);
  b.source_by_host = (plan.clone_flags & CLONE_NEWUSER) != 0;
  b.what = "bind cgroup " + host + " on " + shown;
  return b;
}

// A config.json "cgroup" mount shows the container's own cgroup and nothing above it.
// v2: a fresh cgroup2 mounted by init after it unshared its cgroup namespace (so the mount's
// root is the container's cgroup; FS_USERNS_MOUNT lets a user namespace owning the cgroup
// namespace mount it), or, without a cgroup namespace, a bind of the container's directory
// (a fresh mount would show the host's whole tree, as runc's does).
// v1/hybrid: a tmpfs holding a bind of the container's directory of each hierarchy (runc does
// the same without a cgroup namespace), plus `unified` on a hybrid host when writable; the binds
// are writable as the mount asks, the tmpfs is read-only at the end either way, so nothing can
// be made beside them.
Result<void> add_cgroup_mount(InitPlan& plan, const std::string& destination,
                              const std::string& target, const MountOptions& opts,
                              const CgroupMountSources& sources) {
  const bool ro = (opts.flags & MS_RDONLY) != 0;
  if (sources.v2) {
    if (plan.unshare_cgroup) {
      MountStep fresh;
      fresh.source = "cgroup2";
      fresh.target = target;
      fresh.fstype = "cgroup2";
      fresh.data = opts.data;
      fresh.flags = kCgroupFlags | (opts.flags & ~static_cast<unsigned long>(MS_REC | MS_BIND));
      fresh.what = "mount cgroup2 on " + destination;
      plan.mounts.push_back(std::move(fresh));
    } else if (!sources.v2_dir.empty()) {
      plan.mounts.push_back(cgroup_bind(plan, sources.v2_dir, target, ro, destination));
    } else {
      return fail("mounts: " + destination + ": the container has no cgroup2 directory to show");
    }
    return {};
  }
  MountStep tmpfs;
  tmpfs.source = "tmpfs";
  tmpfs.target = target;
  tmpfs.fstype = "tmpfs";
  tmpfs.data = "mode=755";
  tmpfs.flags = kCgroupFlags;
  tmpfs.what = "mount cgroup tmpfs on " + destination;
  plan.mounts.push_back(tmpfs);
  // A read-only mount (the default) is made read-only in one mount_setattr over the tmpfs and
  // every bind in it, not by a remount of each (11 hierarchies here: ~33 syscalls fewer).
  const bool at_once = ro && have_mount_setattr();
  for (const auto& [name, host] : sources.v1) {
    auto bind = cgroup_bind(plan, host, target + "/" + name, ro, destination + "/" + name);
    if (at_once) bind.remount = 0;
    plan.mounts.push_back(std::move(bind));
  }
  if (!ro && !sources.unified.empty()) {
    plan.mounts.push_back(
        cgroup_bind(plan, sources.unified, target + "/unified", ro, destination + "/unified"));
  }
  MountStep r = std::move(tmpfs);
  if (at_once) {
    r.attrs_only = true;
    r.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    r.what = "make the cgroup mounts on " + destination + " read-only";
  } else {
    r.flags = MS_REMOUNT | MS_RDONLY | kCgroupFlags;
    r.what = "remount cgroup tmpfs on " + destination + " read-only";
  }
  plan.mounts.push_back(std::move(r));
  return {};
}

}  // namespace

Result<void> add_mount(InitPlan& plan, const spec::Mount& m, const PlanOptions& options,
                       const spec::Linux& linux) {
  const auto opts = parse_mount_options(m.options.value_or(spec::Strings{}));
  const std::string type = m.type.value_or("");
  const std::string target = relative_to_root(m.destination);
  if (target.empty())
    return fail("mounts: " + m.destination + ": cannot mount over the rootfs itself");
  const bool ordinary_directory = type == "proc" || type == "sysfs";
  if (ordinary_directory) {
    if (auto ok = check_ordinary_directory(plan.rootfs, target, m, type); !ok) return ok;
  }
  if (type == "cgroup") {
    return add_cgroup_mount(plan, m.destination, target, opts, options.cgroup);
  }
  if (type == "sysfs" && (plan.clone_flags & CLONE_NEWUSER) && !(plan.clone_flags & CLONE_NEWNET)) {
    // The kernel mounts sysfs only for the owner of the network namespace: a new user
    // namespace sharing the host's network gets the host's /sys bound instead (as runc does),
    // with the options asked for (ro, nosuid …) applied by the remount.
    MountStep b;
    b.source = "/sys";
    b.target = target;
    b.bind = true;
    b.flags = MS_BIND | MS_REC;
    b.remount = opts.flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    b.what = "bind /sys on " + m.destination +
             " (sysfs needs a network namespace of the container's own)";
    b.ordinary_directory = true;
    plan.mounts.push_back(std::move(b));
    return {};
  }
  MountStep step;
  step.target = target;
  step.fstype = type == "bind" ? "" : type;
  step.data = opts.data;
  step.propagation = opts.propagation;
  step.attr_set = opts.attr_set;
  step.attr_clr = opts.attr_clr;
  step.bind = opts.bind() || type == "bind";
  if (step.bind) {
    std::string source = m.source.value_or("");
    if (source.empty()) return fail("mounts: " + m.destination + ": a bind mount needs a source");
    if (source.front() != '/') source = options.bundle + "/" + source;
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0) {
      return fail_errno("mounts: " + m.destination + ": bind source " + source);
    }
    step.source = source;
    step.target_is_file = !S_ISDIR(st.st_mode);
    if (m.uidMappings || m.gidMappings || opts.idmap) {
      // The "idmap"/"ridmap" options without maps of the mount's own take the container's.
      const auto& uids = m.uidMappings ? m.uidMappings : linux.uidMappings;
      const auto& gids = m.gidMappings ? m.gidMappings : linux.gidMappings;
      if (!uids || uids->empty() || !gids || gids->empty()) {
        return fail("mounts: " + m.destination +
                    ": an idmapped mount needs uidMappings and gidMappings "
                    "(of the mount or of the container's user namespace)");
      }
      auto tree = make_idmapped_tree(source, (opts.flags & MS_REC) != 0, *uids, *gids,
                                     "mounts: " + m.destination);
      if (!tree) return std::unexpected(tree.error());
      step.tree_fd = tree->get();
      plan.held_fds.push_back(std::make_shared<UniqueFd>(std::move(*tree)));
    }
    // runc's rule (shouldSendMountSources): with a user namespace of its own the container's
    // root may not be able to look the source up; the host's root opens it for init.
    step.source_by_host = step.tree_fd < 0 && (plan.clone_flags & CLONE_NEWUSER) != 0;
    step.flags = MS_BIND | (opts.flags & MS_REC);
    step.remount = opts.remount_flags();
    step.what = "bind " + source + " on " + m.destination;
  } else {
    if (m.uidMappings || m.gidMappings) {
      return fail("mounts: " + m.destination + ": uidMappings and gidMappings need a bind mount");
    }
    step.source = m.source.value_or(type);
    step.flags = opts.flags;
    if ((step.flags & MS_RDONLY) && (type == "tmpfs" || target == "dev")) {
      // Directories, device nodes and submounts (devpts on /dev/pts) still go into it: mounted
      // writable, made read-only once the container's mounts are done, as runc does.
      step.flags &= ~static_cast<unsigned long>(MS_RDONLY);
      plan.readonly_remounts.push_back("/" + target);
    }
    step.what = "mount " + type + " on " + m.destination;
    step.ordinary_directory = ordinary_directory;
  }
  plan.mounts.push_back(std::move(step));
  if (m.destination == "/dev" && type == "tmpfs") plan.create_default_devices = true;
  return {};
}

std::vector<std::string> pseudo_filesystems_outside(std::string_view mountinfo,
                                                    std::string_view rootfs) {
  std::vector<std::string> out;
  for (const auto& e : mount_entries(mountinfo)) {
    if (e.root != "/" || (e.fstype != "proc" && e.fstype != "sysfs")) continue;
    const std::string_view point = e.mount_point;
    const bool inside = point == rootfs || (point.starts_with(rootfs) && rootfs.size() > 0 &&
                                            (rootfs.back() == '/' || point[rootfs.size()] == '/'));
    if (!inside) out.push_back(e.mount_point);
  }
  return out;
}

std::string relative_to_root(std::string_view container_path) {
  while (!container_path.empty() && container_path.front() == '/') container_path.remove_prefix(1);
  return std::string(container_path);
}

}  // namespace hippo::os
