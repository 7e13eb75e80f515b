#pragma once
// What the shim binary does, by action.

#include <string>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "runtime/backend_choice.hpp"
#include "runtime/config.hpp"
#include "shim/shim_flags.hpp"

namespace hippo::shim {

// Settings the daemon runs with, decided by `start`.
struct DaemonConfig {
  std::string ns;
  std::string grpc_address;
  std::string ttrpc_address;  // $TTRPC_ADDRESS: where events are forwarded
  std::string socket_path;    // to remove on exit
  // config.yaml (named by runtime options, else the default), parsed by `start` before the
  // fork: the daemon never reads YAML itself (docs/architecture.md, "Shim memory").
  runtime::Config settings;
  bool debug = false;
};

int run_start(const ShimFlags& flags);   // start_action.cpp
int run_delete(const ShimFlags& flags);  // delete_action.cpp
int run_info();                          // info_action.cpp
// The long-lived daemon serving the Task API on `listener`; returns its exit code.
int run_daemon(const DaemonConfig& config, os::UniqueFd listener);  // daemon.cpp

// State root of the containers of one containerd namespace: <state_root>/containerd/<ns>.
std::string shim_state_root(const std::string& config_path, const std::string& ns);
std::string shim_state_root(const Result<runtime::Config>& config, const std::string& ns);
// The backend config.yaml chooses for the daemon of namespace `ns` (containers' runc Options
// may choose another at Create). `start` saves it in the bundle, for `delete`.
runtime::BackendChoice daemon_backend_choice(const runtime::Config& config, const std::string& ns);

}  // namespace hippo::shim
