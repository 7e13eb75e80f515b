#pragma once
// The `features` document (runtime-spec features.md, 1.1+): what a runtime implementation
// understands. The model lives here; the runtime fills it with what this host and build support.

#include <string_view>

#include "base/error.hpp"
#include "oci-spec/json_codec.hpp"
#include "oci-spec/spec.hpp"

namespace hippo::spec {

struct Enabled {
  Opt<bool> enabled;
};

struct CgroupFeatures {
  Opt<bool> v1, v2, systemd, systemdUser, rdma;
};

struct SeccompFeatures {
  Opt<bool> enabled;
  Opt<Strings> actions, operators, archs, knownFlags, supportedFlags;
};

struct MountExtensions {
  Opt<Enabled> idmap;
};

struct LinuxFeatures {
  Opt<Strings> namespaces;
  Opt<Strings> capabilities;
  Opt<CgroupFeatures> cgroup;
  Opt<SeccompFeatures> seccomp;
  Opt<Enabled> apparmor;
  Opt<Enabled> selinux;
  Opt<Enabled> intelRdt;
  Opt<MountExtensions> mountExtensions;
  Opt<Enabled> netDevices;
};

struct Features {
  std::string ociVersionMin;
  std::string ociVersionMax;
  Opt<Strings> hooks;
  Opt<Strings> mountOptions;
  Opt<LinuxFeatures> linux;
  Opt<StringMap> annotations;
  Opt<Strings> potentiallyUnsafeConfigAnnotations;
};

// Everything the spec model knows (all names of names.hpp); the runtime narrows it to the host.
Features model_features();

Json to_json(const Features& features);
Result<Features> parse_features(std::string_view text, std::string_view label = "features");

}  // namespace hippo::spec
