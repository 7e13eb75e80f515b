// Runs in the cloned child. Rules: no allocation, no locks, no exceptions, no logging library:
// raw system calls over the pre-built plan; a failed step reports {errno, what} to the parent and
// _exits. Fixed-size buffers live on the stack.

#include "runtime/linux/init_child.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string_view>

#include "runtime/linux/sync_protocol.hpp"
#include "base/syscalls.hpp"

namespace hippo::os {
namespace {

// Appends C strings into a fixed buffer, truncating; no allocation.
struct Text {
  char buf[PATH_MAX + 64];
  size_t len = 0;
  Text() { buf[0] = '\0'; }
  Text& add(const char* s) {
    if (s == nullptr) s = "(unknown error)";
    while (*s && len + 1 < sizeof buf) buf[len++] = *s++;
    buf[len] = '\0';
    return *this;
  }
  Text& add(unsigned long v) {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v && n < 24);
    while (n && len + 1 < sizeof buf) buf[len++] = digits[--n];
    buf[len] = '\0';
    return *this;
  }
};

int g_sync_fd = -1;
int g_fifo_fd = -1;    // once `start` opened the exec fifo, failures are told there
int g_trampoline_fd = -1;
pid_t g_host_pid = 0;  // from kGo: the pid the hooks' state shows

[[noreturn]] void die_with(int err, const char* what, const char* detail = "") {
  SyncMessage msg{};
  msg.type = SyncType::kError;
  msg.error = err;
  Text joined;
  joined.add(what).add(detail);
  size_t i = 0;
  for (; joined.buf[i] && i + 1 < sizeof msg.what; ++i) msg.what[i] = joined.buf[i];
  msg.what[i] = '\0';
  if (g_sync_fd >= 0) {
    [[maybe_unused]] auto n = ::send(g_sync_fd, &msg, sizeof msg, MSG_NOSIGNAL);
  } else if (g_fifo_fd >= 0) {
    Text t;
    t.add(what).add(detail);
    if (err) t.add(": ").add(strerrordesc_np(err));
    [[maybe_unused]] auto n = ::write(g_fifo_fd, t.buf, t.len);
  } else {
    // After kReady nobody listens on the socket: say it on stderr, like runc's init.
    Text t;
    t.add("hippo init: ").add(what).add(detail);
    if (err) t.add(": ").add(strerrordesc_np(err));
    t.add("\n");
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, t.buf, t.len);
  }
  ::_exit(1);
}

// errno is read before anything else runs in die().
[[noreturn]] void die(const char* what, const char* detail = "") { die_with(errno, what, detail); }
[[noreturn]] void die(const std::string& what, const char* detail = "") {
  die_with(errno, what.c_str(), detail);
}

void proc_fd_path(Text& t, int fd) { t.add("/proc/self/fd/").add(static_cast<unsigned long>(fd)); }

// Execs `argv` = [marker, program, program's argv...] through the sealed trampoline
// (exec_trampoline.hpp), never the program itself. Returns only on failure, with errno set.
void exec_through_trampoline(int trampoline_fd, char* const* argv, char* const* envp) {
  ::syscall(SYS_execveat, trampoline_fd, "", argv, envp, AT_EMPTY_PATH);
  // A seccomp profile may allow execve and not execveat: the same memfd through /proc.
  const int err = errno;
  Text path;
  proc_fd_path(path, trampoline_fd);
  ::execve(path.buf, argv, envp);
  errno = err;
}

