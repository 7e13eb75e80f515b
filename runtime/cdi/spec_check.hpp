#pragma once
// The meaning of a decoded CDI spec, checked as the reference does before any of its devices may
// be used (pkg/cdi/spec.go, device.go, container-edits.go): the version against the fields used,
// the kind, each device's name (unique, non-empty edits), and every edit (env "NAME=value", node
// types and permissions, hook names, mount paths, net devices). Errors name the field.

#include "base/error.hpp"
#include "runtime/cdi/qualified_name.hpp"
#include "runtime/cdi/spec_model.hpp"

namespace hippo::cdi {

// The spec's vendor and class on success.
Result<QualifiedName> check_spec(const Spec& spec);

}  // namespace hippo::cdi
