#pragma once
// Per-container options containerd passes (start stdin, CreateTaskRequest.options): runc's
// containerd.runc.v1.Options, the generic runtimeoptions.v1.Options (ConfigPath), and
// containerd.linux.runc.CreateOptions (what ctr's --no-pivot sends to a runtime not named
// io.containerd.runc.*).

#include <cstdint>
#include <string>
#include <string_view>

namespace hippo::shim {

struct RuntimeOptions {
  std::string config_path;  // runtimeoptions ConfigPath: our config.yaml
  std::string binary_name;  // runc Options BinaryName
  std::string root;         // runc Options Root: the state root, <Root>/<namespace>
  std::string shim_cgroup;  // the cgroup the shim daemon moves into (start)
  bool systemd_cgroup = false;
  bool no_pivot_root = false;
  bool no_new_keyring = false;
  uint32_t io_uid = 0, io_gid = 0;
};

// Unknown types and undecodable bytes give the defaults: options never make a shim fail.
RuntimeOptions decode_runtime_options(std::string_view type_url, std::string_view value);

}  // namespace hippo::shim
