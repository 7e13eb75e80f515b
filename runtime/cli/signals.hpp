#pragma once
// Signal names as runc's kill takes them: "KILL", "SIGKILL" or "9"; "0" is the existence check.

#include <optional>
#include <string_view>

namespace hippo::cli {

std::optional<int> parse_signal(std::string_view name);

}  // namespace hippo::cli
