#pragma once
// hippo's own configuration, /etc/hippo/config.yaml. Resolution order: an explicit path
// (--config, or containerd's runtime option ConfigPath), then $HIPPO_CONFIG, then the default
// file if it exists, else built-in defaults. Read with yaml-cpp. Unknown keys and wrong types are
// errors that name the file, the key and the line.
//
// The shim reads it once, in `start`, before the daemon forks: the daemon gets the parsed Config
// and never runs yaml-cpp (docs/architecture.md, "Shim memory").

#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace hippo::runtime {

inline constexpr std::string_view kDefaultConfigPath = "/etc/hippo/config.yaml";

struct Config {
  std::string backend = "native";              // native | runc
  std::string runc_binary = "runc";            // for backend runc: name on $PATH or absolute path
  std::string runc_root = "/run/hippo/runc";   // runc --root for backend runc
  std::string cgroup_driver = "auto";          // auto | systemd | cgroupfs
  std::string systemd_slice = "system.slice";  // slice when cgroupsPath does not name one
  std::string state_root = "/run/hippo";       // per-container state (the CLI's default --root)
  std::string log_level = "info";              // trace | debug | info | warn | error | off
  std::string group_annotation = "io.containerd.hippo.v2.group";  // shim grouping annotation
  std::string source;  // the file it came from; empty for built-in defaults
};

// `label` names the source in errors (a file path).
Result<Config> parse_config(std::string_view yaml_text, std::string_view label);
Result<Config> load_config(const std::optional<std::string>& explicit_path);

}  // namespace hippo::runtime
