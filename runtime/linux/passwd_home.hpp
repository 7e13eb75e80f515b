#pragma once
// HOME for a process whose environment lacks one, as runc sets it: the home directory of the
// process user's entry in the container's /etc/passwd, else "/". Docker's spec env holds only
// PATH and HOSTNAME (and what `-e` adds), so every Docker container depends on this.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace hippo::os {

// The home field of the first passwd(5) line whose uid (or, as runc's user lookup also
// matches, whose name) is `uid`; "/" when no line matches.
std::string passwd_home(std::string_view passwd, uint32_t uid);

// Whether `env` already holds a HOME runc would keep (a non-empty value).
bool has_home(const std::vector<std::string>& env);

// Appends HOME=<home> to `env` unless has_home(env). `root` is the container's root directory
// as the host sees it (the bundle's rootfs before the clone, /proc/<init>/root for exec);
// etc/passwd is resolved inside it (its symlinks cannot reach out). A missing passwd gives "/";
// any other failure to read it is an error naming the file, as runc refuses it too.
Result<void> add_default_home(std::vector<std::string>& env, const std::string& root, uint32_t uid);

}  // namespace hippo::os
