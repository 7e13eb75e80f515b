#include "config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <sstream>

namespace hippo::runtime {
namespace {

std::string node_kind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "a scalar";
  }
}

std::string at_line(const YAML::Mark& mark) {
  return mark.line >= 0 ? " (line " + std::to_string(mark.line + 1) + ")" : "";
}

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
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return fail(where + ": invalid YAML" + at_line(e.mark) + ": " + e.msg);
  }
  Config config;
  if (root.IsNull()) return config;  // an empty file keeps every default
  if (!root.IsMap()) return fail(where + ": expected a mapping of keys at the top level");
  for (const auto& item : root) {
    const auto& key_node = item.first;
    const auto& value = item.second;
    if (!key_node.IsScalar()) return fail(where + ": keys must be plain names" + at_line(key_node.Mark()));
    const auto name = key_node.Scalar();
    auto key = std::ranges::find(kKeys, name, &Key::name);
    if (key == std::end(kKeys)) {
      return fail(where + ": unknown key \"" + name + "\"" + at_line(key_node.Mark()));
    }
    if (!value.IsScalar()) {
      return fail(where + ": " + name + ": expected a string, got " + node_kind(value) +
                  at_line(value.Mark()));
    }
    const auto text = value.Scalar();
    if (text.empty()) return fail(where + ": " + name + ": must not be empty" + at_line(value.Mark()));
    if (key->allowed.size() != 0 && std::ranges::find(key->allowed, text) == key->allowed.end()) {
      return fail(where + ": " + name + ": must be one of " + one_of(key->allowed) + ", got \"" +
                  text + "\"" + at_line(value.Mark()));
    }
    config.*(key->field) = text;
  }
  return config;
}

Result<Config> load_config(const std::optional<std::filesystem::path>& explicit_path) {
  std::filesystem::path path;
  bool must_exist = true;
  if (explicit_path && !explicit_path->empty()) {
    path = *explicit_path;
  } else if (const char* env = std::getenv("HIPPO_CONFIG"); env && *env) {
    path = env;
  } else {
    path = kDefaultConfigPath;
    must_exist = false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!must_exist && errno == ENOENT) return Config{};
    return fail_errno("config " + path.string());
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto config = parse_config(text.str(), path.string());
  if (config) config->source = path;
  return config;
}

}  // namespace hippo::runtime
