#include "runtime/cdi/versions.hpp"

#include <algorithm>
#include <array>

namespace hippo::cdi {
namespace {

constexpr std::array<std::string_view, 10> kVersions = {
    "0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0", "0.6.0", "0.7.0", "0.8.0", "1.0.0", "1.1.0"};

// Index in kVersions, or -1 for an unknown version.
int version_index(std::string_view v) {
  if (v.starts_with('v')) v.remove_prefix(1);
  auto it = std::ranges::find(kVersions, v);
  return it == kVersions.end() ? -1 : static_cast<int>(it - kVersions.begin());
}

// Keeps the highest requirement seen, and the first field that asked for it.
struct Tracker {
  std::optional<Requirement> best;
  void need(std::string_view version, const std::string& field) {
    if (!best || version_index(version) > version_index(best->version))
      best = Requirement{std::string(version), field};
  }
};

// The per-edits checks; the reference counts a field as used when it is non-empty (Go's zero
// values), except schemata, which counts when present at all.
void edits_requirements(const ContainerEdits& e, const std::string& at, Tracker& t) {
  if (e.netDevices && !e.netDevices->empty()) t.need("1.1.0", at + ".netDevices");
  if (e.intelRdt) {
    if (e.intelRdt->schemata) t.need("1.1.0", at + ".intelRdt.schemata");
    if (e.intelRdt->enableMonitoring.value_or(false))
      t.need("1.1.0", at + ".intelRdt.enableMonitoring");
    t.need("0.7.0", at + ".intelRdt");
  }
  if (e.additionalGids && !e.additionalGids->empty()) t.need("0.7.0", at + ".additionalGids");
  for (size_t i = 0; i < e.deviceNodes.size(); ++i) {
    if (!e.deviceNodes[i].hostPath.value_or("").empty())
      t.need("0.5.0", at + ".deviceNodes[" + std::to_string(i) + "].hostPath");
  }
  for (size_t i = 0; i < e.mounts.size(); ++i) {
    if (!e.mounts[i].type.value_or("").empty())
      t.need("0.4.0", at + ".mounts[" + std::to_string(i) + "].type");
  }
}

}  // namespace

std::span<const std::string_view> known_versions() { return kVersions; }
std::string_view current_version() { return kVersions.back(); }

std::optional<Requirement> minimum_requirement(const Spec& spec) {
  Tracker t;
  edits_requirements(spec.containerEdits, "containerEdits", t);
  if (!spec.annotations.empty()) t.need("0.6.0", "annotations");
  if (auto slash = spec.kind.find('/');
      slash != std::string::npos && spec.kind.find('.', slash) != std::string::npos)
    t.need("0.6.0", "kind (a '.' in the class)");
  for (size_t i = 0; i < spec.devices.size(); ++i) {
    const Device& d = spec.devices[i];
    const std::string at = "devices[" + std::to_string(i) + "]";
    edits_requirements(d.containerEdits, at + ".containerEdits", t);
    if (!d.annotations.empty()) t.need("0.6.0", at + ".annotations");
    if (!d.name.empty() && d.name.front() >= '0' && d.name.front() <= '9')
      t.need("0.5.0", at + ".name (starting with a digit)");
  }
  return t.best;
}

Result<void> check_version(const Spec& spec) {
  const int declared = version_index(spec.cdiVersion);
  if (declared < 0) {
    return fail(ErrorKind::invalid_argument,
                "cdiVersion \"" + spec.cdiVersion + "\" is not a known CDI spec version (" +
                    std::string(kVersions.front()) + " to " + std::string(kVersions.back()) + ")");
  }
  auto req = minimum_requirement(spec);
  if (req && version_index(req->version) > declared) {
    return fail(ErrorKind::invalid_argument, "cdiVersion \"" + spec.cdiVersion +
                                                 "\" does not have " + req->field + " (added in " +
                                                 req->version + ")");
  }
  return {};
}

}  // namespace hippo::cdi
