#include "config.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "oci-spec/file_io.hpp"
#include "runtime/config_yaml.hpp"

namespace hippo::runtime {
namespace {

std::string kind_name(YamlEntry::Kind kind) {
  switch (kind) {
    case YamlEntry::Kind::null:
      return "null";
    case YamlEntry::Kind::list:
      return "a list";
    case YamlEntry::Kind::mapping:
      return "a mapping";
    default:
      return "a scalar";
  }
}

std::string at_line(int line) { return " (line " + std::to_string(line) + ")"; }

struct Key {
  std::string_view name;
  std::string Config::*field;
  std::initializer_list<std::string_view> allowed;  // empty: any non-empty string
};

const Key kKeys[] = {
    {"backend", &Config::backend, {"native", "runc"}},
    {"runc_binary", &Config::runc_binary, {}},
    {"runc_root", &Config::runc_root, {}},
    {"cgroup_driver", &Config::cgroup_driver, {"auto", "systemd", "cgroupfs"}},
    {"systemd_slice", &Config::systemd_slice, {}},
    {"state_root", &Config::state_root, {}},
    {"log_level", &Config::log_level, {"trace", "debug", "info", "warn", "error", "off"}},
    {"group_annotation", &Config::group_annotation, {}},
};

std::string one_of(std::initializer_list<std::string_view> allowed) {
  std::string out;
  for (auto a : allowed) out += (out.empty() ? "\"" : ", \"") + std::string(a) + "\"";
  return out;
}

}  // namespace

Result<Config> parse_config(std::string_view yaml_text, std::string_view label) {
  const std::string where(label);
  auto entries = parse_flat_yaml(yaml_text);
  if (!entries) return fail(where + ": " + entries.error().message);
  Config config;  // an empty file keeps every default
  for (const auto& e : *entries) {
    auto key = std::ranges::find(kKeys, e.key, &Key::name);
    if (key == std::end(kKeys)) return fail(where + ": unknown key \"" + e.key + "\"" + at_line(e.key_line));
    if (e.kind != YamlEntry::Kind::scalar) {
      return fail(where + ": " + e.key + ": expected a string, got " + kind_name(e.kind) + at_line(e.value_line));
    }
    if (e.value.empty()) return fail(where + ": " + e.key + ": must not be empty" + at_line(e.value_line));
    if (key->allowed.size() != 0 && std::ranges::find(key->allowed, e.value) == key->allowed.end()) {
      return fail(where + ": " + e.key + ": must be one of " + one_of(key->allowed) + ", got \"" + e.value +
                  "\"" + at_line(e.value_line));
    }
    config.*(key->field) = e.value;
  }
  return config;
}

Result<Config> load_config(const std::optional<std::string>& explicit_path) {
  std::string path;
  bool must_exist = true;
  if (explicit_path && !explicit_path->empty()) {
    path = *explicit_path;
  } else if (const char* env = std::getenv("HIPPO_CONFIG"); env && *env) {
    path = env;
  } else {
    path = kDefaultConfigPath;
    must_exist = false;
  }
  auto text = read_text_file(path);
  if (!text) {
    if (!must_exist && text.error().code == ENOENT) return Config{};
    return fail("config " + path + ": " + std::strerror(text.error().code));
  }
  auto config = parse_config(*text, path);
  if (config) config->source = path;
  return config;
}

}  // namespace hippo::runtime
