#include "base/mount_options.hpp"

#include <linux/mount.h>
#include <sys/mount.h>

#include <algorithm>
#include <string_view>

namespace hippo::os {
namespace {

#ifndef MS_NOSYMFOLLOW
constexpr unsigned long MS_NOSYMFOLLOW = 256;
#endif

struct Flag {
  std::string_view name;
  bool clear;
  unsigned long flag;
};

constexpr Flag kFlags[] = {
    {"acl", false, MS_POSIXACL},
    {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},
    {"defaults", false, 0},
    {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},
    {"iversion", false, MS_I_VERSION},
    {"lazytime", false, MS_LAZYTIME},
    {"loud", true, MS_SILENT},
    {"mand", false, MS_MANDLOCK},
    {"noacl", true, MS_POSIXACL},
    {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},
    {"noiversion", true, MS_I_VERSION},
    {"nolazytime", true, MS_LAZYTIME},
    {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"silent", false, MS_SILENT},
    {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},
    {"symfollow", true, MS_NOSYMFOLLOW},
    {"sync", false, MS_SYNCHRONOUS},
};

struct Propagation {
  std::string_view name;
  unsigned long flags;
};

constexpr Propagation kPropagations[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

struct Attr {
  std::string_view name;
  bool clear;
  uint64_t attr;
};

// Recursive variants applied with mount_setattr(AT_RECURSIVE), as runc 1.1 does.
constexpr Attr kAttrs[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},
    {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},
    {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},
    {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},
    {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rrelatime", false, MOUNT_ATTR_RELATIME},
    {"rnorelatime", true, MOUNT_ATTR_RELATIME},
    {"rnoatime", false, MOUNT_ATTR_NOATIME},
    {"ratime", true, MOUNT_ATTR_NOATIME},
    {"rstrictatime", false, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", true, MOUNT_ATTR_STRICTATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

}  // namespace

bool MountOptions::bind() const { return (flags & MS_BIND) != 0; }

unsigned long MountOptions::remount_flags() const {
  constexpr unsigned long kRemountable = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
                                         MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME |
                                         MS_NOSYMFOLLOW;
  return flags & kRemountable;
}

MountOptions parse_mount_options(const std::vector<std::string>& options) {
  MountOptions out;
  for (const auto& o : options) {
    if (auto f = std::ranges::find(kFlags, o, &Flag::name); f != std::end(kFlags)) {
      if (f->clear) {
        out.flags &= ~f->flag;
        out.cleared |= f->flag;
      } else {
        out.flags |= f->flag;
        out.cleared &= ~f->flag;
      }
    } else if (auto p = std::ranges::find(kPropagations, o, &Propagation::name);
               p != std::end(kPropagations)) {
      out.propagation = p->flags;
    } else if (auto a = std::ranges::find(kAttrs, o, &Attr::name); a != std::end(kAttrs)) {
      if (a->clear) {
        out.attr_clr |= a->attr;
        out.attr_set &= ~a->attr;
      } else {
        out.attr_set |= a->attr;
        out.attr_clr &= ~a->attr;
      }
    } else if (o == "tmpcopyup") {
      out.tmpcopyup = true;
    } else if (o == "idmap" || o == "ridmap") {
      out.idmap = true;
    } else {
      if (!out.data.empty()) out.data += ',';
      out.data += o;
    }
  }
  return out;
}

}  // namespace hippo::os
