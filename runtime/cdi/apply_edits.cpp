#include "runtime/cdi/apply_edits.hpp"

#include <algorithm>

#include "runtime/cdi/host_node.hpp"

namespace hippo::cdi {
namespace {

std::string env_name(const std::string& entry) { return entry.substr(0, entry.find('=')); }

void apply_env(spec::Spec& spec, const std::vector<std::string>& env) {
  if (env.empty()) return;
  if (!spec.process) spec.process.emplace();
  auto& list = spec.process->env;
  if (!list) list.emplace();
  for (const auto& entry : env) {
    const std::string name = env_name(entry);
    auto it = std::ranges::find_if(*list, [&](const auto& e) { return env_name(e) == name; });
    if (it != list->end()) {
      *it = entry;
    } else {
      list->push_back(entry);
    }
  }
}

bool same_rule(const spec::DeviceRule& a, const spec::DeviceRule& b) {
  return a.allow == b.allow && a.type == b.type && a.major == b.major && a.minor == b.minor &&
         a.access == b.access;
}

bool same_hook(const spec::Hook& a, const spec::Hook& b) {
  return a.path == b.path && a.args == b.args && a.env == b.env && a.timeout == b.timeout;
}

struct PlannedNode {
  DeviceNode node;  // completed
  std::string origin;
};

Result<void> apply_nodes(spec::Spec& spec, std::vector<PlannedNode>& nodes) {
  if (nodes.empty()) return {};
  auto& linux = spec.linux ? *spec.linux : spec.linux.emplace();
  auto& devices = linux.devices ? *linux.devices : linux.devices.emplace();
  const spec::User user = spec.process ? spec.process->user : spec::User{};
  for (const auto& planned : nodes) {
    const DeviceNode& n = planned.node;
    spec::Device dev;
    dev.path = n.path;
    dev.type = n.type.value_or("");
    if (dev.type != "p") {
      dev.major = n.major.value_or(0);
      dev.minor = n.minor.value_or(0);
    }
    dev.fileMode = n.fileMode;
    dev.uid = n.uid ? n.uid : (user.uid > 0 ? std::optional(user.uid) : std::nullopt);
    dev.gid = n.gid ? n.gid : (user.gid > 0 ? std::optional(user.gid) : std::nullopt);
    auto it = std::ranges::find(devices, dev.path, &spec::Device::path);
    if (it != devices.end()) {
      *it = dev;
    } else {
      devices.push_back(dev);
    }
    const std::string perms = n.permissions.value_or("");
    if (dev.type == "p" || perms == "none") continue;
    auto& resources = linux.resources ? *linux.resources : linux.resources.emplace();
    auto& rules = resources.devices ? *resources.devices : resources.devices.emplace();
    spec::DeviceRule rule{true, dev.type == "b" ? "b" : "c", dev.major, dev.minor,
                          perms.empty() ? "rwm" : perms};
    // Applying the same edits twice (an engine that injected already) adds nothing.
    if (std::ranges::none_of(rules, [&](const spec::DeviceRule& r) { return same_rule(r, rule); }))
      rules.push_back(std::move(rule));
  }
  return {};
}

size_t depth(const std::string& path) {
  // Depth of the cleaned path: separators between non-empty components.
  size_t parts = 0;
  bool in_part = false;
  for (char c : path) {
    if (c == '/') {
      in_part = false;
    } else if (!in_part) {
      in_part = true;
      ++parts;
    }
  }
  return parts;
}

bool has_user_namespace(const spec::Spec& spec) {
  if (!spec.linux || !spec.linux->namespaces) return false;
  return std::ranges::any_of(*spec.linux->namespaces,
                             [](const auto& ns) { return ns.type == "user"; });
}

void apply_mount(spec::Spec& spec, const Mount& m) {
  auto& mounts = spec.mounts ? *spec.mounts : spec.mounts.emplace();
  std::erase_if(mounts, [&](const spec::Mount& x) { return x.destination == m.containerPath; });
  spec::Mount out;
  out.destination = m.containerPath;
  out.source = m.hostPath;
  if (m.type && !m.type->empty()) out.type = m.type;
  if (m.options) out.options = m.options;
  if (has_user_namespace(spec)) {
    // The bind mount shows host files with the container's ids (the reference adds the same).
    std::string option = out.type.value_or("") == "bind" ? "idmap" : "";
    bool has = false;
    for (const auto& o : out.options.value_or(spec::Strings{})) {
      if (o == "idmap" || o == "ridmap") has = true;
      if (o == "bind") option = "idmap";
      if (o == "rbind") option = "ridmap";
    }
    if (!has && !option.empty()) {
      if (!out.options) out.options.emplace();
      out.options->push_back(option);
    }
  }
  mounts.push_back(std::move(out));
}

Result<void> apply_hook(spec::Spec& spec, const Hook& h) {
  auto& hooks = spec.hooks ? *spec.hooks : spec.hooks.emplace();
  std::optional<std::vector<spec::Hook>>* list = nullptr;
  if (h.hookName == "prestart") list = &hooks.prestart;
  if (h.hookName == "createRuntime") list = &hooks.createRuntime;
  if (h.hookName == "createContainer") list = &hooks.createContainer;
  if (h.hookName == "startContainer") list = &hooks.startContainer;
  if (h.hookName == "poststart") list = &hooks.poststart;
  if (h.hookName == "poststop") list = &hooks.poststop;
  if (!list) return fail(ErrorKind::invalid_argument, "unknown hook name \"" + h.hookName + "\"");
  if (!*list) list->emplace();
  spec::Hook hook{h.path, h.args, h.env, h.timeout};
  // As for device rules: a hook already in the list is not added again.
  if (std::ranges::none_of(**list, [&](const spec::Hook& x) { return same_hook(x, hook); }))
    (*list)->push_back(std::move(hook));
  return {};
}

}  // namespace

Result<void> apply_edits(spec::Spec& spec, std::span<const EditSource> sources) {
  // Device nodes by container path, the later edit winning (see the header).
  std::vector<PlannedNode> nodes;
  for (const auto& src : sources) {
    for (const auto& node : src.edits->deviceNodes) {
      auto done = complete_node(node);
      if (!done) return forward(done, src.origin);
      std::erase_if(nodes, [&](const PlannedNode& p) { return p.node.path == done->path; });
      nodes.push_back({std::move(*done), src.origin});
    }
  }
  for (const auto& src : sources) apply_env(spec, src.edits->env);
  if (auto ok = apply_nodes(spec, nodes); !ok) return ok;
  for (const auto& src : sources) {
    if (!src.edits->netDevices) continue;
    auto& linux = spec.linux ? *spec.linux : spec.linux.emplace();
    auto& net = linux.netDevices ? *linux.netDevices : linux.netDevices.emplace();
    for (const auto& d : *src.edits->netDevices) net[d.hostInterfaceName] = spec::NetDevice{d.name};
  }
  bool mounted = false;
  for (const auto& src : sources) {
    for (const auto& m : src.edits->mounts) {
      apply_mount(spec, m);
      mounted = true;
    }
  }
  if (mounted) {
    std::ranges::stable_sort(*spec.mounts, {},
                             [](const spec::Mount& m) { return depth(m.destination); });
  }
  for (const auto& src : sources) {
    for (const auto& h : src.edits->hooks) {
      if (auto ok = apply_hook(spec, h); !ok) return forward(ok, src.origin);
    }
  }
  for (const auto& src : sources) {
    if (!src.edits->intelRdt) continue;
    const IntelRdt& r = *src.edits->intelRdt;
    // hippo's OCI model has no schemata/enableMonitoring (runtime-spec 1.2 fields it does not
    // implement): refusing is better than a container without the partitioning asked for.
    if (r.schemata || r.enableMonitoring.value_or(false)) {
      return fail(ErrorKind::unimplemented,
                  src.origin +
                      ": intelRdt.schemata and intelRdt.enableMonitoring are not "
                      "supported by hippo");
    }
    auto& linux = spec.linux ? *spec.linux : spec.linux.emplace();
    linux.intelRdt = spec::IntelRdt{r.closID, r.l3CacheSchema, r.memBwSchema, {}, {}};
  }
  for (const auto& src : sources) {
    if (!src.edits->additionalGids) continue;
    if (!spec.process) spec.process.emplace();
    auto& gids = spec.process->user.additionalGids;
    for (uint32_t gid : *src.edits->additionalGids) {
      if (gid == 0) continue;  // SPEC.md: a value of 0 is ignored
      if (!gids) gids.emplace();
      if (std::ranges::find(*gids, gid) == gids->end()) gids->push_back(gid);
    }
  }
  return {};
}

}  // namespace hippo::cdi
