#include "runtime/cgroups/systemd_properties.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>

#include "base/file_io.hpp"
#include "runtime/cgroups/devices.hpp"
#include "runtime/cgroups/resources.hpp"

namespace hippo::cgroups {
namespace {

constexpr std::string_view kPathField = "config.json: linux.cgroupsPath";
constexpr std::string_view kAnnotationPrefix = "org.systemd.property.";
constexpr uint64_t kDefaultPeriodUsec = 100000;  // the kernel's (and systemd's) CFS period

// The characters systemd allows in a unit name (unit_name_is_valid, without the instance '@').
bool valid_unit_chars(std::string_view s) {
  return !s.empty() && std::ranges::all_of(s, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
           c == '_' || c == '.' || c == '-' || c == '\\';
  });
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

uint64_t limit_value(int64_t v) { return v < 0 ? kInfinity : static_cast<uint64_t>(v); }

// unified values are numbers or "max".
Result<uint64_t> unified_value(const std::string& key, const std::string& value) {
  if (value == "max") return kInfinity;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size()) {
    return fail(ErrorKind::invalid_argument, "linux.resources.unified[" + quoted(key) +
                                                 "]: expected a number or \"max\", got " +
                                                 quoted(value));
  }
  return n;
}

void memory_properties(std::vector<Property>& out, const spec::Memory& m, UnitHierarchy h) {
  const int64_t limit = m.limit.value_or(0);
  if (h == UnitHierarchy::v1) {
    // v1 swap, reservation and swappiness have no systemd property; they go to the files.
    if (limit != 0) out.push_back({"MemoryLimit", limit_value(limit)});
    return;
  }
  if (limit != 0) out.push_back({"MemoryMax", limit_value(limit)});
  if (m.reservation.value_or(0) != 0) out.push_back({"MemoryLow", limit_value(*m.reservation)});
  if (m.swap.value_or(0) != 0) {
    if (auto swap = v2_swap_limit(*m.swap, limit); swap && *swap != 0) {
      out.push_back({"MemorySwapMax", limit_value(*swap)});
    }
  }
}

Result<void> cpu_properties(std::vector<Property>& out, const spec::Cpu& c,
                            const SystemdFeatures& f) {
  if (c.shares.value_or(0) != 0) {
    if (f.hierarchy == UnitHierarchy::v1) {
      // systemd refuses shares outside the kernel's range; the kernel would clamp them.
      out.push_back({"CPUShares", std::clamp<uint64_t>(*c.shares, 2, 262144)});
    } else {
      out.push_back({"CPUWeight", cpu_weight_from_shares(*c.shares)});
    }
  }
  const int64_t quota = c.quota.value_or(0);
  const uint64_t period = c.period.value_or(0);
  // CPUQuotaPeriodUSec appeared in systemd 242; before it the period stays the kernel's.
  if (period != 0 && f.version >= 242) out.push_back({"CPUQuotaPeriodUSec", period});
  if (quota != 0 || period != 0) {
    uint64_t per_sec = kInfinity;
    if (quota > 0) {
      const uint64_t p = period != 0 ? period : kDefaultPeriodUsec;
      // Rounded up: systemd derives the file's quota back from it (quota = per_sec * period / 1 s),
      // which must not end below what the spec asked for.
      per_sec = (static_cast<uint64_t>(quota) * 1000000 + p - 1) / p;
    }
    out.push_back({"CPUQuotaPerSecUSec", per_sec});
  }
  if (f.hierarchy == UnitHierarchy::v2 && f.version >= 244) {
    // v1 cpusets have no systemd property (systemd drives cpuset on v2 only): files then.
    if (c.cpus && !c.cpus->empty()) {
      auto mask = cpu_mask(*c.cpus, "linux.resources.cpu.cpus");
      if (!mask) return std::unexpected(mask.error());
      out.push_back({"AllowedCPUs", std::move(*mask)});
    }
    if (c.mems && !c.mems->empty()) {
      auto mask = cpu_mask(*c.mems, "linux.resources.cpu.mems");
      if (!mask) return std::unexpected(mask.error());
      out.push_back({"AllowedMemoryNodes", std::move(*mask)});
    }
  }
  return {};
}

// One device rule as systemd's DeviceAllow path, or "" when systemd cannot name it.
std::string device_allow_path(char type, int64_t major, int64_t minor, MajorName major_name) {
  const std::string kind = type == 'b' ? "block" : "char";
  if (major == kAnyDevice) return kind + "-*";
  if (minor == kAnyDevice) {
    // systemd names a whole major only through its /proc/devices name.
    const auto name = major_name ? major_name(type, major) : std::string();
    return name.empty() ? "" : kind + "-" + name;
  }
  return "/dev/" + kind + "/" + std::to_string(major) + ":" + std::to_string(minor);
}

// The rules (spec's, then runc's defaults, over a deny-all) as DevicePolicy + DeviceAllow.
// systemd expresses an allow list over "deny all" (strict) or "allow all" (auto); a deny
// between allows cannot be said to it and stays a file write on v1, as with runc.
Result<void> device_properties(std::vector<Property>& out,
                               const std::vector<spec::DeviceRule>& rules, MajorName major_name) {
  bool allow_all = false;
  std::vector<DeviceAllow> allowed;
  auto apply = [&](bool allow, char type, int64_t major, int64_t minor, std::string access) {
    if (type == 'a') {  // the kernel reads "a" as every device, whatever the numbers
      allow_all = allow;
      allowed.clear();
      return;
    }
    if (allow_all) return;
    const auto path = device_allow_path(type, major, minor, major_name);
    if (path.empty()) return;
    if (allow) {
      allowed.push_back({path, std::move(access)});
    } else {
      std::erase_if(allowed, [&](const DeviceAllow& d) { return d.path == path; });
    }
  };
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& r = rules[i];
    // The same checks as the file form, with the same messages.
    if (auto line = device_rule_line(r, "linux.resources.devices[" + std::to_string(i) + "]");
        !line) {
      return std::unexpected(line.error());
    }
    apply(r.allow, r.type.value_or("a")[0], r.major.value_or(kAnyDevice),
          r.minor.value_or(kAnyDevice), r.access.value_or(""));
  }
  for (const auto& d : default_devices()) {
    apply(true, d.type, d.major, d.minor, std::string(d.access));
  }
  out.push_back({"DevicePolicy", std::string(allow_all ? "auto" : "strict")});
  // systemd adds a non-empty DeviceAllow to the unit's list and empties it for an empty one:
  // emptied first, so that an update's list replaces what the start or an earlier update
  // allowed instead of adding to it (runc sends the same pair).
  if (!allowed.empty()) out.push_back({"DeviceAllow", std::vector<DeviceAllow>{}});
  out.push_back({"DeviceAllow", std::move(allowed)});
  return {};
}

