#include "runtime/native/nesting.hpp"

#include <algorithm>
#include <string>

namespace hippo::runtime::native {
namespace {

std::unexpected<Error> refuse(const std::string& why) {
  return fail(ErrorKind::invalid_argument, "invalid configuration: nesting: " + why);
}

const spec::Namespace* find_namespace(const spec::Spec& spec, std::string_view type) {
  if (!spec.linux || !spec.linux->namespaces) return nullptr;
  for (const auto& ns : *spec.linux->namespaces) {
    if (ns.type == type) return &ns;
  }
  return nullptr;
}

// The host id container id 0 maps to, if a mapping covers it.
std::optional<uint32_t> host_id_of_root(const std::optional<std::vector<spec::IdMapping>>& maps) {
  if (!maps) return std::nullopt;
  for (const auto& m : *maps) {
    if (m.containerID == 0 && m.size > 0) return m.hostID;
  }
  return std::nullopt;
}

bool shared(std::string_view propagation) {
  return propagation == "shared" || propagation == "rshared";
}

// Mount propagation that would carry inner mounts to the host (and keep them after delete).
Result<void> check_propagation(const spec::Spec& spec) {
  if (spec.linux && spec.linux->rootfsPropagation && shared(*spec.linux->rootfsPropagation)) {
    return refuse("linux.rootfsPropagation \"" + *spec.linux->rootfsPropagation +
                  "\": inner mounts would reach the host and outlive the container");
  }
  if (!spec.mounts) return {};
  for (size_t i = 0; i < spec.mounts->size(); ++i) {
    const auto& m = (*spec.mounts)[i];
    if (!m.options) continue;
    for (const auto& o : *m.options) {
      if (shared(o)) {
        return refuse("mounts[" + std::to_string(i) + "] (" + m.destination + "): \"" + o +
                      "\": inner mounts would reach the host and outlive the container");
      }
    }
  }
  return {};
}

// v1 blkio throttling binds only the cgroup it is set on, not its descendants.
Result<void> check_v1_throttle(const spec::Spec& spec) {
  if (!spec.linux || !spec.linux->resources) return {};
  return check_nested_resources(*spec.linux->resources, true);
}

}  // namespace

Result<void> check_nested_resources(const spec::Resources& resources, bool cgroup_v1) {
  if (!cgroup_v1 || !resources.blockIO) return {};
  const auto& b = *resources.blockIO;
  const std::pair<const char*, const std::optional<std::vector<spec::ThrottleDevice>>*> fields[] = {
      {"throttleReadBpsDevice", &b.throttleReadBpsDevice},
      {"throttleWriteBpsDevice", &b.throttleWriteBpsDevice},
      {"throttleReadIOPSDevice", &b.throttleReadIOPSDevice},
      {"throttleWriteIOPSDevice", &b.throttleWriteIOPSDevice}};
  for (const auto& [name, field] : fields) {
    if (*field && !(*field)->empty()) {
      return refuse(std::string("linux.resources.blockIO.") + name +
                    ": cgroup v1 throttling is not hierarchical, inner containers would escape "
                    "it");
    }
  }
  return {};
}

Result<bool> nesting_requested(const spec::Spec& spec, const NestingConfig& config) {
  if (!spec.annotations) return config.enabled;
  const auto it = spec.annotations->find(std::string(kNestingAnnotation));
  if (it == spec.annotations->end()) return config.enabled;
  if (it->second == "true") return true;
  if (it->second == "false") return false;
  return fail(ErrorKind::invalid_argument,
              "invalid configuration: annotations: " + std::string(kNestingAnnotation) + ": \"" +
                  it->second + "\" is not true or false");
}

Result<std::optional<NestingState>> resolve_nesting(const spec::Spec& spec,
                                                    const NestingConfig& config,
                                                    const NestingHost& host) {
  auto wanted = nesting_requested(spec, config);
  if (!wanted) return std::unexpected(wanted.error());
  if (!*wanted) return std::optional<NestingState>();
  if (host.runc_backend) {
    return refuse(
        "needs the native backend: runc neither chowns cgroups for a user namespace "
        "nor moves init to a leaf cgroup");
  }
  NestingState out;
  if (const auto* user = find_namespace(spec, "user")) {
    if (user->path) {
      return refuse(
          "a user namespace joined by path: its root's host ids are not known at "
          "create (give the mappings in linux.uidMappings/gidMappings)");
    }
    const auto uid = host_id_of_root(spec.linux->uidMappings);
    const auto gid = host_id_of_root(spec.linux->gidMappings);
    if (!uid || !gid) {
      return refuse(std::string("the user namespace maps no container ") + (uid ? "gid" : "uid") +
                    " 0: cgroups are delegated to the container's root");
    }
    out.owner_uid = *uid;
    out.owner_gid = *gid;
  }
  // Root that is host root (no user namespace, or one mapping 0 to 0) holds host CAP_SYS_ADMIN.
  out.variant = out.owner_uid == 0 ? "privileged" : "userns";
  if (out.variant == "privileged" && !config.privileged_allowed) {
    const std::string file =
        config.source.empty() ? std::string(kDefaultConfigPath) : config.source;
    return refuse(
        "no user namespace mapping root to a non-zero host id makes the privileged "
        "variant (host CAP_SYS_ADMIN), allowed only with nesting_privileged: allow in " +
        file);
  }
  if (const auto* cgroup = find_namespace(spec, "cgroup"); cgroup && cgroup->path) {
    return refuse("linux.namespaces: a cgroup namespace joined by path (" + *cgroup->path +
                  "): the container must own one rooted at its cgroup");
  }
  if (auto ok = check_propagation(spec); !ok) return std::unexpected(ok.error());
  if (host.cgroup_v1) {
    if (auto ok = check_v1_throttle(spec); !ok) return std::unexpected(ok.error());
  }
  if (config.fuse) out.devices.emplace_back("fuse");
  if (config.tun) out.devices.emplace_back("tun");
  return std::optional<NestingState>(std::move(out));
}

}  // namespace hippo::runtime::native
