#include "runtime/cdi/spec_check.hpp"

#include <algorithm>
#include <array>
#include <set>

#include "runtime/cdi/versions.hpp"

namespace hippo::cdi {
namespace {

constexpr std::array<std::string_view, 6> kHookNames = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};

std::unexpected<Error> bad(const std::string& at, const std::string& what) {
  return fail(ErrorKind::invalid_argument, at + ": " + what);
}

std::string item(const std::string& at, std::string_view list, size_t i) {
  return at + "." + std::string(list) + "[" + std::to_string(i) + "]";
}

Result<void> check_env(const std::vector<std::string>& env, const std::string& at) {
  for (size_t i = 0; i < env.size(); ++i) {
    // A name before '=' (the reference: IndexByte('=') > 0).
    const auto eq = env[i].find('=');
    if (eq == std::string::npos || eq == 0)
      return bad(at + "[" + std::to_string(i) + "]", "\"" + env[i] + "\" is not NAME=value");
  }
  return {};
}

Result<void> check_node(const DeviceNode& n, const std::string& at) {
  if (n.path.empty()) return bad(at + ".path", "must not be empty");
  const std::string type = n.type.value_or("");
  if (type != "" && type != "b" && type != "c" && type != "u" && type != "p")
    return bad(at + ".type", "\"" + type + "\" is not one of b, c, u, p");
  const std::string perms = n.permissions.value_or("");
  if (perms != "none" && perms.find_first_not_of("rwm") != std::string::npos)
    return bad(at + ".permissions", "\"" + perms + "\" is not made of r, w, m (or \"none\")");
  return {};
}

Result<void> check_edits(const ContainerEdits& e, const std::string& at) {
  if (auto ok = check_env(e.env, at + ".env"); !ok) return ok;
  for (size_t i = 0; i < e.deviceNodes.size(); ++i) {
    if (auto ok = check_node(e.deviceNodes[i], item(at, "deviceNodes", i)); !ok) return ok;
  }
  for (size_t i = 0; i < e.hooks.size(); ++i) {
    const Hook& h = e.hooks[i];
    const std::string where = item(at, "hooks", i);
    if (std::ranges::find(kHookNames, h.hookName) == kHookNames.end())
      return bad(where + ".hookName", "\"" + h.hookName + "\" is not an OCI hook name");
    if (h.path.empty()) return bad(where + ".path", "must not be empty");
    if (h.env) {
      if (auto ok = check_env(*h.env, where + ".env"); !ok) return ok;
    }
    // SPEC.md: "If set, timeout MUST be greater than zero".
    if (h.timeout && *h.timeout <= 0) return bad(where + ".timeout", "must be greater than zero");
  }
  for (size_t i = 0; i < e.mounts.size(); ++i) {
    const std::string where = item(at, "mounts", i);
    if (e.mounts[i].hostPath.empty()) return bad(where + ".hostPath", "must not be empty");
    if (e.mounts[i].containerPath.empty())
      return bad(where + ".containerPath", "must not be empty");
  }
  if (e.intelRdt && e.intelRdt->closID) {
    const std::string& c = *e.intelRdt->closID;
    // A resctrl group directory name (the reference's IntelRdt.Validate).
    if (c != "/" &&
        (c.size() >= 4096 || c == "." || c == ".." || c.find_first_of("/\n") != std::string::npos))
      return bad(at + ".intelRdt.closID", "\"" + c + "\" is not a valid resctrl group name");
  }
  if (e.netDevices) {
    std::set<std::string> hosts, names;
    for (size_t i = 0; i < e.netDevices->size(); ++i) {
      const NetDevice& d = (*e.netDevices)[i];
      const std::string where = item(at, "netDevices", i);
      if (d.hostInterfaceName.empty())
        return bad(where + ".hostInterfaceName", "must not be empty");
      if (d.name.empty()) return bad(where + ".name", "must not be empty");
      if (!hosts.insert(d.hostInterfaceName).second)
        return bad(where + ".hostInterfaceName", "\"" + d.hostInterfaceName + "\" is listed twice");
      if (!names.insert(d.name).second)
        return bad(where + ".name", "\"" + d.name + "\" is listed twice");
    }
  }
  return {};
}

}  // namespace

Result<QualifiedName> check_spec(const Spec& spec) {
  if (auto ok = check_version(spec); !ok) return std::unexpected(ok.error());
  auto kind = parse_kind(spec.kind);
  if (!kind) return bad("kind", kind.error().message);
  if (auto ok = check_edits(spec.containerEdits, "containerEdits"); !ok)
    return std::unexpected(ok.error());
  if (spec.devices.empty()) return bad("devices", "a spec must define at least one device");
  std::set<std::string> seen;
  for (size_t i = 0; i < spec.devices.size(); ++i) {
    const Device& d = spec.devices[i];
    const std::string at = "devices[" + std::to_string(i) + "]";
    if (auto ok = check_device_name(d.name); !ok) return bad(at + ".name", ok.error().message);
    if (!seen.insert(d.name).second)
      return bad(at + ".name", "device \"" + d.name + "\" is defined twice in this spec");
    if (d.containerEdits.empty())
      return bad(at + ".containerEdits", "device \"" + d.name + "\" has no container edits");
    if (auto ok = check_edits(d.containerEdits, at + ".containerEdits"); !ok)
      return std::unexpected(ok.error());
  }
  return kind;
}

}  // namespace hippo::cdi
