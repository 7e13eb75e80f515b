#pragma once
// Whether hippo itself runs inside a user namespace (a nesting container's, or `unshare -U`).
// There mknod is refused, v1 devices.allow/deny need host CAP_SYS_ADMIN and a v2 device
// program may be refused: runc asks the same question (RunningInUserNS). docs/nesting.md 3.10.

#include <string_view>

namespace hippo::os {

// Whether a /proc/<pid>/uid_map text is the initial user namespace's: one line mapping every
// id to itself ("0 0 4294967295", however the columns are padded).
bool is_initial_uid_map(std::string_view uid_map);

// Whether this process is in a user namespace other than the initial one. Read once; an
// unreadable /proc/self/uid_map (a kernel without user namespaces) means no.
bool running_in_user_namespace();

}  // namespace hippo::os
