// libFuzzer target for /proc/<pid>/mountinfo parsing (mount_points, mount_point_holding): the
// first line of the input is the path asked about, the rest the mountinfo text. Checks what the
// functions promise: unescaping never grows a field, and the holder of a path is "/" or one of
// the mount points, and is the path or a directory above it. Built and run by hack/fuzz.sh.

#include "base/mountinfo.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

namespace mi = hippo::os;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto nl = input.find('\n');
  const std::string_view path = input.substr(0, nl);
  const std::string_view info =
      nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);

  check(mi::unescape_mountinfo(input).size() <= input.size());
  const auto points = mi::mount_points(info);
  check(points.size() <= size_t(std::ranges::count(info, '\n')) + 1);

  const std::string holder = mi::mount_point_holding(path, info);
  check(holder == "/" || std::ranges::find(points, holder) != points.end());
  if (holder != "/" && holder != path) {
    check(path.starts_with(holder) && path.size() > holder.size());
    check(holder.back() == '/' || path[holder.size()] == '/');
  }
  return 0;
}
