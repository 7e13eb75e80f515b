// `-info`: RuntimeInfo for containerd 2.x introspection, with the OCI features document.

#include <unistd.h>

#include "base/file_io.hpp"
#include "containerd/types/introspection.pb-c.h"
#include "hippo/version.hpp"
#include "oci-spec/features.hpp"
#include "runtime/features.hpp"
#include "shim/actions.hpp"
#include "shim/proto_util.hpp"

namespace hippo::shim {

int run_info() {
  OwnedAny features("types.containerd.io/opencontainers/runtime-spec/1/features/Features",
                    spec::to_json(runtime::host_features()).dump());
  Containerd__Types__RuntimeVersion version = CONTAINERD__TYPES__RUNTIME_VERSION__INIT;
  version.version = const_cast<char*>(kVersion);
  version.revision = const_cast<char*>(kGitCommit);
  Containerd__Types__RuntimeInfo info = CONTAINERD__TYPES__RUNTIME_INFO__INIT;
  info.name = const_cast<char*>("io.containerd.hippo.v2");
  info.version = &version;
  info.features = &features.any;
  write_all(STDOUT_FILENO, pack(info));
  return 0;
}

}  // namespace hippo::shim
