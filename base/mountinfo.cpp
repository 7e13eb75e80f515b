#include "base/mountinfo.hpp"

#include <algorithm>

#include "base/file_io.hpp"

namespace hippo::os {
namespace {

bool is_octal(char c) { return c >= '0' && c <= '7'; }

}  // namespace

std::string unescape_mountinfo(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && is_octal(s[i + 1]) && is_octal(s[i + 2]) &&
        is_octal(s[i + 3])) {
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::string> mount_points(std::string_view mountinfo) {
  std::vector<std::string> out;
  for (const auto& line : split_lines(mountinfo)) {
    // mount-id parent-id major:minor root mount-point options ...
    std::string_view rest = line;
    for (int skip = 0; skip < 4; ++skip) {
      const auto space = rest.find(' ');
      if (space == std::string_view::npos) {
        rest = {};
        break;
      }
      rest.remove_prefix(space + 1);
    }
    // A line without a mount point is not the kernel's: skip it, as one with too few fields.
    const auto point = rest.substr(0, rest.find(' '));
    if (point.empty()) continue;
    out.push_back(unescape_mountinfo(point));
  }
  return out;
}

std::vector<MountEntry> mount_entries(std::string_view mountinfo) {
  std::vector<MountEntry> out;
  for (const auto& line : split_lines(mountinfo)) {
    // id parent major:minor root mount-point options [optional fields...] - fstype source super
    std::vector<std::string_view> fields;
    std::string_view rest = line;
    while (!rest.empty()) {
      const auto space = rest.find(' ');
      fields.push_back(rest.substr(0, space));
      if (space == std::string_view::npos) break;
      rest.remove_prefix(space + 1);
    }
    const auto dash = std::find(fields.begin() + std::min<size_t>(fields.size(), 6), fields.end(),
                                std::string_view("-"));
    if (fields.size() < 6 || dash == fields.end() || dash + 1 == fields.end()) continue;
    out.push_back({unescape_mountinfo(fields[3]), unescape_mountinfo(fields[4]),
                   unescape_mountinfo(*(dash + 1))});
  }
  return out;
}

std::string mount_point_holding(std::string_view path, std::string_view mountinfo) {
  std::string best = "/";
  for (const auto& point : mount_points(mountinfo)) {
    const bool holds = point == path || (path.starts_with(point) && path.size() > point.size() &&
                                         (point.back() == '/' || path[point.size()] == '/'));
    if (holds && point.size() > best.size()) best = point;
  }
  return best;
}

}  // namespace hippo::os
