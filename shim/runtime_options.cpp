#include "shim/runtime_options.hpp"

#include "containerd/linux/runctypes.pb-c.h"
#include "containerd/runc/options.pb-c.h"
#include "runtimeoptions/options.pb-c.h"
#include "shim/proto_util.hpp"

namespace hippo::shim {

RuntimeOptions decode_runtime_options(std::string_view type_url, std::string_view value) {
  RuntimeOptions out;
  if (type_url == "runtimeoptions.v1.Options") {
    if (auto o =
            unpack<Runtimeoptions__V1__Options>(runtimeoptions__v1__options__descriptor, value)) {
      out.config_path = std::string(view(o->config_path));
    }
  } else if (type_url == "containerd.runc.v1.Options") {
    if (auto o = unpack<Containerd__Runc__V1__Options>(containerd__runc__v1__options__descriptor,
                                                       value)) {
      out.binary_name = std::string(view(o->binary_name));
      out.root = std::string(view(o->root));
      out.shim_cgroup = std::string(view(o->shim_cgroup));
      out.systemd_cgroup = o->systemd_cgroup;
      out.no_pivot_root = o->no_pivot_root;
      out.no_new_keyring = o->no_new_keyring;
      out.io_uid = o->io_uid;
      out.io_gid = o->io_gid;
    }
  } else if (type_url == "containerd.linux.runc.CreateOptions") {
    if (auto o = unpack<Containerd__Linux__Runc__CreateOptions>(
            containerd__linux__runc__create_options__descriptor, value)) {
      out.no_pivot_root = o->no_pivot_root;
      out.no_new_keyring = o->no_new_keyring;
      out.shim_cgroup = std::string(view(o->shim_cgroup));
      out.io_uid = o->io_uid;
      out.io_gid = o->io_gid;
    }
  }
  return out;
}

}  // namespace hippo::shim
