#include "runtime/cdi/spec_decode.hpp"

#include <charconv>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

namespace hippo::cdi {
namespace {

using Json = nlohmann::json;

Error bad(const std::string& at, std::string_view what) {
  return Error{0, at + ": " + std::string(what), ErrorKind::invalid_argument};
}

std::string field(const std::string& at, std::string_view key) {
  return at.empty() ? std::string(key) : at + "." + std::string(key);
}
std::string item(const std::string& at, size_t i) { return at + "[" + std::to_string(i) + "]"; }

// A JSON object whose keys are all in `known`; null reads as an empty object, as in the
// reference (Go decodes null into a zero value).
Result<void> check_object(const Json& j, const std::string& at,
                          std::span<const std::string_view> known) {
  if (!j.is_object())
    return std::unexpected(bad(at.empty() ? "the document" : at, "must be an object"));
  for (const auto& [key, value] : j.items()) {
    if (std::ranges::find(known, std::string_view(key)) == known.end())
      return std::unexpected(bad(field(at, key), "unknown field"));
  }
  return {};
}

const Json* member(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::string> as_string(const Json& j, const std::string& at) {
  if (!j.is_string()) return std::unexpected(bad(at, "must be a string"));
  return j.get<std::string>();
}

// An integer written as text: decimal, 0x hex, 0o octal, or a leading-0 octal (YAML 1.1, how
// file modes such as 0666 are usually written).
std::optional<int64_t> parse_integer(std::string_view s, bool& overflow) {
  overflow = false;
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X' || s[1] == 'o')) {
    base = s[1] == 'o' ? 8 : 16;
    s.remove_prefix(2);
  } else if (s.size() > 1 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (end != s.data() + s.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range || v > static_cast<uint64_t>(INT64_MAX)) {
    overflow = true;
    return std::nullopt;
  }
  if (ec != std::errc()) return std::nullopt;
  return negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
}

// A JSON number, or a string holding one: YAML scalars arrive as strings (yaml_json.hpp).
template <class Int>
Result<Int> as_int(const Json& j, const std::string& at) {
  int64_t v = 0;
  if (j.is_number_unsigned()) {
    if (j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      return std::unexpected(bad(at, "is out of range"));
    v = static_cast<int64_t>(j.get<uint64_t>());
  } else if (j.is_number_integer()) {
    v = j.get<int64_t>();
  } else if (j.is_string()) {
    bool overflow = false;
    auto parsed = parse_integer(j.get<std::string>(), overflow);
    if (!parsed)
      return std::unexpected(bad(at, overflow ? "is out of range" : "must be an integer"));
    v = *parsed;
  } else {
    return std::unexpected(bad(at, "must be an integer"));
  }
  if (v < static_cast<int64_t>(std::numeric_limits<Int>::min()) ||
      (v > 0 && static_cast<uint64_t>(v) > static_cast<uint64_t>(std::numeric_limits<Int>::max())))
    return std::unexpected(bad(at, "is out of range"));
  return static_cast<Int>(v);
}

Result<bool> as_bool(const Json& j, const std::string& at) {
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  return std::unexpected(bad(at, "must be true or false"));
}

// Reads an optional member into `out` with `read`; absent/null leaves it empty.
template <class T, class Read>
Result<void> opt(const Json& obj, const std::string& at, std::string_view key,
                 std::optional<T>& out, Read read) {
  const Json* j = member(obj, key);
  if (!j) return {};
  auto v = read(*j, field(at, key));
  if (!v) return std::unexpected(v.error());
  out = std::move(*v);
  return {};
}

template <class T, class Read>
Result<std::vector<T>> as_list(const Json& j, const std::string& at, Read read) {
  if (!j.is_array()) return std::unexpected(bad(at, "must be a list"));
  std::vector<T> out;
  for (size_t i = 0; i < j.size(); ++i) {
    auto v = read(j[i], item(at, i));
    if (!v) return std::unexpected(v.error());
    out.push_back(std::move(*v));
  }
  return out;
}

Result<std::vector<std::string>> as_strings(const Json& j, const std::string& at) {
  return as_list<std::string>(j, at, as_string);
}

Result<std::map<std::string, std::string>> as_string_map(const Json& j, const std::string& at) {
  if (!j.is_object()) return std::unexpected(bad(at, "must be a mapping of strings"));
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : j.items()) {
    auto v = as_string(value, field(at, key));
    if (!v) return std::unexpected(v.error());
    out[key] = std::move(*v);
  }
  return out;
}

// A required string member: missing is an error naming it.
Result<std::string> required_string(const Json& obj, const std::string& at, std::string_view key) {
  const Json* j = member(obj, key);
  if (!j) return std::unexpected(bad(field(at, key), "is required"));
  return as_string(*j, field(at, key));
}

#define HIPPO_TRY(expr)                                        \
  do {                                                         \
    if (auto hippo_try_ok = (expr); !hippo_try_ok)             \
      return std::unexpected(std::move(hippo_try_ok).error()); \
  } while (0)

constexpr std::string_view kNodeKeys[] = {"path",     "hostPath",    "type", "major", "minor",
                                          "fileMode", "permissions", "uid",  "gid"};
Result<DeviceNode> as_device_node(const Json& j, const std::string& at) {
  HIPPO_TRY(check_object(j, at, kNodeKeys));
  DeviceNode n;
  auto path = required_string(j, at, "path");
  if (!path) return std::unexpected(path.error());
  n.path = *path;
  HIPPO_TRY(opt(j, at, "hostPath", n.hostPath, as_string));
  HIPPO_TRY(opt(j, at, "type", n.type, as_string));
  HIPPO_TRY(opt(j, at, "major", n.major, as_int<int64_t>));
  HIPPO_TRY(opt(j, at, "minor", n.minor, as_int<int64_t>));
  HIPPO_TRY(opt(j, at, "fileMode", n.fileMode, as_int<uint32_t>));
  HIPPO_TRY(opt(j, at, "permissions", n.permissions, as_string));
  HIPPO_TRY(opt(j, at, "uid", n.uid, as_int<uint32_t>));
  HIPPO_TRY(opt(j, at, "gid", n.gid, as_int<uint32_t>));
  return n;
}

constexpr std::string_view kMountKeys[] = {"hostPath", "containerPath", "options", "type"};
Result<Mount> as_mount(const Json& j, const std::string& at) {
  HIPPO_TRY(check_object(j, at, kMountKeys));
  Mount m;
  auto host = required_string(j, at, "hostPath");
  if (!host) return std::unexpected(host.error());
  auto container = required_string(j, at, "containerPath");
  if (!container) return std::unexpected(container.error());
  m.hostPath = *host;
  m.containerPath = *container;
  HIPPO_TRY(opt(j, at, "options", m.options, as_strings));
  HIPPO_TRY(opt(j, at, "type", m.type, as_string));
  return m;
}

constexpr std::string_view kHookKeys[] = {"hookName", "path", "args", "env", "timeout"};
Result<Hook> as_hook(const Json& j, const std::string& at) {
  HIPPO_TRY(check_object(j, at, kHookKeys));
  Hook h;
  auto name = required_string(j, at, "hookName");
  if (!name) return std::unexpected(name.error());
  auto path = required_string(j, at, "path");
  if (!path) return std::unexpected(path.error());
  h.hookName = *name;
  h.path = *path;
  HIPPO_TRY(opt(j, at, "args", h.args, as_strings));
  HIPPO_TRY(opt(j, at, "env", h.env, as_strings));
  HIPPO_TRY(opt(j, at, "timeout", h.timeout, as_int<int64_t>));
  return h;
}

constexpr std::string_view kRdtKeys[] = {"closID", "l3CacheSchema", "memBwSchema", "schemata",
                                         "enableMonitoring"};
Result<IntelRdt> as_intel_rdt(const Json& j, const std::string& at) {
  HIPPO_TRY(check_object(j, at, kRdtKeys));
  IntelRdt r;
  HIPPO_TRY(opt(j, at, "closID", r.closID, as_string));
  HIPPO_TRY(opt(j, at, "l3CacheSchema", r.l3CacheSchema, as_string));
  HIPPO_TRY(opt(j, at, "memBwSchema", r.memBwSchema, as_string));
  HIPPO_TRY(opt(j, at, "schemata", r.schemata, as_strings));
  HIPPO_TRY(opt(j, at, "enableMonitoring", r.enableMonitoring, as_bool));
  return r;
}

constexpr std::string_view kNetKeys[] = {"hostInterfaceName", "name"};
Result<NetDevice> as_net_device(const Json& j, const std::string& at) {
  HIPPO_TRY(check_object(j, at, kNetKeys));
  auto host = required_string(j, at, "hostInterfaceName");
  if (!host) return std::unexpected(host.error());
  auto name = required_string(j, at, "name");
  if (!name) return std::unexpected(name.error());
  return NetDevice{*host, *name};
}

constexpr std::string_view kEditKeys[] = {"env",      "deviceNodes",    "mounts",    "hooks",
                                          "intelRdt", "additionalGids", "netDevices"};
Result<ContainerEdits> as_edits(const Json& j, const std::string& at) {
  HIPPO_TRY(check_object(j, at, kEditKeys));
  ContainerEdits e;
  std::optional<std::vector<std::string>> env;
  std::optional<std::vector<DeviceNode>> nodes;
  std::optional<std::vector<Mount>> mounts;
  std::optional<std::vector<Hook>> hooks;
  HIPPO_TRY(opt(j, at, "env", env, as_strings));
  HIPPO_TRY(opt(j, at, "deviceNodes", nodes, [](const Json& v, const std::string& w) {
    return as_list<DeviceNode>(v, w, as_device_node);
  }));
  HIPPO_TRY(opt(j, at, "mounts", mounts, [](const Json& v, const std::string& w) {
    return as_list<Mount>(v, w, as_mount);
  }));
  HIPPO_TRY(opt(j, at, "hooks", hooks,
                [](const Json& v, const std::string& w) { return as_list<Hook>(v, w, as_hook); }));
  HIPPO_TRY(opt(j, at, "intelRdt", e.intelRdt, as_intel_rdt));
  HIPPO_TRY(opt(j, at, "additionalGids", e.additionalGids, [](const Json& v, const std::string& w) {
    return as_list<uint32_t>(v, w, as_int<uint32_t>);
  }));
  HIPPO_TRY(opt(j, at, "netDevices", e.netDevices, [](const Json& v, const std::string& w) {
    return as_list<NetDevice>(v, w, as_net_device);
  }));
  e.env = env.value_or(std::vector<std::string>{});
  e.deviceNodes = nodes.value_or(std::vector<DeviceNode>{});
  e.mounts = mounts.value_or(std::vector<Mount>{});
  e.hooks = hooks.value_or(std::vector<Hook>{});
  return e;
}

constexpr std::string_view kDeviceKeys[] = {"name", "annotations", "containerEdits"};
Result<Device> as_device(const Json& j, const std::string& at) {
  HIPPO_TRY(check_object(j, at, kDeviceKeys));
  Device d;
  auto name = required_string(j, at, "name");
  if (!name) return std::unexpected(name.error());
  d.name = *name;
  std::optional<std::map<std::string, std::string>> annotations;
  std::optional<ContainerEdits> edits;
  HIPPO_TRY(opt(j, at, "annotations", annotations, as_string_map));
  HIPPO_TRY(opt(j, at, "containerEdits", edits, as_edits));
  if (annotations) d.annotations = std::move(*annotations);
  if (edits) d.containerEdits = std::move(*edits);
  return d;
}

constexpr std::string_view kSpecKeys[] = {"cdiVersion", "kind", "annotations", "devices",
                                          "containerEdits"};

}  // namespace

Result<Spec> decode_spec(const Json& doc) {
  const std::string at;
  HIPPO_TRY(check_object(doc, at, kSpecKeys));
  Spec s;
  auto version = required_string(doc, at, "cdiVersion");
  if (!version) return std::unexpected(version.error());
  auto kind = required_string(doc, at, "kind");
  if (!kind) return std::unexpected(kind.error());
  s.cdiVersion = *version;
  s.kind = *kind;
  std::optional<std::map<std::string, std::string>> annotations;
  std::optional<std::vector<Device>> devices;
  std::optional<ContainerEdits> edits;
  HIPPO_TRY(opt(doc, at, "annotations", annotations, as_string_map));
  HIPPO_TRY(opt(doc, at, "devices", devices, [](const Json& v, const std::string& w) {
    return as_list<Device>(v, w, as_device);
  }));
  HIPPO_TRY(opt(doc, at, "containerEdits", edits, as_edits));
  if (annotations) s.annotations = std::move(*annotations);
  if (devices) s.devices = std::move(*devices);
  if (edits) s.containerEdits = std::move(*edits);
  return s;
}

}  // namespace hippo::cdi
