#include "runtime/linux/plan_mounts.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <string>

#include "base/file_io.hpp"
#include "base/mount_options.hpp"
#include "base/mountinfo.hpp"
#include "base/syscalls.hpp"
#include "oci-spec/names.hpp"
#include "runtime/linux/idmapped_mount.hpp"

namespace hippo::os {
namespace {

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
    // cgroup v1 inside a container: a tmpfs holding the container's own cgroup of each
    // controller, bound from the host (runc does the same without a cgroup namespace).
    const bool ro = (opts.flags & MS_RDONLY) != 0;
    MountStep tmpfs;
    tmpfs.source = "tmpfs";
    tmpfs.target = target;
    tmpfs.fstype = "tmpfs";
    tmpfs.data = "mode=755";
    tmpfs.flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    tmpfs.what = "mount cgroup tmpfs on " + m.destination;
    plan.mounts.push_back(tmpfs);
    for (const auto& [name, host] : options.cgroup_binds) {
      MountStep b;
      b.source = host;
      b.target = target + "/" + name;
      b.bind = true;
      b.flags = MS_BIND | MS_REC;
      b.remount = MS_NOSUID | MS_NODEV | MS_NOEXEC | (ro ? MS_RDONLY : 0);
      b.what = "bind cgroup " + host + " on " + m.destination + "/" + name;
      plan.mounts.push_back(std::move(b));
    }
    if (ro) {
      MountStep r;
      r.target = target;
      r.flags = MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
      r.fstype = "tmpfs";
      r.source = "tmpfs";
      r.data = "mode=755";
      r.what = "remount cgroup tmpfs on " + m.destination + " read-only";
      plan.mounts.push_back(std::move(r));
    }
    return {};
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
