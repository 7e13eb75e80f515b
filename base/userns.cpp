#include "base/userns.hpp"

#include <sstream>
#include <string>

#include "base/file_io.hpp"

namespace hippo::os {

bool is_initial_uid_map(std::string_view uid_map) {
  std::istringstream in{std::string(uid_map)};
  unsigned long long inside = 1, outside = 1, count = 0;
  if (!(in >> inside >> outside >> count)) return false;
  std::string more;
  return inside == 0 && outside == 0 && count == 4294967295ULL && !(in >> more);
}

bool running_in_user_namespace() {
  static const bool in_userns = [] {
    auto text = read_text_file("/proc/self/uid_map");
    return text && !is_initial_uid_map(*text);
  }();
  return in_userns;
}

}  // namespace hippo::os
