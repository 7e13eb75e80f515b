#include "runtime/linux/idmapped_mount.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace hippo::os {
namespace {

std::string map_text(const std::vector<spec::IdMapping>& maps) {
  std::string text;
  for (const auto& m : maps) {
    text += std::to_string(m.containerID) + " " + std::to_string(m.hostID) + " " +
            std::to_string(m.size) + "\n";
  }
  return text;
}

Result<void> write_file(const std::string& path, const std::string& text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return fail_errno("write " + path);
  }
  return {};
}

// A user namespace with these maps, held by an fd: a child is cloned into a new user namespace,
// its maps are written, its namespace opened, and the child ends.
Result<UniqueFd> user_namespace_with(const std::vector<spec::IdMapping>& uid_map,
                                     const std::vector<spec::IdMapping>& gid_map) {
  int hold[2];
  if (::pipe2(hold, O_CLOEXEC) != 0) return fail_errno("pipe");
  UniqueFd rd(hold[0]), wr(hold[1]);
  const long pid = ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, 0UL);
  if (pid < 0) return fail_errno("clone a user namespace for an idmapped mount");
  if (pid == 0) {
    ::close(wr.get());  // our copy, or the read below would never see the end
    char c;
    [[maybe_unused]] auto n = ::read(rd.get(), &c, 1);  // returns when the parent closes wr
    ::_exit(0);
  }
  rd.reset();
  auto reap = [&] {
    wr.reset();
    ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
  };
  const std::string base = "/proc/" + std::to_string(pid) + "/";
  Result<UniqueFd> out = fail("unreachable");
  if (auto ok = write_file(base + "uid_map", map_text(uid_map)); !ok) {
    out = std::unexpected(ok.error());
  } else if (auto ok2 = write_file(base + "gid_map", map_text(gid_map)); !ok2) {
    out = std::unexpected(ok2.error());
  } else {
    UniqueFd ns(::open((base + "ns/user").c_str(), O_RDONLY | O_CLOEXEC));
    out = ns ? Result<UniqueFd>(std::move(ns)) : fail_errno("open " + base + "ns/user");
  }
  reap();
  return out;
}

}  // namespace

Result<UniqueFd> make_idmapped_tree(const std::string& source, bool recursive,
                                    const std::vector<spec::IdMapping>& uid_map,
                                    const std::vector<spec::IdMapping>& gid_map,
                                    const std::string& what) {
  auto userns = user_namespace_with(uid_map, gid_map);
  if (!userns) return std::unexpected(userns.error().context(what));
  const unsigned rec = recursive ? AT_RECURSIVE : 0;
  UniqueFd tree(static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, source.c_str(),
                                           OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec)));
  if (!tree) return fail_errno(what + ": open_tree " + source);
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns->get());
  if (::syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH | rec, &attr, sizeof attr) != 0) {
    const int err = errno;
    return fail(what + ": idmapped mounts are not supported here for " + source +
                    " (mount_setattr MOUNT_ATTR_IDMAP: " + std::strerror(err) + ")",
                err);
  }
  return tree;
}

}  // namespace hippo::os
