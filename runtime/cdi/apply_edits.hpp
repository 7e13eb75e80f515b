#pragma once
// Applying CDI container edits to an OCI spec (hippo's spec::Spec), the way the reference's
// ContainerEdits.Apply does (pkg/cdi/container-edits.go):
//  - the edits of all requested devices are gathered first (per device: its spec's spec-level
//    edits, once per spec, then the device's own), then applied kind by kind;
//  - env: appended; a name already set (by the container or an earlier edit) takes the later
//    value in place;
//  - deviceNodes: completed from the host node (host_node.hpp); uid/gid default to
//    process.user's when those are non-zero; a node replaces the container's or an earlier
//    edit's node of the same path (the later edit wins). Each node that ends up in
//    linux.devices gets one linux.resources.devices allow rule (type b, or c for c and u;
//    permissions, "rwm" when empty, none for "none"); fifos get none;
//  - mounts: a mount replaces any mount of the same containerPath, then all mounts are ordered
//    parents first (stable, by path depth); under a user namespace bind mounts get "idmap"
//    ("ridmap" for rbind) unless they carry one;
//  - hooks: appended to the OCI list named by hookName;
//  - unlike the reference, an allow rule or a hook identical to one already in the spec is not
//    added again, so applying the same devices twice (an engine that injected them already and
//    kept the annotations, like containerd 1.7 with enable_cdi) gives the same spec;
//  - additionalGids: appended to process.user.additionalGids, skipping 0 and duplicates;
//  - intelRdt: the last one replaces linux.intelRdt; netDevices: linux.netDevices[host] = name.

#include <span>
#include <string>

#include "base/error.hpp"
#include "oci-spec/spec.hpp"
#include "runtime/cdi/spec_model.hpp"

namespace hippo::cdi {

struct EditSource {
  const ContainerEdits* edits = nullptr;
  std::string origin;  // for errors: `CDI device "vendor.com/gpu=0" (/etc/cdi/gpu.yaml)`
};

// Applies `sources` in order to `spec`. On error `spec` may be partly edited: callers apply to a
// copy (inject.hpp does).
Result<void> apply_edits(spec::Spec& spec, std::span<const EditSource> sources);

}  // namespace hippo::cdi
