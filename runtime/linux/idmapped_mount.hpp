#pragma once
// Idmapped bind mounts (mounts[].uidMappings/gidMappings): the parent, as the host's root,
// clones the source into a detached mount (open_tree), gives it the mapping through a user
// namespace made for it (mount_setattr MOUNT_ATTR_IDMAP) and hands the detached tree to init,
// which moves it into place (move_mount). Inside a user namespace init could not idmap a host
// filesystem itself: that needs CAP_SYS_ADMIN over the filesystem's own user namespace.

#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "oci-spec/spec.hpp"

namespace hippo::os {

// A detached, idmapped copy of `source` (recursive when `recursive`).
Result<UniqueFd> make_idmapped_tree(const std::string& source, bool recursive,
                                    const std::vector<spec::IdMapping>& uid_map,
                                    const std::vector<spec::IdMapping>& gid_map,
                                    const std::string& what);

}  // namespace hippo::os
