#pragma once
// config.json mount options -> mount(2) flags, propagation, mount_setattr(2) attributes and the
// filesystem's own data string, with runc's option names and meanings.

#include <cstdint>
#include <string>
#include <vector>

namespace hippo::os {

struct MountOptions {
  unsigned long flags = 0;        // MS_* to set
  unsigned long cleared = 0;      // MS_* an option asked to clear ("rw", "dev", "exec" …)
  unsigned long propagation = 0;  // MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, maybe |MS_REC
  uint64_t attr_set = 0;          // MOUNT_ATTR_* for the recursive "r*" options
  uint64_t attr_clr = 0;
  bool tmpcopyup = false;  // runc extension: copy the image's content into the tmpfs
  bool idmap = false;      // "idmap" / "ridmap"
  std::string data;        // everything else, comma-joined: "mode=755,size=65536k"

  bool bind() const;
  // Flags a bind mount cannot take in the bind call itself and needs a remount for.
  unsigned long remount_flags() const;
};

MountOptions parse_mount_options(const std::vector<std::string>& options);

}  // namespace hippo::os
