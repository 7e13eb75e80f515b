#pragma once
// What the shim binary does, by action.

#include <optional>
#include <string>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "runtime/backend_choice.hpp"
#include "runtime/config.hpp"
#include "shim/shim_flags.hpp"

namespace hippo::shim {

// The files of a node daemon, `<state_root>/shims/<sha256(address/ns)>.{sock,lock,pid,log}`:
// the well-known socket `start` finds it by, the lock that makes one `start` at a time create
// it, its pid, its log. The containerd address is part of the name: two containerds sharing a
// state root and a namespace name each get their own daemon, which publishes to them.
struct NodeShimFiles {
  std::string dir, socket, lock, pid, log;
  std::string keeper_pid;  // <base>.keeper.pid: the daemon's keeper (shim/keeper.hpp)
};

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
  // Node mode (config.yaml `grouping: node`): the daemon serves every container of its
  // containerd namespace, logs to `node_files.log` instead of the first bundle's FIFO, and
  // exits only after `idle_exit` seconds with no container and no connection.
  bool node = false;
  unsigned idle_exit = 0;
  NodeShimFiles node_files;
};
NodeShimFiles node_shim_files(const runtime::Config& config, const std::string& address,
                              const std::string& ns);

// start_action.cpp; argv to run itself again without tcache (shim/tcache.hpp).
int run_start(const ShimFlags& flags, char** argv);
int run_delete(const ShimFlags& flags);  // delete_action.cpp
int run_info();                          // info_action.cpp
struct KeeperContext;
// The long-lived daemon serving the Task API on `listener`; returns its exit code. Under a
// keeper (node mode, shim/keeper.hpp) it leaves an adoption record, and from the keeper's
// second daemon on it takes over the last record's listener, connections and containers.
int run_daemon(const DaemonConfig& config, os::UniqueFd listener,
               const KeeperContext* keeper = nullptr);  // daemon.cpp

// State root of the containers of one containerd namespace: <state_root>/containerd/<ns>.
std::string shim_state_root(const std::string& config_path, const std::string& ns);
std::string shim_state_root(const Result<runtime::Config>& config, const std::string& ns);
// The backend config.yaml chooses for the daemon of namespace `ns` (containers' runc Options
// may choose another at Create). `start` saves it in the bundle, for `delete`.
runtime::BackendChoice daemon_backend_choice(const runtime::Config& config, const std::string& ns);

}  // namespace hippo::shim