Result<void> unified_properties(std::vector<Property>& out, const spec::StringMap& unified) {
  // The v2 files systemd rewrites from its own properties on every reload.
  static constexpr std::pair<std::string_view, std::string_view> kMap[] = {
      {"memory.min", "MemoryMin"},          {"memory.low", "MemoryLow"},
      {"memory.high", "MemoryHigh"},        {"memory.max", "MemoryMax"},
      {"memory.swap.max", "MemorySwapMax"}, {"pids.max", "TasksMax"},
      {"cpu.weight", "CPUWeight"},          {"io.weight", "IOWeight"},
  };
  for (const auto& [key, value] : unified) {
    auto it = std::ranges::find(kMap, key, &std::pair<std::string_view, std::string_view>::first);
    if (it == std::end(kMap)) continue;
    std::string text = value;
    if (key == "io.weight" && text.starts_with("default ")) text = text.substr(8);
    auto n = unified_value(key, text);
    if (!n) return std::unexpected(n.error());
    out.push_back({std::string(it->second), *n});
  }
  return {};
}

std::string trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

template <class T>
Result<T> parse_integer(std::string_view text, const std::string& at) {
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return fail(ErrorKind::invalid_argument, at + ": not a number in range: " + quoted(text));
  }
  return v;
}

// A decimal floating-point number, all of `text` (from_chars' general format). strtod, not
// std::from_chars: libstdc++'s floating from_chars links ~20 kB and libm into every binary.
std::optional<double> parse_double(const std::string& text) {
  if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text.front())) ||
                        text.front() == '-' || text.front() == '.' || text.front() == 'i' ||
                        text.front() == 'n' || text.front() == 'I' || text.front() == 'N')) {
    return std::nullopt;
  }
  if (text.find_first_of("xX") != std::string::npos) return std::nullopt;  // hexadecimal
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(text.c_str(), &end);
  if (errno == ERANGE || end != text.c_str() + text.size()) return std::nullopt;
  return d;
}

