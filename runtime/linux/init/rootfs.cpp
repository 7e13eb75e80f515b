// The container's root filesystem, built by init: mounts resolved inside the rootfs (openat2
// RESOLVE_IN_ROOT), device nodes, symlinks, pivot_root, sysctls, masked and read-only paths.
// Runs in the cloned child. Rules: no allocation, no locks, no exceptions, no logging library:
// raw system calls over the pre-built plan; a failed step reports {errno, what} to the parent and
// _exits. Fixed-size buffers live on the stack.

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string_view>

#include "base/syscalls.hpp"
#include "runtime/linux/init/steps.hpp"

namespace hippo::os::init {
namespace {

// Opens `rel` (relative to the rootfs) with every symlink resolved inside the rootfs, so a
// malicious rootfs cannot make us mount or write outside it.
int open_in_root(int rootfd, const char* rel, int flags) {
  return sys::openat2(rootfd, rel, static_cast<unsigned long long>(flags) | O_CLOEXEC,
                      RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

// Creates `rel`'s last component in its parent when the parent resolves and the component is
// missing: true when done. Anything else (a dangling symlink, a racing creator, a missing parent)
// is left to the walk below.
bool make_last_component(int rootfd, const char* rel, size_t n, bool last_is_file) {
  if (n == 0 || rel[n - 1] == '/') return false;
  const char* slash = std::strrchr(rel, '/');
  const char* name = slash ? slash + 1 : rel;
  if (std::strlen(name) > NAME_MAX || std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0)
    return false;
  int parent = rootfd;
  if (slash) {
    char dir[PATH_MAX];
    const auto len = static_cast<size_t>(slash - rel);
    std::memcpy(dir, rel, len);
    dir[len] = '\0';
    parent = open_in_root(rootfd, dir, O_PATH | O_DIRECTORY);
    if (parent < 0) return false;
  }
  int rc;
  if (last_is_file) {
    int f = ::openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    rc = f < 0 ? -1 : ::close(f);
  } else {
    rc = ::mkdirat(parent, name, 0755);
  }
  if (parent != rootfd) ::close(parent);
  return rc == 0;
}

// Creates the missing directories of `rel` (and the last component as a file if asked), each
// created inside the directory resolved in the rootfs. A dangling symlink on the way is followed
// inside the rootfs (as openat2 will follow it later) and its target created instead.
void ensure_path(int rootfd, std::string_view rel, bool last_is_file, const char* what,
                 int depth = 0) {
  if (depth > 40) die_with(ELOOP, what);
  char prefix[PATH_MAX];
  const size_t n = rel.size();
  if (n >= sizeof prefix) die_with(ENAMETOOLONG, what);
  // Most targets exist (the image's /proc, /dev, /sys) or miss only their last component (a
  // mount point in a fresh tmpfs): one or two resolutions instead of one per component.
  if (n > 0) {
    std::memcpy(prefix, rel.data(), n);
    prefix[n] = '\0';
    if (int fd = open_in_root(rootfd, prefix, O_PATH); fd >= 0) {
      ::close(fd);
      return;
    }
    if (errno == ENOENT && make_last_component(rootfd, prefix, n, last_is_file)) return;
  }
  size_t end = 0;
  int parent = ::fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
  while (end < n) {
    size_t start = end;
    while (end < n && rel[end] != '/') ++end;
    std::memcpy(prefix, rel.data(), end);
    prefix[end] = '\0';
    const bool last = end == n;
    int fd = open_in_root(rootfd, prefix, O_PATH);
    if (fd < 0 && errno == ENOENT) {
      char name[NAME_MAX + 1];
      const size_t len = end - start;
      if (len > NAME_MAX) die_with(ENAMETOOLONG, what);
      std::memcpy(name, rel.data() + start, len);
      name[len] = '\0';
      int rc = 0;
      if (last && last_is_file) {
        int f = ::openat(parent, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        rc = f < 0 ? -1 : ::close(f);
      } else {
        rc = ::mkdirat(parent, name, 0755);
      }
      if (rc != 0 && (errno == EEXIST || errno == ELOOP)) {
        char link[PATH_MAX];
        const ssize_t ln = ::readlinkat(parent, name, link, sizeof link - 1);
        if (ln <= 0) die(what);
        // new path = (link is absolute ? link : dir of this component + "/" + link) + rest
        char next[PATH_MAX];
        size_t k = 0;
        auto put = [&](const char* p, size_t m) {
          if (k + m >= sizeof next) die_with(ENAMETOOLONG, what);
          std::memcpy(next + k, p, m);
          k += m;
        };
        if (link[0] != '/' && start > 0) {
          put(rel.data(), start);
        }
        size_t skip = 0;
        while (skip < static_cast<size_t>(ln) && link[skip] == '/') ++skip;
        put(link + skip, static_cast<size_t>(ln) - skip);
        put(rel.data() + end, n - end);
        next[k] = '\0';
        ::close(parent);
        ensure_path(rootfd, std::string_view(next, k), last_is_file, what, depth + 1);
        return;
      }
      if (rc != 0) die(what);
      fd = open_in_root(rootfd, prefix, O_PATH);
    }
    if (fd < 0) die(what);
    ::close(parent);
    parent = fd;
    while (end < n && rel[end] == '/') ++end;
  }
  ::close(parent);
}

int must_open_in_root(int rootfd, const std::string& rel, const std::string& what) {
  int fd = open_in_root(rootfd, rel.c_str(), O_PATH);
  if (fd < 0) die(what);
  return fd;
}

void set_attrs(int fd, const MountStep& m) {
  mount_attr attr{};
  attr.attr_set = m.attr_set;
  attr.attr_clr = m.attr_clr;
  if (::syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
    die(m.what, " (mount_setattr)");
}

void do_mount(int rootfd, const MountStep& m) {
  if (m.attrs_only) {
    int fd = must_open_in_root(rootfd, m.target, m.what);
    set_attrs(fd, m);
    ::close(fd);
    return;
  }
  if (m.flags & MS_REMOUNT) {
    int fd = must_open_in_root(rootfd, m.target, m.what);
    Text p;
    proc_fd_path(p, fd);
    if (::mount(m.source.c_str(), p.buf, m.fstype.c_str(), m.flags, m.data.c_str()) != 0)
      die(m.what);
    ::close(fd);
    return;
  }
  ensure_path(rootfd, m.target, m.bind && m.target_is_file, m.what.c_str());
  int fd = m.ordinary_directory  // a symlink swapped in since the parent's check: ENOTDIR
               ? open_in_root(rootfd, m.target.c_str(), O_PATH | O_NOFOLLOW | O_DIRECTORY)
               : open_in_root(rootfd, m.target.c_str(), O_PATH);
  if (fd < 0) die(m.what);
  Text p;
  proc_fd_path(p, fd);
  const char* data = m.data.empty() ? nullptr : m.data.c_str();
  const char* fstype = m.fstype.empty() ? nullptr : m.fstype.c_str();
  if (m.tree_fd >= 0) {
    if (::syscall(SYS_move_mount, m.tree_fd, "", fd, "",
                  MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
      die(m.what, " (move the idmapped mount into place)");
    }
    ::close(m.tree_fd);
  } else if (m.source_fd >= 0) {
    Text source;
    proc_fd_path(source, m.source_fd);
    if (::mount(source.buf, p.buf, fstype, m.flags, data) != 0) die(m.what);
    ::close(m.source_fd);
  } else if (::mount(m.source.c_str(), p.buf, fstype, m.flags, data) != 0) {
    die(m.what);
  }
  ::close(fd);
  if (!m.remount && !m.propagation && !m.attr_set && !m.attr_clr) return;
  // The fd opened before the mount names the directory under it: reopen to reach the new mount.
  fd = must_open_in_root(rootfd, m.target, m.what);
  Text q;
  proc_fd_path(q, fd);
  if (m.remount) {
    if (::mount(nullptr, q.buf, nullptr, MS_REMOUNT | MS_BIND | m.remount, nullptr) != 0) {
      die(m.what, " (remount)");
    }
  }
  if (m.propagation && ::mount(nullptr, q.buf, nullptr, m.propagation, nullptr) != 0) {
    die(m.what, " (propagation)");
  }
  if (m.attr_set || m.attr_clr) set_attrs(fd, m);
  ::close(fd);
}

const char* base_name(const std::string& rel) {
  const char* s = rel.c_str();
  const char* slash = std::strrchr(s, '/');
  return slash ? slash + 1 : s;
}

int open_parent_in_root(int rootfd, const std::string& rel, const char* what) {
  char parent[PATH_MAX];
  const char* slash = std::strrchr(rel.c_str(), '/');
  const size_t len = slash ? static_cast<size_t>(slash - rel.c_str()) : 0;
  if (len >= sizeof parent) die_with(ENAMETOOLONG, what);
  std::memcpy(parent, rel.data(), len);
  parent[len] = '\0';
  if (len == 0) return ::fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
  ensure_path(rootfd, parent, false, what);
  int fd = open_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
  if (fd < 0) die(what);
  return fd;
}

void create_device(int rootfd, const DeviceNode& d, bool bind) {
  if (bind) {
    ensure_path(rootfd, d.path, true, d.what.c_str());
    int fd = must_open_in_root(rootfd, d.path, d.what);
    Text p;
    proc_fd_path(p, fd);
    if (::mount(d.host_path.c_str(), p.buf, nullptr, MS_BIND, nullptr) != 0) die(d.what);
    ::close(fd);
    return;
  }
  int parent = open_parent_in_root(rootfd, d.path, d.what.c_str());
  const char* name = base_name(d.path);
  // O_PATH dirfds cannot create entries: reopen the directory for real.
  int dir = ::openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) die(d.what);
  ::unlinkat(dir, name, 0);
  if (::mknodat(dir, name, d.mode, d.dev) != 0) die(d.what);
  if (::fchownat(dir, name, d.uid, d.gid, AT_SYMLINK_NOFOLLOW) != 0) die(d.what);
  ::close(dir);
  ::close(parent);
}

void create_symlink(int rootfd, const Symlink& s) {
  int parent = open_parent_in_root(rootfd, s.path, "symlink");
  int dir = ::openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) die("symlink /", s.path.c_str());
  if (::symlinkat(s.target.c_str(), dir, base_name(s.path)) != 0 && errno != EEXIST) {
    die("symlink /", s.path.c_str());
  }
  ::close(dir);
  ::close(parent);
}

// Keeps the flags a user namespace locks (nosuid, nodev, noexec, atime) when remounting.
unsigned long locked_flags(const char* path) {
  struct statfs st {};
  if (::statfs(path, &st) != 0) return 0;
  unsigned long out = 0;
  if (st.f_flags & ST_NOSUID) out |= MS_NOSUID;
  if (st.f_flags & ST_NODEV) out |= MS_NODEV;
  if (st.f_flags & ST_NOEXEC) out |= MS_NOEXEC;
  if (st.f_flags & ST_NOATIME) out |= MS_NOATIME;
  if (st.f_flags & ST_NODIRATIME) out |= MS_NODIRATIME;
  if (st.f_flags & ST_RELATIME) out |= MS_RELATIME;
  return out;
}

void make_readonly(const std::string& path) {
  if (::mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    if (errno == ENOENT) return;
    die("readonly path ", path.c_str());
  }
  const unsigned long flags =
      MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | locked_flags(path.c_str());
  if (::mount(nullptr, path.c_str(), nullptr, flags, nullptr) != 0)
    die("readonly path ", path.c_str());
}

void mask(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    die("masked path ", path.c_str());
  }
  const int rc = S_ISDIR(st.st_mode)
                     ? ::mount("tmpfs", path.c_str(), "tmpfs", MS_RDONLY, "size=0k")
                     : ::mount("/dev/null", path.c_str(), nullptr, MS_BIND, nullptr);
  if (rc != 0) die("masked path ", path.c_str());
}

// --no-pivot (runc's msMoveRoot): the host's whole proc and sysfs mounts stay reachable after a
// chroot; detach them, slaves first so the host keeps its own. A mount this namespace may not
// unmount (locked under a user namespace: EINVAL, or EPERM) is covered with a tmpfs instead. A
// path gone already went with a parent detached before it.
void hide_host_pseudo_filesystems(const InitPlan& plan) {
  const auto fail = [](const char* step, const std::string& path) {
    const int err = errno;
    Text t;
    t.add("--no-pivot: ").add(step).add(" the host's ").add(path.c_str());
    die_with(err, t.buf);
  };
  for (const auto& p : plan.no_pivot_detach) {
    if (::mount(nullptr, p.c_str(), nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
      if (errno == ENOENT) continue;
      fail("make slave", p);
    }
    if (::umount2(p.c_str(), MNT_DETACH) == 0) continue;
    if (errno != EINVAL && errno != EPERM) fail("detach", p);
    if (::mount("tmpfs", p.c_str(), "tmpfs", 0, nullptr) != 0) fail("cover", p);
  }
}

}  // namespace

void setup_rootfs(const InitPlan& plan) {
  if (::mount(nullptr, "/", nullptr, plan.root_propagation, nullptr) != 0)
    die("set propagation of /");
  if (!plan.rootfs_holder.empty() &&
      ::mount(nullptr, plan.rootfs_holder.c_str(), nullptr, MS_PRIVATE, nullptr) != 0) {
    die("make the mount holding the rootfs private ", plan.rootfs_holder.c_str());
  }
  // pivot_root needs the new root to be a mount point.
  if (::mount(plan.rootfs.c_str(), plan.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    die("bind rootfs ", plan.rootfs.c_str());
  }
  if (plan.rootfs_propagation_after &&
      ::mount(nullptr, plan.rootfs.c_str(), nullptr, MS_PRIVATE, nullptr) != 0) {
    die("make rootfs private before pivot_root");
  }
  int rootfd = ::open(plan.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) die("open rootfs ", plan.rootfs.c_str());
  for (const auto& m : plan.mounts) do_mount(rootfd, m);
  for (const auto& d : plan.devices) create_device(rootfd, d, plan.bind_devices);
  for (const auto& s : plan.symlinks) create_symlink(rootfd, s);
  ::close(rootfd);
  run_creation_hooks(plan);

  if (::chdir(plan.rootfs.c_str()) != 0) die("chdir rootfs ", plan.rootfs.c_str());
  if (plan.no_pivot) {
    hide_host_pseudo_filesystems(plan);
    if (::mount(plan.rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) != 0) die("move rootfs to /");
    if (::chroot(".") != 0) die("chroot rootfs");
  } else {
    // pivot_root(".", ".") stacks the old root on the new one; detach it right away. The
    // propagation change must reach the old root itself (through a descriptor taken before
    // the pivot: our "." is the new root's directory), or a shared new root turns slave and
    // the old root's detach propagates unmounts to the host's mounts.
    int old_root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (old_root < 0) die("open old root");
    if (sys::pivot_root(".", ".") != 0) die("pivot_root ", plan.rootfs.c_str());
    if (::fchdir(old_root) != 0) die("enter old root");
    ::close(old_root);
    if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) die("make old root slave");
    if (::umount2(".", MNT_DETACH) != 0) die("detach old root");
  }
  if (::chdir("/") != 0) die("chdir /");
  if (plan.rootfs_propagation_after &&
      ::mount(nullptr, "/", nullptr, plan.rootfs_propagation_after, nullptr) != 0) {
    die("set rootfsPropagation");
  }
}

void finish_rootfs(const InitPlan& plan) {
  // Paths inside the container's root by now: nothing outside it can be named.
  for (const auto& p : plan.readonly_remounts) {
    const unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(p.c_str());
    if (::mount(nullptr, p.c_str(), nullptr, flags, nullptr) != 0)
      die("remount read-only ", p.c_str());
  }
  for (const auto& s : plan.sysctls) write_file(s.path.c_str(), s.value, s.what.c_str());
  for (const auto& p : plan.readonly_paths) make_readonly(p);
  for (const auto& p : plan.masked_paths) mask(p);
  if (plan.readonly_root &&
      ::mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/"),
              nullptr) != 0) {
    die("remount rootfs read-only");
  }
}

}  // namespace hippo::os::init
