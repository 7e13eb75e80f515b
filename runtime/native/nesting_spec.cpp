#include "runtime/native/nesting_spec.hpp"

#include <algorithm>
#include <string>

#include "oci-spec/names.hpp"

namespace hippo::runtime::native {
namespace {

constexpr std::string_view kCgroupMount = "/sys/fs/cgroup";

bool privileged(const NestingState& n) { return n.variant == "privileged"; }

void add_unique(spec::Strings& set, std::string_view name) {
  if (std::ranges::find(set, name) == set.end()) set.emplace_back(name);
}

// 3.1: init unshares it after kGo, so its root is the container's cgroup.
void add_cgroup_namespace(spec::Linux& linux) {
  auto& namespaces = linux.namespaces ? *linux.namespaces : linux.namespaces.emplace();
  if (std::ranges::none_of(namespaces, [](const auto& ns) { return ns.type == "cgroup"; })) {
    namespaces.push_back(spec::Namespace{"cgroup", std::nullopt});
  }
}

std::string trimmed(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// 3.2: the plan makes writable binds of the container's cgroup when the mount is not ro.
void writable_cgroup_mount(spec::Spec& spec) {
  auto& mounts = spec.mounts ? *spec.mounts : spec.mounts.emplace();
  for (auto& m : mounts) {
    if (trimmed(m.destination) != kCgroupMount) continue;
    auto& options = m.options ? *m.options : m.options.emplace();
    std::erase(options, "ro");
    add_unique(options, "rw");
    return;
  }
  spec::Mount m;
  m.destination = std::string(kCgroupMount);
  m.type = "cgroup";
  m.source = "cgroup";
  m.options = spec::Strings{"nosuid", "noexec", "nodev", "relatime", "rw"};
  // After /sys, which it lies on.
  auto sys =
      std::ranges::find_if(mounts, [](const auto& x) { return trimmed(x.destination) == "/sys"; });
  mounts.insert(sys == mounts.end() ? mounts.end() : sys + 1, std::move(m));
}

// A refusing default action: the only profiles whose rules can keep these calls out.
bool refuses(std::string_view action) {
  return action != "SCMP_ACT_ALLOW" && action != "SCMP_ACT_LOG";
}

struct NestingDevice {
  std::string_view name, path;
  int64_t major, minor;
};
constexpr NestingDevice kDevices[] = {{"fuse", "/dev/fuse", 10, 229},
                                      {"tun", "/dev/net/tun", 10, 200}};

// 3.8: the node and an rwm rule for each device config.yaml's nesting_devices names.
void add_devices(spec::Linux& linux, const spec::Strings& names) {
  for (const auto& d : kDevices) {
    if (std::ranges::find(names, d.name) == names.end()) continue;
    auto& nodes = linux.devices ? *linux.devices : linux.devices.emplace();
    if (std::ranges::none_of(nodes, [&](const auto& n) { return n.path == d.path; })) {
      nodes.push_back(spec::Device{"c", std::string(d.path), d.major, d.minor, 0666, 0, 0});
    }
    auto& resources = linux.resources ? *linux.resources : linux.resources.emplace();
    auto& rules = resources.devices ? *resources.devices : resources.devices.emplace();
    rules.push_back(spec::DeviceRule{true, "c", d.major, d.minor, "rwm"});
  }
}

}  // namespace

void nest_capabilities(spec::Process& process, const NestingState& nesting, int last_cap) {
  auto& caps = process.capabilities ? *process.capabilities : process.capabilities.emplace();
  spec::Strings added;
  if (privileged(nesting)) {
    for (const char* name : kPrivilegedNestingCaps) added.emplace_back(name);
  } else if (process.user.uid == 0) {
    // A new user namespace starts with a full bounding set: all of them, inside it only.
    for (const auto& e : spec::names::capabilities()) {
      if (e.value <= last_cap) added.emplace_back(e.name);
    }
  } else {
    return;  // other users keep the spec's sets
  }
  for (auto* set : {&caps.bounding, &caps.effective, &caps.permitted}) {
    auto& names = *set ? **set : set->emplace();
    for (const auto& name : added) add_unique(names, name);
  }
}

void nest_seccomp(spec::Seccomp& seccomp, const NestingState& nesting) {
  if (!refuses(seccomp.defaultAction)) return;
  spec::Strings names(std::begin(kNestingSyscalls), std::end(kNestingSyscalls));
  if (privileged(nesting)) names.emplace_back("bpf");  // an inner v2 device program
  auto& rules = seccomp.syscalls ? *seccomp.syscalls : seccomp.syscalls.emplace();
  // Out of every rule first: no conditional or ERRNO rule left to conflict with the ALLOW.
  for (auto& rule : rules) {
    std::erase_if(rule.names,
                  [&](const auto& n) { return std::ranges::find(names, n) != names.end(); });
  }
  std::erase_if(rules, [](const auto& rule) { return rule.names.empty(); });
  spec::SeccompSyscall allow;
  allow.names = std::move(names);
  allow.action = "SCMP_ACT_ALLOW";
  rules.push_back(std::move(allow));
}

spec::Spec apply_nesting(spec::Spec spec, const NestingState& nesting, int last_cap) {
  auto& linux = spec.linux ? *spec.linux : spec.linux.emplace();
  add_cgroup_namespace(linux);
  writable_cgroup_mount(spec);
  if (spec.process) nest_capabilities(*spec.process, nesting, last_cap);
  if (linux.seccomp) nest_seccomp(*linux.seccomp, nesting);
  add_devices(linux, nesting.devices);
  auto& resources = linux.resources ? *linux.resources : linux.resources.emplace();
  auto& rules = resources.devices ? *resources.devices : resources.devices.emplace();
  rules.push_back(spec::DeviceRule{true, "c", kConsoleMajor, kConsoleMinor, "rwm"});
  return spec;
}

}  // namespace hippo::runtime::native
