#include "runtime/cdi/annotations.hpp"

#include <algorithm>

#include "runtime/cdi/qualified_name.hpp"

namespace hippo::cdi {
namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// The name after "cdi.k8s.io/": a Kubernetes qualified-name part, which is also what the
// reference's AnnotationKey builds.
Result<void> check_key_name(std::string_view name) {
  if (name.empty()) return fail(ErrorKind::invalid_argument, "the name after the prefix is empty");
  if (name.size() > 63)
    return fail(ErrorKind::invalid_argument,
                "the name after the prefix is longer than 63 characters");
  if (!is_alnum(name.front()) || !is_alnum(name.back()))
    return fail(ErrorKind::invalid_argument,
                "the name after the prefix must start and end with a letter or digit");
  for (char c : name) {
    if (!is_alnum(c) && c != '_' && c != '-' && c != '.')
      return fail(ErrorKind::invalid_argument,
                  std::string("the name after the prefix has an invalid character '") + c + "'");
  }
  return {};
}

}  // namespace

Result<std::vector<DeviceRequest>> parse_annotations(
    const std::map<std::string, std::string>& annotations) {
  std::vector<DeviceRequest> out;
  for (const auto& [key, value] : annotations) {
    if (!key.starts_with(kAnnotationPrefix)) continue;
    const std::string where = "annotation \"" + key + "\": ";
    if (auto ok = check_key_name(std::string_view(key).substr(kAnnotationPrefix.size())); !ok)
      return fail(ErrorKind::invalid_argument, where + ok.error().message);
    size_t start = 0;
    while (true) {
      const size_t comma = value.find(',', start);
      const std::string name =
          value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (auto ok = parse_qualified_name(name); !ok)
        return fail(ErrorKind::invalid_argument, where + ok.error().message);
      if (std::ranges::find(out, name, &DeviceRequest::device) == out.end())
        out.push_back({name, key});
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

}  // namespace hippo::cdi
