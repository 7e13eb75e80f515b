#include "runtime/features.hpp"

#include <seccomp.h>
#include <unistd.h>

#include <string>

#include "hippo/version.hpp"
#include "oci-spec/names.hpp"
#include "runtime/cdi/annotations.hpp"
#include "runtime/cdi/versions.hpp"
#include "runtime/cgroups/fs_manager.hpp"
#include "runtime/linux/lsm.hpp"

namespace hippo::runtime {
namespace {

// What the native backend carries out today. Each later piece of the runtime flips its entry;
// `features` must never claim what `create` cannot do.
struct Implemented {
  bool cgroup_v1 = false;
  bool cgroup_v2 = false;
  bool cgroup_systemd = false;
  bool seccomp = false;
  bool apparmor = false;
  bool selinux = false;
  bool idmap_mounts = false;
};
constexpr Implemented kImplemented{.cgroup_v1 = true,
                                   .cgroup_v2 = true,
                                   .cgroup_systemd = true,
                                   .seccomp = true,
                                   .apparmor = true,
                                   .selinux = true,
                                   .idmap_mounts = true};

std::string cdi_versions() {
  std::string out;
  for (auto v : cdi::known_versions()) out += (out.empty() ? "" : ",") + std::string(v);
  return out;
}

}  // namespace

spec::Features host_features() {
  auto f = spec::model_features();
  auto& l = *f.linux;
  l.cgroup = spec::CgroupFeatures{kImplemented.cgroup_v1, kImplemented.cgroup_v2,
                                  kImplemented.cgroup_systemd, false, false};
  auto& sc = *l.seccomp;
  sc.enabled = kImplemented.seccomp;
  // Flags libseccomp can set on this kernel: its API level says which (seccomp_api_get(3)).
  const unsigned api = seccomp_api_get();
  spec::Strings supported;
  if (kImplemented.seccomp) {
    if (api >= 2) supported.emplace_back("SECCOMP_FILTER_FLAG_TSYNC");
    if (api >= 3) supported.emplace_back("SECCOMP_FILTER_FLAG_LOG");
    if (api >= 4) supported.emplace_back("SECCOMP_FILTER_FLAG_SPEC_ALLOW");
    if (api >= 7) supported.emplace_back("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
  }
  sc.supportedFlags = std::move(supported);
  l.apparmor = spec::Enabled{kImplemented.apparmor && os::apparmor_enabled()};
  l.selinux = spec::Enabled{kImplemented.selinux && os::selinux_enabled()};
  l.intelRdt = spec::Enabled{false};
  l.mountExtensions = spec::MountExtensions{spec::Enabled{kImplemented.idmap_mounts}};
  l.netDevices = spec::Enabled{false};

  const auto* v = seccomp_version();
  f.annotations = spec::StringMap{
      {"io.github.seccomp.libseccomp.version",
       std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro)},
      {"org.hippo.version", kVersion},
      {"org.hippo.commit", kGitCommit},
      // CDI injection by the native backend (docs/devices.md): the spec versions it reads.
      {"org.hippo.cdi.versions", cdi_versions()},
  };
  // Annotations of config.json that change what the runtime does (runtime-spec features.md):
  // io.hippo.nesting switches nesting mode on or off (docs/nesting.md); cdi.k8s.io/ (a prefix)
  // adds the devices, mounts and hooks of CDI specs (docs/devices.md).
  f.potentiallyUnsafeConfigAnnotations =
      spec::Strings{"io.hippo.nesting", std::string(cdi::kAnnotationPrefix)};
  return f;
}

bool unified_cgroup_host() {
  return cgroups::detect_fs_version("/sys/fs/cgroup") == cgroups::FsVersion::v2;
}

}  // namespace hippo::runtime
