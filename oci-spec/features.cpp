#include "oci-spec/features.hpp"

#include "oci-spec/config.hpp"
#include "oci-spec/names.hpp"

namespace hippo::spec {

template <class V, Is<Enabled> M>
void describe(V& v, M& m) {
  v("enabled", m.enabled);
}

template <class V, Is<CgroupFeatures> M>
void describe(V& v, M& m) {
  v("v1", m.v1);
  v("v2", m.v2);
  v("systemd", m.systemd);
  v("systemdUser", m.systemdUser);
  v("rdma", m.rdma);
}

template <class V, Is<SeccompFeatures> M>
void describe(V& v, M& m) {
  v("enabled", m.enabled);
  v("actions", m.actions);
  v("operators", m.operators);
  v("archs", m.archs);
  v("knownFlags", m.knownFlags);
  v("supportedFlags", m.supportedFlags);
}

template <class V, Is<MountExtensions> M>
void describe(V& v, M& m) {
  v("idmap", m.idmap);
}

template <class V, Is<LinuxFeatures> M>
void describe(V& v, M& m) {
  v("namespaces", m.namespaces);
  v("capabilities", m.capabilities);
  v("cgroup", m.cgroup);
  v("seccomp", m.seccomp);
  v("apparmor", m.apparmor);
  v("selinux", m.selinux);
  v("intelRdt", m.intelRdt);
  v("mountExtensions", m.mountExtensions);
  v("netDevices", m.netDevices);
}

template <class V, Is<Features> M>
void describe(V& v, M& m) {
  v("ociVersionMin", m.ociVersionMin);
  v("ociVersionMax", m.ociVersionMax);
  v("hooks", m.hooks);
  v("mountOptions", m.mountOptions);
  v("linux", m.linux);
  v("annotations", m.annotations);
  v("potentiallyUnsafeConfigAnnotations", m.potentiallyUnsafeConfigAnnotations);
}

namespace {

Strings all_names(std::span<const names::Entry> table) {
  Strings out;
  out.reserve(table.size());
  for (const auto& e : table) out.emplace_back(e.name);
  return out;
}

}  // namespace

Features model_features() {
  Features f;
  f.ociVersionMin = std::string(kOciVersionMin);
  f.ociVersionMax = std::string(kOciVersionMax);
  f.hooks = all_names(names::hook_kinds());
  f.mountOptions = all_names(names::mount_options());
  LinuxFeatures l;
  l.namespaces = all_names(names::namespaces());
  l.capabilities = all_names(names::capabilities());
  SeccompFeatures sc;
  sc.actions = all_names(names::seccomp_actions());
  sc.operators = all_names(names::seccomp_operators());
  sc.archs = all_names(names::seccomp_archs());
  sc.knownFlags = all_names(names::seccomp_flags());
  l.seccomp = std::move(sc);
  f.linux = std::move(l);
  return f;
}

Json to_json(const Features& features) { return codec::write_value(features); }

Result<Features> parse_features(std::string_view text, std::string_view label) {
  return read_document<Features>(text, label);
}

}  // namespace hippo::spec
