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
#include <vector>

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
  // Shim grouping (docs/containerd.md, "Node mode"): a daemon per pod (group), or one per node
  // and containerd namespace; a node daemon left with no container exits after
  // node_idle_exit seconds without a connection.
  std::string grouping = "pod";       // pod | node
  std::string node_idle_exit = "60";  // seconds, 1-86400
  // How many deaths of the node daemon in 60 s its keeper follows with a new daemon that
  // adopts the containers (docs/containerd.md, "Adoption after the daemon's death").
  std::string node_restarts = "5";  // 1-1000
  // Nesting mode (docs/nesting.md): the default of the io.hippo.nesting annotation; whether the
  // privileged variant (no user namespace) may be used; extra devices a nesting container gets.
  std::string nesting = "false";              // true | false
  std::string nesting_privileged = "refuse";  // refuse | allow
  std::string nesting_devices = "none";       // none | fuse | tun | fuse,tun
  // Where CDI spec files are found (docs/devices.md), lowest priority first; containerd's
  // cdi_spec_dirs. A list of absolute paths; [] turns CDI injection off.
  std::vector<std::string> cdi_spec_dirs = {"/etc/cdi", "/var/run/cdi"};
  std::string source;  // the file it came from; empty for built-in defaults
};

// config.yaml's nesting keys, parsed: what create decides a container's nesting mode from.
struct NestingConfig {
  bool enabled = false;
  bool privileged_allowed = false;
  bool fuse = false;
  bool tun = false;
  std::string source;  // the file the keys came from, for errors; empty: built-in defaults
};
NestingConfig nesting_config(const Config& config);
// node_idle_exit as a number (parse_config has checked it).
unsigned node_idle_exit_seconds(const Config& config);
unsigned node_restarts(const Config& config);

// `label` names the source in errors (a file path).
Result<Config> parse_config(std::string_view yaml_text, std::string_view label);
Result<Config> load_config(const std::optional<std::string>& explicit_path);

}  // namespace hippo::runtime
