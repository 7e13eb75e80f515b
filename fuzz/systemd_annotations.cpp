// libFuzzer target for the systemd driver's text parsers: org.systemd.property.* annotations
// (GVariant text values, "...Sec" names taken as seconds), and on the side the cpuset list and
// the "slice:prefix:name" cgroupsPath. Input: one annotation per line, "Name=value" for
// org.systemd.property.Name, or "!key=value" for a key as written; the first line is also
// the cpuset list and the cgroupsPath. Built and run by hack/fuzz.sh.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/cgroups/systemd_properties.hpp"

namespace {

namespace cg = hippo::cgroups;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  hippo::spec::StringMap annotations;
  std::string_view first;
  for (size_t pos = 0; pos <= input.size();) {
    const auto end = std::min(input.find('\n', pos), input.size());
    std::string_view line = input.substr(pos, end - pos);
    if (pos == 0) first = line;
    pos = end + 1;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key = line.starts_with('!')
                          ? std::string(line.substr(1, eq - 1))
                          : "org.systemd.property." + std::string(line.substr(0, eq));
    annotations[key] = std::string(line.substr(eq + 1));
  }

  if (auto props = cg::annotation_properties(annotations)) {
    check(props->size() <= annotations.size());
    for (const auto& p : *props) {
      check(!p.name.empty() && !(p.name.ends_with("Sec") && !p.name.ends_with("USec")));
      check(!cg::signature_of(p.value).empty());
    }
  } else {
    check(props.error().message.starts_with("config.json: annotations[\""));
  }

  if (auto mask = cg::cpu_mask(first, "linux.resources.cpu.cpus")) {
    check(mask->empty() || mask->back() != 0);
  }
  if (auto scope = cg::parse_scope_name(first, "c1", "system.slice")) {
    check(scope->unit.ends_with(".scope") && scope->cgroup.starts_with('/'));
  }
  return 0;
}