// A GVariant text value, for the types unit properties use.
Result<PropertyValue> parse_variant(std::string_view raw, const std::string& at) {
  const std::string text = trim_spaces(raw);
  if (text.size() >= 2 && (text.front() == '\'' || text.front() == '"') &&
      text.back() == text.front()) {
    return PropertyValue(text.substr(1, text.size() - 2));
  }
  if (text == "true") return PropertyValue(true);
  if (text == "false") return PropertyValue(false);
  static constexpr std::pair<std::string_view, char> kTypes[] = {
      {"uint64 ", 't'}, {"@t ", 't'},    {"int64 ", 'x'}, {"@x ", 'x'},     {"uint32 ", 'u'},
      {"@u ", 'u'},     {"int32 ", 'i'}, {"@i ", 'i'},    {"double ", 'd'}, {"@d ", 'd'}};
  char type = 0;
  std::string_view number = text;
  for (const auto& [prefix, t] : kTypes) {
    if (text.starts_with(prefix)) {
      type = t;
      number = std::string_view(text).substr(prefix.size());
      break;
    }
  }
  if (!type) type = text.find_first_of(".eE") != std::string::npos ? 'd' : 'i';
  const std::string n = trim_spaces(number);
  switch (type) {
    case 't': {
      auto v = parse_integer<uint64_t>(n, at);
      if (!v) return std::unexpected(v.error());
      return PropertyValue(*v);
    }
    case 'x': {
      auto v = parse_integer<int64_t>(n, at);
      if (!v) return std::unexpected(v.error());
      return PropertyValue(*v);
    }
    case 'u': {
      auto v = parse_integer<uint32_t>(n, at);
      if (!v) return std::unexpected(v.error());
      return PropertyValue(*v);
    }
    case 'i': {
      auto v = parse_integer<int32_t>(n, at);
      if (!v) {
        return fail(ErrorKind::invalid_argument,
                    at + ": cannot read " + quoted(text) +
                        " (use 'text', true/false, or a typed number like \"uint64 5\")");
      }
      return PropertyValue(*v);
    }
    default: {
      auto d = parse_double(n);
      if (!d) return fail(ErrorKind::invalid_argument, at + ": not a number: " + quoted(text));
      return PropertyValue(*d);
    }
  }
}

// A value in seconds ("5", "1.5", "uint64 5") as microseconds.
Result<uint64_t> seconds_to_usec(const PropertyValue& v, const std::string& at) {
  double seconds = -1;
  if (auto* u = std::get_if<uint64_t>(&v)) seconds = static_cast<double>(*u);
  if (auto* x = std::get_if<int64_t>(&v)) seconds = static_cast<double>(*x);
  if (auto* u32 = std::get_if<uint32_t>(&v)) seconds = *u32;
  if (auto* i = std::get_if<int32_t>(&v)) seconds = *i;
  if (auto* d = std::get_if<double>(&v)) seconds = *d;
  if (seconds < 0 || !std::isfinite(seconds) || seconds > 1.8e13) {
    return fail(ErrorKind::invalid_argument, at + ": expected a non-negative number of seconds");
  }
  // Rounded half up by hand: std::llround is libm's, and nothing else links libm.
  return static_cast<uint64_t>(seconds * 1e6 + 0.5);
}

}  // namespace