// Opens `rel` (relative to the rootfs) with every symlink resolved inside the rootfs, so a
// malicious rootfs cannot make us mount or write outside it.
int open_in_root(int rootfd, const char* rel, int flags) {
  return sys::openat2(rootfd, rel, static_cast<unsigned long long>(flags) | O_CLOEXEC,
                      RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
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

void do_mount(int rootfd, const MountStep& m) {
  if (m.flags & MS_REMOUNT) {
    int fd = must_open_in_root(rootfd, m.target, m.what);
    Text p;
    proc_fd_path(p, fd);
    if (::mount(m.source.c_str(), p.buf, m.fstype.c_str(), m.flags, m.data.c_str()) != 0) die(m.what);
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
  if (m.attr_set || m.attr_clr) {
    mount_attr attr{};
    attr.attr_set = m.attr_set;
    attr.attr_clr = m.attr_clr;
    if (::syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) {
      die(m.what, " (mount_setattr)");
    }
  }
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
  const unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | locked_flags(path.c_str());
  if (::mount(nullptr, path.c_str(), nullptr, flags, nullptr) != 0) die("readonly path ", path.c_str());
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

void write_file(const char* path, const std::string& value, const char* what) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(what);
  if (::write(fd, value.data(), value.size()) != static_cast<ssize_t>(value.size())) die(what);
  ::close(fd);
}

void write_all(int fd, const char* s, size_t n, const char* what) {
  while (n) {
    const ssize_t w = ::write(fd, s, n);
    if (w <= 0) die(what);
    s += w;
    n -= static_cast<size_t>(w);
  }
}

// The state goes into a pipe before the fork (it fits: the state is far below a pipe's 64 KiB),
// so the hook may ignore its stdin without ever raising SIGPIPE here.
void run_hook(const HookRun& h, const std::string& head, const std::string& tail) {
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) die(h.what);
  Text pid;
  pid.add(static_cast<unsigned long>(g_host_pid));
  write_all(in[1], head.data(), head.size(), h.what.c_str());
  write_all(in[1], pid.buf, pid.len, h.what.c_str());
  write_all(in[1], tail.data(), tail.size(), h.what.c_str());
  ::close(in[1]);
  // The trampoline execs the hook, and its own exec succeeds: what the hook's execve would
  // fail with (a missing or non-executable file) is found here, in words.
  if (::access(h.path.c_str(), X_OK) != 0) die(h.what);
  // A failed execve sends its errno through exec_err; a successful one closes it (CLOEXEC).
  int exec_err[2];
  if (::pipe2(exec_err, O_CLOEXEC) != 0) die(h.what);
  const pid_t pid_of_hook = ::_Fork();
  if (pid_of_hook < 0) die(h.what, ": fork");
  if (pid_of_hook == 0) {
    ::dup2(in[0], STDIN_FILENO);
    exec_through_trampoline(g_trampoline_fd, h.exec_argv.data(), h.envp.data());
    const int err = errno;
    [[maybe_unused]] auto n = ::write(exec_err[1], &err, sizeof err);
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(exec_err[1]);
  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(exec_err[0], &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  ::close(exec_err[0]);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    ::waitpid(pid_of_hook, nullptr, 0);
    die_with(exec_errno, h.what.c_str());  // "…hook #0 (/x): No such file or directory"
  }
  const int pidfd = sys::pidfd_open(pid_of_hook);
  if (h.timeout_s > 0 && pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    int rc;
    do {
      rc = ::poll(&p, 1, h.timeout_s * 1000);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) {
      ::kill(pid_of_hook, SIGKILL);
      ::waitpid(pid_of_hook, nullptr, 0);
      die_with(ETIMEDOUT, h.what.c_str());
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  int status = 0;
  while (::waitpid(pid_of_hook, &status, 0) < 0) {
    if (errno != EINTR) die(h.what);
  }
  if (!WIFEXITED(status)) die_with(0, h.what.c_str(), ": killed by a signal");
  if (WEXITSTATUS(status) != 0) {
    Text t;
    t.add(": exit status ").add(static_cast<unsigned long>(WEXITSTATUS(status)));
    die_with(0, h.what.c_str(), t.buf);
  }
}

// Mounts are done and the host's root is still reachable: the parent runs prestart and
// createRuntime now, then init runs createContainer in the container's namespaces.
void run_creation_hooks(const InitPlan& plan) {
  if (plan.parent_hooks) {
    SyncMessage msg{};
    msg.type = SyncType::kHooks;
    if (::send(plan.sync_fd, &msg, sizeof msg, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof msg))
      ::_exit(1);
    if (::recv(plan.sync_fd, &msg, sizeof msg, 0) != static_cast<ssize_t>(sizeof msg) ||
        msg.type != SyncType::kGo) {
      ::_exit(1);  // the parent's hooks failed: it kills us anyway
    }
  }
  for (const auto& h : plan.create_container_hooks)
    run_hook(h, plan.state_creating_head, plan.state_tail);
}

void setup_rootfs(const InitPlan& plan) {
  if (::mount(nullptr, "/", nullptr, plan.root_propagation, nullptr) != 0) die("set propagation of /");
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
  for (const auto& s : plan.sysctls) write_file(s.path.c_str(), s.value, s.what.c_str());
  for (const auto& p : plan.readonly_paths) make_readonly(p);
  for (const auto& p : plan.masked_paths) mask(p);
  if (plan.readonly_root &&
      ::mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/"), nullptr) != 0) {
    die("remount rootfs read-only");
  }
}

// The pty comes from the container's own devpts instance (/dev/ptmx -> pts/ptmx), as in runc.
void setup_console(const InitPlan& plan) {
  int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) die("open /dev/ptmx");
  int unlock = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) != 0) die("unlock pty");
  unsigned int number = 0;
  if (::ioctl(master, TIOCGPTN, &number) != 0) die("get pty number");
  Text slave_path;
  slave_path.add("/dev/pts/").add(static_cast<unsigned long>(number));
  int slave = ::open(slave_path.buf, O_RDWR | O_NOCTTY);
  if (slave < 0) die("open ", slave_path.buf);
  if (plan.console_rows && plan.console_cols) {
    winsize ws{};
    ws.ws_row = plan.console_rows;
    ws.ws_col = plan.console_cols;
    ::ioctl(slave, TIOCSWINSZ, &ws);
  }
  if (::fchown(slave, plan.uid, static_cast<gid_t>(-1)) != 0) die("chown ", slave_path.buf);

  // SCM_RIGHTS with the pty's name as the payload, as runc's utils.SendFd does.
  static const char kName[] = "/dev/ptmx";
  if (sys::send_fd(plan.console_fd, master, kName, sizeof kName - 1) < 0) die("send pty master to the console socket");
  ::close(master);
  ::close(plan.console_fd);

  if (::setsid() < 0) die("setsid");
  if (::ioctl(slave, TIOCSCTTY, 0) != 0) die("set controlling terminal");
  for (int fd = 0; fd < 3; ++fd) {
    if (::dup2(slave, fd) < 0) die("dup pty to stdio");
  }
  if (slave > 2) ::close(slave);
}

// Go's exec.LookPath, as runc uses it: the first regular file that is executable; a candidate
// that exists but is not (a directory, or no x bit for this user) is "permission denied".
const char* find_executable(const InitPlan& plan) {
  bool not_executable = false;
  for (const auto& c : plan.exec_candidates) {
    struct stat st {};
    if (::stat(c.c_str(), &st) != 0) continue;
    if (S_ISREG(st.st_mode) && ::access(c.c_str(), X_OK) == 0) return c.c_str();
    not_executable = true;
  }
  if (not_executable) die_with(EACCES, plan.exec_not_executable.c_str());
  die_with(ENOENT, plan.exec_not_found.c_str());
}

// Closes every fd above stdio but the ones the protocol and the plan need: inherited copies of
// the parent's fds would otherwise live on in init (a state-dir flock held by init blocks every
// later command on the container until it execs).
void close_other_fds(int first, const InitPlan& plan) {
  // The fds to keep, sorted; -1 means none. At most 16 idmapped trees are kept.
  int keep[20] = {plan.sync_fd, plan.exec_fifo_fd, plan.console_fd, plan.trampoline_fd};
  int count = 4;
  for (const auto& m : plan.mounts) {
    if (m.tree_fd >= 0 && count < 20) keep[count++] = m.tree_fd;
  }
  for (int i = 0; i < count; ++i) {
    for (int j = i + 1; j < count; ++j) {
      if (keep[j] < keep[i]) {
        const int t = keep[i];
        keep[i] = keep[j];
        keep[j] = t;
      }
    }
  }
  unsigned next = static_cast<unsigned>(first);
  for (int k = 0; k < count; ++k) {
    const int fd = keep[k];
    if (fd < static_cast<int>(next)) continue;
    if (static_cast<unsigned>(fd) > next) sys::close_range(next, static_cast<unsigned>(fd) - 1, 0);
    next = static_cast<unsigned>(fd) + 1;
  }
  sys::close_range(next, ~0U, 0);
}

// Needs CAP_SETPCAP, so it runs before the uid change. EINVAL: a capability this kernel lacks.
void drop_bounding(const CapabilitySets& c) {
  for (int cap = 0; cap <= c.last_cap; ++cap) {
    if ((c.bounding >> cap & 1) == 0 && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 &&
        errno != EINVAL) {
      die("drop capability from the bounding set");
    }
  }
}

// After the uid change (PR_SET_KEEPCAPS kept the permitted set across it).
void set_capabilities(const CapabilitySets& c) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  data[0].effective = static_cast<uint32_t>(c.effective);
  data[1].effective = static_cast<uint32_t>(c.effective >> 32);
  data[0].permitted = static_cast<uint32_t>(c.permitted);
  data[1].permitted = static_cast<uint32_t>(c.permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(c.inheritable);
  data[1].inheritable = static_cast<uint32_t>(c.inheritable >> 32);
  if (::syscall(SYS_capset, &header, data) != 0) die("capset");
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    die("clear ambient capabilities");
  }
  for (int cap = 0; cap <= c.last_cap; ++cap) {
    if ((c.ambient >> cap & 1) && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
      die("raise ambient capability");
    }
  }
}

// The label the next execve gives this thread: /proc/thread-self/attr/<name>, or the
// process-wide file on kernels without thread-self (or without the LSM's own directory).
void set_exec_label(const char* name, const std::string& value, const char* what) {
  Text path;
  path.add("/proc/thread-self/attr/").add(name);
  int fd = ::open(path.buf, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fd = ::open("/proc/self/attr/exec", O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(what);
  if (::write(fd, value.data(), value.size()) != static_cast<ssize_t>(value.size())) die(what);
  ::close(fd);
}

// Returns the notify listener fd, or -1 when the filter has no SCMP_ACT_NOTIFY rule.
int load_seccomp(const SeccompProgram& p) {
  sock_fprog prog{static_cast<unsigned short>(p.filter.size()),
                  const_cast<sock_filter*>(p.filter.data())};
  const unsigned flags = p.flags | (p.listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0u);
  const long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) die("load the seccomp filter");
  return p.listener ? static_cast<int>(rc) : -1;
}

// kReady, with the seccomp listener attached (SCM_RIGHTS) when there is one.
bool send_ready(int sock, int listener) {
  SyncMessage msg{};
  msg.type = SyncType::kReady;
  const ssize_t sent = listener >= 0 ? sys::send_fd(sock, listener, &msg, sizeof msg)
                                     : ::send(sock, &msg, sizeof msg, MSG_NOSIGNAL);
  return sent == static_cast<ssize_t>(sizeof msg);
}

// setgroups, gid, uid; with capabilities to apply, the permitted set survives the uid change
// (keep-caps) and the five sets are set right after it.
void switch_user(const InitPlan& plan) {
  if (plan.caps.apply) drop_bounding(plan.caps);
  if (plan.caps.apply && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) die("set keep-caps");
  if (plan.set_groups &&
      ::setgroups(plan.additional_gids.size(), plan.additional_gids.data()) != 0) {
    die("setgroups");
  }
  if (::setresgid(plan.gid, plan.gid, plan.gid) != 0) die("setresgid");
  if (::setresuid(plan.uid, plan.uid, plan.uid) != 0) die("setresuid");
  if (plan.caps.apply) {
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) die("clear keep-caps");
    set_capabilities(plan.caps);
  }
}

}  // namespace

