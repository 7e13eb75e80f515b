#pragma once
// The CDI spec versions hippo reads and the rule that decides the minimum version a spec file
// needs (cncf-tags/container-device-interface specs-go/version.go, SPEC.md "Released versions").

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "runtime/cdi/spec_model.hpp"

namespace hippo::cdi {

// Oldest first: "0.1.0" ... "1.1.0". A spec's cdiVersion must be one of these (a leading "v"
// is allowed); 1.1.0 is the current version.
std::span<const std::string_view> known_versions();
std::string_view current_version();

// The field that makes a spec need a version newer than 0.3.0 (the earliest the checks know),
// e.g. {"0.7.0", "devices[1].containerEdits.additionalGids"}; nullopt when 0.3.0 is enough.
struct Requirement {
  std::string version;
  std::string field;
};
std::optional<Requirement> minimum_requirement(const Spec& spec);

// cdiVersion is known and not older than what the spec's fields need. Errors name the field:
// `cdiVersion "0.6.0" does not have devices[0].containerEdits.additionalGids (added in 0.7.0)`.
Result<void> check_version(const Spec& spec);

}  // namespace hippo::cdi
