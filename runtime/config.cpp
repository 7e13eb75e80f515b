#include "runtime/config.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <span>
#include <sstream>

#include "base/file_io.hpp"

namespace hippo::runtime {
namespace {

// One key of a section of config.yaml: the Config field it sets and its choices.
struct Key {
  std::string_view name;
  std::string Config::*field;
  std::initializer_list<std::string_view> allowed;  // empty: any non-empty string
  unsigned max_number = 0;     // non-zero: the value is a decimal number from 1 to this
  std::string_view unit = "";  // of that number, for errors ("seconds")
};

// The top-level section. A nested section (say `cdi:`) gets a table of its own, read by
// read_section with the section's name as prefix, so that errors name `cdi.key`.
const Key kTopLevel[] = {
    {"backend", &Config::backend, {"native", "runc"}},
    {"runc_binary", &Config::runc_binary, {}},
    {"runc_root", &Config::runc_root, {}},
    {"cgroup_driver", &Config::cgroup_driver, {"auto", "systemd", "cgroupfs"}},
    {"systemd_slice", &Config::systemd_slice, {}},
    {"state_root", &Config::state_root, {}},
    {"log_level", &Config::log_level, {"trace", "debug", "info", "warn", "error", "off"}},
    {"group_annotation", &Config::group_annotation, {}},
    {"grouping", &Config::grouping, {"pod", "node"}},
    {"node_idle_exit", &Config::node_idle_exit, {}, 86400, "seconds"},
    {"node_restarts", &Config::node_restarts, {}, 1000, "restarts"},
    {"nesting", &Config::nesting, {"true", "false"}},
    {"nesting_privileged", &Config::nesting_privileged, {"refuse", "allow"}},
    {"nesting_devices", &Config::nesting_devices, {"none", "fuse", "tun", "fuse,tun"}},
};

// Keys whose value is a list of absolute paths.
struct PathListKey {
  std::string_view name;
  std::vector<std::string> Config::*field;
};
const PathListKey kTopLevelPathLists[] = {
    {"cdi_spec_dirs", &Config::cdi_spec_dirs},
};

// yaml-cpp's Mark counts lines from 0; users count from 1.
std::string at_line(const YAML::Mark& mark) {
  return mark.is_null() ? std::string() : " (line " + std::to_string(mark.line + 1) + ")";
}

std::string kind_name(const YAML::Node& node) {
  switch (node.Type()) {
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

std::string one_of(std::initializer_list<std::string_view> allowed) {
  std::string out;
  for (auto a : allowed) out += (out.empty() ? "\"" : ", \"") + std::string(a) + "\"";
  return out;
}

// yaml-cpp 0.7 takes a quoted scalar that the end of the text cuts off (`"runc` reads as
// "runc "): the closing quote must be there.
bool quote_closed(std::string_view text, const YAML::Mark& mark) {
  if (mark.pos < 0 || static_cast<size_t>(mark.pos) >= text.size()) return true;
  const char quote = text[static_cast<size_t>(mark.pos)];
  if (quote != '"' && quote != '\'') return true;
  for (size_t i = static_cast<size_t>(mark.pos) + 1; i < text.size(); ++i) {
    if (quote == '"' && text[i] == '\\') {
      ++i;
    } else if (text[i] == quote) {
      if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
        ++i;  // '' is a quote inside single quotes
      } else {
        return true;
      }
    }
  }
  return false;
}

// Counts the documents of a stream, remembering where the second one's content starts (its
// root node; the old LoadAll-based message named that line).
struct DocumentCounter : YAML::EventHandler {
  int count = 0;
  YAML::Mark second = YAML::Mark::null_mark();
  bool second_node_seen = false;
  void node(const YAML::Mark& mark) {
    if (count == 2 && !second_node_seen) {
      second = mark;
      second_node_seen = true;
    }
  }
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++count == 2) second = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { node(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { node(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    node(m);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    node(m);
  }
  void OnMapEnd() override {}
};

struct Source {
  std::string_view text;
  std::string where;  // the label errors start with
};

// A list of absolute paths (`[]` allowed): each an absolute path, no duplicates.
Result<void> read_path_list(const YAML::Node& value, const std::string& name,
                            const YAML::Mark& mark, const Source& src,
                            std::vector<std::string>& out) {
  if (!value.IsSequence()) {
    return fail(src.where + ": " + name + ": expected a list of paths, got " + kind_name(value) +
                at_line(mark));
  }
  std::vector<std::string> paths;
  for (const auto& item : value) {
    if (!item.IsScalar() || item.Scalar().empty() || item.Scalar().front() != '/') {
      return fail(src.where + ": " + name + ": each entry must be an absolute path" +
                  at_line(item.Mark()));
    }
    if (std::ranges::find(paths, item.Scalar()) != paths.end()) {
      return fail(src.where + ": " + name + ": \"" + item.Scalar() + "\" is listed twice" +
                  at_line(item.Mark()));
    }
    paths.push_back(item.Scalar());
  }
  out = std::move(paths);
  return {};
}

// Reads one mapping against its table of keys; `prefix` names the section in errors.
Result<void> read_section(const YAML::Node& map, std::span<const Key> keys,
                          const std::string& prefix, const Source& src, Config& config) {
  std::vector<std::string> seen;
  for (const auto& pair : map) {
    const YAML::Node& key_node = pair.first;
    const YAML::Node& value = pair.second;
    if (!key_node.IsScalar()) {
      return fail(src.where + ": expected a key name, got " + kind_name(key_node) +
                  at_line(key_node.Mark()));
    }
    const std::string name = prefix + key_node.Scalar();
    if (std::ranges::find(seen, name) != seen.end()) {
      return fail(src.where + ": duplicate key \"" + name + "\"" + at_line(key_node.Mark()));
    }
    seen.push_back(name);
    // An empty value has no position of its own: yaml-cpp puts it where the next token is.
    const auto& mark = value.IsNull() ? key_node.Mark() : value.Mark();
    auto list_key =
        std::ranges::find(kTopLevelPathLists, std::string_view(name), &PathListKey::name);
    if (prefix.empty() && list_key != std::end(kTopLevelPathLists)) {
      if (auto ok = read_path_list(value, name, mark, src, config.*(list_key->field)); !ok)
        return ok;
      continue;
    }
    auto key = std::ranges::find(keys, std::string_view(key_node.Scalar()), &Key::name);
    if (key == keys.end())
      return fail(src.where + ": unknown key \"" + name + "\"" + at_line(key_node.Mark()));
    if (!value.IsScalar()) {
      return fail(src.where + ": " + name + ": expected a string, got " + kind_name(value) +
                  at_line(mark));
    }
    if (!quote_closed(src.text, mark)) {
      return fail(src.where + ": invalid YAML" + at_line(mark) + ": unterminated quoted value");
    }
    const std::string& text = value.Scalar();
    if (text.empty()) return fail(src.where + ": " + name + ": must not be empty" + at_line(mark));
    if (key->allowed.size() != 0 && std::ranges::find(key->allowed, text) == key->allowed.end()) {
      return fail(src.where + ": " + name + ": must be one of " + one_of(key->allowed) +
                  ", got \"" + text + "\"" + at_line(mark));
    }
    const auto in_range = [&] {
      if (text.size() > 9 ||
          !std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; }))
        return false;
      const auto n = std::stoul(text);
      return n >= 1 && n <= key->max_number;
    };
    if (key->max_number != 0 && !in_range()) {
      return fail(src.where + ": " + name + ": must be a number of " + std::string(key->unit) +
                  " from 1 to " + std::to_string(key->max_number) + ", got \"" + text + "\"" +
                  at_line(mark));
    }
    config.*(key->field) = text;
  }
  return {};
}

}  // namespace

Result<Config> parse_config(std::string_view yaml_text, std::string_view label) {
  const Source src{yaml_text, std::string(label)};
  YAML::Node root;
  try {
    // Not YAML::LoadAll: yaml-cpp 0.7 loops on a stray "," after a document, making null
    // documents until memory runs out (jbeder/yaml-cpp#1040). Count up to two instead.
    std::istringstream in{std::string(yaml_text)};
    YAML::Parser parser(in);
    DocumentCounter counter;
    while (counter.count < 2 && parser.HandleNextDocument(counter)) {
    }
    if (counter.count > 1) {
      return fail(src.where + ": invalid YAML" + at_line(counter.second) +
                  ": config.yaml holds one document");
    }
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return fail(src.where + ": invalid YAML" + at_line(e.mark) + ": " + e.msg);
  }
  Config config;  // an empty file keeps every default
  if (root.IsNull()) return config;
  if (!root.IsMap()) return fail(src.where + ": expected a mapping of keys at the top level");
  if (auto ok = read_section(root, kTopLevel, "", src, config); !ok)
    return std::unexpected(ok.error());
  return config;
}

NestingConfig nesting_config(const Config& config) {
  NestingConfig out;
  out.enabled = config.nesting == "true";
  out.privileged_allowed = config.nesting_privileged == "allow";
  out.fuse = config.nesting_devices.find("fuse") != std::string::npos;
  out.tun = config.nesting_devices.find("tun") != std::string::npos;
  out.source = config.source;
  return out;
}

unsigned node_idle_exit_seconds(const Config& config) {
  return static_cast<unsigned>(std::strtoul(config.node_idle_exit.c_str(), nullptr, 10));
}

unsigned node_restarts(const Config& config) {
  return static_cast<unsigned>(std::strtoul(config.node_restarts.c_str(), nullptr, 10));
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
