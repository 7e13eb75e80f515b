#pragma once
// Whether a container nests, and how (docs/nesting.md, sections 1 and 2): the annotation
// io.hippo.nesting over config.yaml's `nesting`, the variant its user namespace gives, and every
// refusal that config.json, config.yaml and the host's cgroup version decide. Pure: create calls
// it before it makes anything, so a refused container leaves nothing behind.

#include <optional>
#include <string_view>

#include "base/error.hpp"
#include "oci-spec/spec.hpp"
#include "runtime/config.hpp"
#include "runtime/state_store.hpp"

namespace hippo::runtime::native {

inline constexpr std::string_view kNestingAnnotation = "io.hippo.nesting";

// What resolve_nesting needs to know of the host besides config.yaml.
struct NestingHost {
  bool cgroup_v1 = false;  // v1 or hybrid: blkio throttling is not hierarchical there
  bool runc_backend = false;
};

// The annotation if set, else config.yaml's `nesting`. A value other than "true"/"false" is an
// invalid_argument error naming it.
Result<bool> nesting_requested(const spec::Spec& spec, const NestingConfig& config);

// nullopt: the container does not nest. Otherwise its variant and the host ids its root maps
// to; each refusal of section 2 is one invalid_argument line "invalid configuration: ...".
Result<std::optional<NestingState>> resolve_nesting(const spec::Spec& spec,
                                                    const NestingConfig& config,
                                                    const NestingHost& host);

// What update must refuse of a nesting container's new resources (also checked at create):
// on v1 (`cgroup_v1`), blkio throttle values, which would not bind its inner containers.
Result<void> check_nested_resources(const spec::Resources& resources, bool cgroup_v1);

}  // namespace hippo::runtime::native