Result<std::string> expand_slice(std::string_view slice) {
  const auto bad = [&](std::string_view why) {
    return fail(ErrorKind::invalid_argument, std::string(kPathField) + ": invalid systemd slice " +
                                                 quoted(slice) + ": " + std::string(why));
  };
  if (slice == "-.slice") return std::string("/");
  if (!slice.ends_with(".slice")) return bad("a slice name ends in \".slice\"");
  const auto name = slice.substr(0, slice.size() - 6);
  if (!valid_unit_chars(name)) return bad("allowed are letters, digits and \":_.\\-\"");
  if (name.front() == '-' || name.back() == '-' || name.find("--") != std::string_view::npos) {
    return bad("dashes separate nesting levels: none first, last or doubled");
  }
  std::string path;
  for (size_t dash = name.find('-'); dash != std::string_view::npos;
       dash = name.find('-', dash + 1)) {
    path += "/" + std::string(name.substr(0, dash)) + ".slice";
  }
  return path + "/" + std::string(slice);
}

Result<ScopeName> parse_scope_name(std::string_view cgroups_path, std::string_view id,
                                   std::string_view default_slice) {
  std::string slice, prefix, name;
  if (cgroups_path.empty()) {
    slice = default_slice;
    prefix = "hippo";
    name = id;
  } else {
    const auto first = cgroups_path.find(':');
    const auto second = first == std::string_view::npos ? first : cgroups_path.find(':', first + 1);
    if (second == std::string_view::npos ||
        cgroups_path.find(':', second + 1) != std::string_view::npos) {
      return fail(ErrorKind::invalid_argument,
                  std::string(kPathField) + ": " + quoted(cgroups_path) +
                      " is not of the form \"slice:prefix:name\" that the systemd cgroup driver "
                      "takes (e.g. \"system.slice:hippo:c1\")");
    }
    slice = cgroups_path.substr(0, first);
    prefix = cgroups_path.substr(first + 1, second - first - 1);
    name = cgroups_path.substr(second + 1);
    if (slice.empty()) slice = default_slice;
  }
  if (name.empty() || !valid_unit_chars(name) || (!prefix.empty() && !valid_unit_chars(prefix))) {
    return fail(ErrorKind::invalid_argument,
                std::string(kPathField) + ": " + quoted(cgroups_path) +
                    ": the prefix and name of a systemd scope may hold letters, digits and "
                    "\":_.\\-\", and the name must not be empty");
  }
  if (name.ends_with(".slice")) {
    return fail(std::string(kPathField) + ": " + quoted(cgroups_path) +
                    ": a container runs in a scope; a slice as its name is not supported",
                EINVAL);
  }
  ScopeName out;
  out.slice = slice;
  out.unit = prefix.empty() ? name + ".scope" : prefix + "-" + name + ".scope";
  if (out.unit.size() > 255) {
    return fail(ErrorKind::invalid_argument, std::string(kPathField) + ": unit name " +
                                                 quoted(out.unit) +
                                                 " is longer than systemd's 255 characters");
  }
  auto dir = expand_slice(slice);
  if (!dir) return std::unexpected(dir.error());
  out.cgroup = (*dir == "/" ? "" : *dir) + "/" + out.unit;
  return out;
}

std::string_view signature_of(const PropertyValue& value) {
  static constexpr std::string_view kSignatures[] = {"b", "t", "x",  "u",  "i",
                                                     "d", "s", "au", "ay", "a(ss)"};
  return kSignatures[value.index()];
}

Result<std::vector<uint8_t>> cpu_mask(std::string_view list, std::string_view at) {
  std::vector<uint8_t> mask;
  auto set = [&](unsigned bit) {
    if (mask.size() <= bit / 8) mask.resize(bit / 8 + 1, 0);
    mask[bit / 8] = static_cast<uint8_t>(mask[bit / 8] | (1u << (bit % 8)));
  };
  std::string_view rest = list;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto item = trim_spaces(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const auto dash = item.find('-');
    auto first = parse_integer<unsigned>(item.substr(0, dash), std::string(at));
    auto last = dash == std::string::npos
                    ? first
                    : parse_integer<unsigned>(item.substr(dash + 1), std::string(at));
    if (!first || !last || *last < *first || *last > 8191) {
      return fail(ErrorKind::invalid_argument,
                  std::string(at) + ": invalid CPU list " + quoted(list));
    }
    for (unsigned b = *first; b <= *last; ++b) set(b);
  }
  return mask;
}

