#pragma once
// CDI injection in one step, for create: the devices an OCI spec's annotations request, resolved
// against the spec files of a list of directories and applied to the spec. Either every device
// is applied or the spec is left as it was and the error says why in one line, e.g.
//   annotation "cdi.k8s.io/gpu": unresolvable CDI device "example.com/gpu=7": no spec in
//   /etc/cdi, /var/run/cdi defines it
// See docs/devices.md.

#include <span>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "oci-spec/spec.hpp"
#include "runtime/cdi/annotations.hpp"
#include "runtime/cdi/registry.hpp"

namespace hippo::cdi {

// Applies the requested devices from `registry` to `spec` (see apply_edits.hpp for the order).
// On error `spec` is unchanged.
Result<void> inject_devices(spec::Spec& spec, const Registry& registry,
                            std::span<const DeviceRequest> requests);

// parse_annotations(spec.annotations), then load_registry(dirs) and inject_devices. Returns the
// qualified names applied (none, without touching a directory, when no annotation asks).
Result<std::vector<std::string>> inject_annotated_devices(
    spec::Spec& spec, const std::vector<std::string>& dirs = default_spec_dirs());

}  // namespace hippo::cdi
