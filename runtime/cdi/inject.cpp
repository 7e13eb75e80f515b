#include "runtime/cdi/inject.hpp"

#include <algorithm>

#include "runtime/cdi/apply_edits.hpp"

namespace hippo::cdi {
namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// Why `device` is not in the registry, as the end of one line.
std::string why_unresolvable(const Registry& registry, const std::string& device) {
  if (auto c = registry.conflicts.find(device); c != registry.conflicts.end())
    return "it is defined in more than one spec of the same directory (" + joined(c->second) + ")";
  std::string why =
      "no spec in " +
      (registry.dirs.empty() ? std::string("(no directory)") : joined(registry.dirs)) +
      " defines it";
  // A file that could not be read may be the one meant to define it: name those.
  std::vector<std::string> skipped;
  for (const auto& e : registry.errors) {
    if (e.skipped && std::ranges::find(skipped, e.path) == skipped.end()) skipped.push_back(e.path);
  }
  if (!skipped.empty()) why += " (spec files skipped for errors: " + joined(skipped) + ")";
  return why;
}

}  // namespace

Result<void> inject_devices(spec::Spec& spec, const Registry& registry,
                            std::span<const DeviceRequest> requests) {
  std::vector<EditSource> sources;
  std::vector<size_t> specs_done;
  for (const auto& req : requests) {
    auto it = registry.devices.find(req.device);
    if (it == registry.devices.end()) {
      return fail(ErrorKind::not_found, "annotation \"" + req.annotation +
                                            "\": unresolvable CDI device \"" + req.device +
                                            "\": " + why_unresolvable(registry, req.device));
    }
    const SpecFile& file = registry.specs[it->second.spec];
    // Spec-level edits once per spec, before the first of its devices (the reference's order).
    if (std::ranges::find(specs_done, it->second.spec) == specs_done.end()) {
      specs_done.push_back(it->second.spec);
      sources.push_back({&file.spec.containerEdits, "CDI spec " + file.path});
    }
    sources.push_back({&file.spec.devices[it->second.device].containerEdits,
                       "CDI device \"" + req.device + "\" (" + file.path + ")"});
  }
  spec::Spec edited = spec;
  if (auto ok = apply_edits(edited, sources); !ok) return ok;
  spec = std::move(edited);
  return {};
}

Result<std::vector<std::string>> inject_annotated_devices(spec::Spec& spec,
                                                          const std::vector<std::string>& dirs) {
  if (!spec.annotations) return std::vector<std::string>{};
  auto requests = parse_annotations(*spec.annotations);
  if (!requests) return std::unexpected(requests.error());
  std::vector<std::string> names;
  for (const auto& r : *requests) names.push_back(r.device);
  if (requests->empty()) return names;
  const Registry registry = load_registry(dirs);
  if (auto ok = inject_devices(spec, registry, *requests); !ok) return std::unexpected(ok.error());
  return names;
}

}  // namespace hippo::cdi