Result<std::vector<Property>> resource_properties(const spec::Resources& r,
                                                  const SystemdFeatures& f, bool for_create,
                                                  MajorName major_name) {
  std::vector<Property> out;
  if (for_create) {
    // Accounting on, so that systemd keeps every controller the resources need on the unit.
    out.push_back({"MemoryAccounting", true});
    out.push_back({"CPUAccounting", true});
    out.push_back({"TasksAccounting", true});
    out.push_back({f.hierarchy == UnitHierarchy::v1 ? "BlockIOAccounting" : "IOAccounting", true});
  }
  if (r.memory) memory_properties(out, *r.memory, f.hierarchy);
  if (r.cpu) {
    if (auto ok = cpu_properties(out, *r.cpu, f); !ok) return std::unexpected(ok.error());
  }
  if (r.blockIO && r.blockIO->weight.value_or(0) != 0) {
    if (f.hierarchy == UnitHierarchy::v1) {
      out.push_back({"BlockIOWeight", static_cast<uint64_t>(*r.blockIO->weight)});
    } else {
      out.push_back({"IOWeight", io_weight_from_blkio(*r.blockIO->weight)});
    }
  }
  // No limit in the spec means none, as with cgroupfs; without it systemd would apply its
  // DefaultTasksMax to the scope.
  if (r.pids && r.pids->limit != 0) {
    out.push_back({"TasksMax", limit_value(r.pids->limit)});
  } else if (for_create) {
    out.push_back({"TasksMax", kInfinity});
  }
  if (r.devices || for_create) {
    static const std::vector<spec::DeviceRule> kNone;
    if (auto ok = device_properties(out, r.devices ? *r.devices : kNone, major_name); !ok) {
      return std::unexpected(ok.error());
    }
  }
  if (f.hierarchy == UnitHierarchy::v2 && r.unified) {
    if (auto ok = unified_properties(out, *r.unified); !ok) return std::unexpected(ok.error());
  }
  return out;
}

Result<std::vector<Property>> annotation_properties(const spec::StringMap& annotations) {
  std::vector<Property> out;
  for (const auto& [key, value] : annotations) {
    if (!key.starts_with(kAnnotationPrefix)) continue;
    const std::string at = "config.json: annotations[" + quoted(key) + "]";
    std::string name = key.substr(kAnnotationPrefix.size());
    const bool valid =
        !name.empty() && name[0] >= 'A' && name[0] <= 'Z' && std::ranges::all_of(name, [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        });
    if (!valid) {
      return fail(ErrorKind::invalid_argument,
                  at + ": not a systemd property name (a capital letter, then letters and digits)");
    }
    auto parsed = parse_variant(value, at);
    if (!parsed) return std::unexpected(parsed.error());
    if (name.ends_with("Sec") && !name.ends_with("USec")) {
      auto usec = seconds_to_usec(*parsed, at);
      if (!usec) return std::unexpected(usec.error());
      name = name.substr(0, name.size() - 3) + "USec";
      out.push_back({name, *usec});
      continue;
    }
    out.push_back({name, std::move(*parsed)});
  }
  return out;
}

std::string proc_devices_name(char type, int64_t major) {
  auto text = read_text_file("/proc/devices");
  if (!text) return "";
  const std::string_view section = type == 'b' ? "Block devices:" : "Character devices:";
  bool inside = false;
  for (const auto& line : split_lines(*text)) {
    if (line.empty()) {
      inside = false;
      continue;
    }
    if (line.ends_with(':')) {
      inside = line == section;
      continue;
    }
    if (!inside) continue;
    // "%3d %s": a right-aligned number, a space, the name.
    std::string_view rest = line;
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const auto space = rest.find(' ');
    if (space == std::string_view::npos) continue;
    int64_t number = -1;
    if (std::from_chars(rest.data(), rest.data() + space, number).ec != std::errc{}) continue;
    if (number == major) return std::string(rest.substr(space + 1));
  }
  return "";
}

}  // namespace hippo::cgroups
