#pragma once
// C++ model of a CDI spec file (cncf-tags/container-device-interface, specs-go/config.go), the
// fields of every version up to 1.1.0. Optional JSON properties are std::optional so that the
// version rules can tell "absent" from "present but empty" where the reference does.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hippo::cdi {

struct DeviceNode {
  std::string path;                     // in the container
  std::optional<std::string> hostPath;  // 0.5.0; `path` when absent
  std::optional<std::string> type;      // "b", "c", "u", "p"; from the host node when absent
  std::optional<int64_t> major;
  std::optional<int64_t> minor;
  std::optional<uint32_t> fileMode;
  std::optional<std::string> permissions;  // cgroup access: subset of "rwm", or "none"
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

struct Mount {
  std::string hostPath;
  std::string containerPath;
  std::optional<std::vector<std::string>> options;
  std::optional<std::string> type;  // 0.4.0
};

struct Hook {
  std::string hookName;  // an OCI hook list: prestart, createRuntime, createContainer, ...
  std::string path;
  std::optional<std::vector<std::string>> args;
  std::optional<std::vector<std::string>> env;
  std::optional<int64_t> timeout;
};

struct IntelRdt {  // 0.7.0
  std::optional<std::string> closID;
  std::optional<std::string> l3CacheSchema;
  std::optional<std::string> memBwSchema;
  std::optional<std::vector<std::string>> schemata;  // 1.1.0
  std::optional<bool> enableMonitoring;              // 1.1.0
};

struct NetDevice {  // 1.1.0
  std::string hostInterfaceName;
  std::string name;  // in the container
};

struct ContainerEdits {
  std::vector<std::string> env;  // "NAME=value"
  std::vector<DeviceNode> deviceNodes;
  std::vector<Mount> mounts;
  std::vector<Hook> hooks;
  std::optional<IntelRdt> intelRdt;                     // 0.7.0
  std::optional<std::vector<uint32_t>> additionalGids;  // 0.7.0
  std::optional<std::vector<NetDevice>> netDevices;     // 1.1.0

  bool empty() const {
    return env.empty() && deviceNodes.empty() && mounts.empty() && hooks.empty() && !intelRdt &&
           (!additionalGids || additionalGids->empty()) && (!netDevices || netDevices->empty());
  }
};

struct Device {
  std::string name;
  std::map<std::string, std::string> annotations;  // 0.6.0
  ContainerEdits containerEdits;
};

struct Spec {
  std::string cdiVersion;                          // as written (a leading "v" is allowed)
  std::string kind;                                // "vendor/class"
  std::map<std::string, std::string> annotations;  // 0.6.0
  std::vector<Device> devices;
  ContainerEdits containerEdits;  // applied once if any of the spec's devices is requested
};

}  // namespace hippo::cdi