void run_init(const InitPlan& plan) {
  // Until execve this process is an image of hippo: not dumpable, so that nothing in the
  // container can open /proc/<pid>/exe (the host's hippo binary) or its memory. execve
  // makes the container's program dumpable again.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  g_sync_fd = plan.sync_fd;
  g_trampoline_fd = plan.trampoline_fd;
  for (int i = 0; i < 3; ++i) {
    if (plan.stdio_fds[i] >= 0 && ::dup2(plan.stdio_fds[i], i) < 0) die("set up stdio");
  }
  close_other_fds(3 + plan.preserve_fds, plan);
  for (int fd = 3; fd < 3 + plan.preserve_fds; ++fd) ::fcntl(fd, F_SETFD, 0);
  // The parent may block signals it forwards (hippo run); the container starts with none
  // blocked and default dispositions, whatever its creator had.
  sys::reset_signals();
  SyncMessage msg{};
  if (::recv(plan.sync_fd, &msg, sizeof msg, 0) != static_cast<ssize_t>(sizeof msg) ||
      msg.type != SyncType::kGo) {
    ::_exit(1);  // the parent went away or gave up on us
  }
  g_host_pid = msg.pid;
  ::umask(0);  // device and directory modes are exact; the process umask is set before exec

  // Open every namespace before joining any: once in another mount namespace, /proc/<pid>/ns
  // paths name something else (or nothing).
  int ns_fds[16];
  const size_t joins = plan.joins.size() < 16 ? plan.joins.size() : 16;
  for (size_t i = 0; i < joins; ++i) {
    ns_fds[i] = ::open(plan.joins[i].path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns_fds[i] < 0) die(plan.joins[i].what);
  }
  for (size_t i = 0; i < joins; ++i) {
    if (::setns(ns_fds[i], plan.joins[i].type) != 0) die(plan.joins[i].what);
    ::close(ns_fds[i]);
  }
  if (plan.clone_flags & CLONE_NEWUSER) {
    if (::setresgid(0, 0, 0) != 0) die("setresgid 0 in the user namespace");
    if (::setresuid(0, 0, 0) != 0) die("setresuid 0 in the user namespace");
  }
  if (plan.unshare_cgroup && ::unshare(CLONE_NEWCGROUP) != 0) die("unshare cgroup namespace");
  if (!plan.session_keyring.empty() &&
      ::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, plan.session_keyring.c_str()) < 0 &&
      errno != ENOSYS && errno != EACCES && errno != EPERM) {
    // Kernels or sandboxes without keyrings are tolerated, as runc does.
    die("join session keyring ", plan.session_keyring.c_str());
  }
  if (plan.hostname && ::sethostname(plan.hostname->data(), plan.hostname->size()) != 0) {
    die("sethostname");
  }
  if (plan.domainname && ::setdomainname(plan.domainname->data(), plan.domainname->size()) != 0) {
    die("setdomainname");
  }
  if (plan.setup_rootfs) setup_rootfs(plan);
  if (plan.terminal) setup_console(plan);
  finish_rootfs(plan);

  for (const auto& r : plan.rlimits) {
    if (::setrlimit(static_cast<__rlimit_resource>(r.resource), &r.value) != 0) die(r.what);
  }
  // These may need privileges (a real-time policy needs CAP_SYS_NICE): before the uid change.
  if (plan.scheduler && ::syscall(SYS_sched_setattr, 0, &*plan.scheduler, 0) != 0)
    die("sched_setattr");
  if (plan.io_priority &&
      ::syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, *plan.io_priority) != 0) {
    die("ioprio_set");
  }
  if (plan.personality && ::personality(*plan.personality) < 0) die("personality");
  if (plan.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("no_new_privs");
  if (!plan.apparmor_exec.empty())
    set_exec_label("apparmor/exec", plan.apparmor_exec, "set the AppArmor profile");
  if (!plan.selinux_exec.empty())
    set_exec_label("exec", plan.selinux_exec, "set the SELinux label");
  int listener = -1;
  if (plan.seccomp && !plan.no_new_privileges) listener = load_seccomp(*plan.seccomp);
  switch_user(plan);
  ::umask(plan.umask ? *plan.umask : 022);
  if (::chdir(plan.cwd.c_str()) != 0) die("chdir to cwd ", plan.cwd.c_str());
  const char* program = find_executable(plan);
  if (plan.seccomp && plan.no_new_privileges) listener = load_seccomp(*plan.seccomp);

  if (!send_ready(plan.sync_fd, listener)) ::_exit(1);
  if (listener >= 0) ::close(listener);  // the agent has it now; the container must not
  ::close(plan.sync_fd);
  g_sync_fd = -1;

  // A container's init blocks until `start` opens the fifo for reading (runc's exec fifo);
  // an exec'd process has no fifo and goes on at once.
  if (plan.exec_fifo_fd >= 0) {
    Text fifo;
    proc_fd_path(fifo, plan.exec_fifo_fd);
    int fd = ::open(fifo.buf, O_WRONLY | O_CLOEXEC);
    if (fd < 0) die("open exec fifo");
    g_fifo_fd = fd;
    for (const auto& h : plan.start_container_hooks)
      run_hook(h, plan.state_created_head, plan.state_tail);
    if (::write(fd, "0", 1) != 1) die("write exec fifo");
    g_fifo_fd = -1;
    ::close(fd);
    ::close(plan.exec_fifo_fd);
  }

  // Only this process's copy of the plan is written (the slot bind_views left for it).
  const_cast<char**>(plan.exec_argv.data())[1] = const_cast<char*>(program);
  exec_through_trampoline(plan.trampoline_fd, plan.exec_argv.data(), plan.envp.data());
  die("exec ", program);
}

}  // namespace hippo::os
