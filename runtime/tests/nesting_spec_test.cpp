// apply_nesting on runc's default spec and on containerd's default seccomp profile
// (data/containerd_default_seccomp.json: the profile containerd renders without CAP_SYS_ADMIN,
// its base allow list shortened: a refusing default, per-argument personality and clone rules,
// clone3 refused with ENOSYS so that libc falls back to clone).
#include "runtime/native/nesting_spec.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/file_io.hpp"
#include "oci-spec/config.hpp"
#include "oci-spec/json_codec.hpp"
#include "oci-spec/names.hpp"
#include "oci-spec/schema.hpp"

namespace hippo::runtime::native {
namespace {

constexpr int kLastCap = 40;

NestingState userns() { return NestingState{"userns", 100000, 100000, {}}; }
NestingState privileged() { return NestingState{"privileged", 0, 0, {}}; }

spec::Seccomp containerd_profile() {
  auto text = read_text_file(HIPPO_RUNTIME_TESTDATA "/containerd_default_seccomp.json");
  EXPECT_TRUE(text);
  auto s = spec::read_document<spec::Seccomp>(*text, "containerd_default_seccomp.json");
  EXPECT_TRUE(s) << s.error().message;
  return *s;
}

bool has(const spec::Strings& set, std::string_view name) {
  return std::ranges::find(set, name) != set.end();
}

// How many times `name` appears in any rule, and whether that rule is an unconditional ALLOW.
int occurrences(const spec::Seccomp& s, std::string_view name, bool* unconditional_allow) {
  int n = 0;
  for (const auto& rule : *s.syscalls) {
    for (const auto& x : rule.names) {
      if (x != name) continue;
      ++n;
      *unconditional_allow = rule.action == "SCMP_ACT_ALLOW" && !rule.args;
    }
  }
  return n;
}

TEST(ApplyNesting, AddsCgroupNamespaceOnce) {
  auto s = apply_nesting(spec::default_spec(), userns(), kLastCap);
  EXPECT_EQ(std::ranges::count(*s.linux->namespaces, std::string("cgroup"), &spec::Namespace::type),
            1);
  auto again = apply_nesting(s, userns(), kLastCap);
  EXPECT_EQ(
      std::ranges::count(*again.linux->namespaces, std::string("cgroup"), &spec::Namespace::type),
      1);
}

TEST(ApplyNesting, CgroupMountMadeWritable) {
  auto s = apply_nesting(spec::default_spec(), userns(), kLastCap);
  auto m = std::ranges::find(*s.mounts, std::string("/sys/fs/cgroup"), &spec::Mount::destination);
  ASSERT_NE(m, s.mounts->end());
  EXPECT_FALSE(has(*m->options, "ro"));
  EXPECT_TRUE(has(*m->options, "rw"));
  EXPECT_EQ(std::ranges::count(*s.mounts, std::string("/sys/fs/cgroup"), &spec::Mount::destination),
            1);
}

TEST(ApplyNesting, CgroupMountAddedAfterSys) {
  auto base = spec::default_spec();
  std::erase_if(*base.mounts, [](const auto& m) { return m.destination == "/sys/fs/cgroup"; });
  auto s = apply_nesting(base, userns(), kLastCap);
  auto sys = std::ranges::find(*s.mounts, std::string("/sys"), &spec::Mount::destination);
  ASSERT_NE(sys, s.mounts->end());
  ASSERT_NE(sys + 1, s.mounts->end());
  EXPECT_EQ((sys + 1)->destination, "/sys/fs/cgroup");
  EXPECT_EQ((sys + 1)->type, "cgroup");
  EXPECT_TRUE(has(*(sys + 1)->options, "rw"));
}

TEST(ApplyNesting, UsernsRootGetsEveryCapability) {
  auto s = apply_nesting(spec::default_spec(), userns(), kLastCap);
  const auto& caps = *s.process->capabilities;
  for (const auto& e : spec::names::capabilities()) {
    if (e.value > kLastCap) continue;
    EXPECT_TRUE(has(*caps.bounding, e.name)) << e.name;
    EXPECT_TRUE(has(*caps.effective, e.name)) << e.name;
    EXPECT_TRUE(has(*caps.permitted, e.name)) << e.name;
  }
  EXPECT_TRUE(has(*caps.bounding, "CAP_SYS_RESOURCE"));  // inside the user namespace only
  // Above the kernel's last one: left out.
  auto fewer = apply_nesting(spec::default_spec(), userns(), 37);
  EXPECT_FALSE(has(*fewer.process->capabilities->bounding, "CAP_CHECKPOINT_RESTORE"));
}

TEST(ApplyNesting, UsernsOtherUserKeepsSpecSets) {
  auto base = spec::default_spec();
  base.process->user.uid = 1000;
  auto s = apply_nesting(base, userns(), kLastCap);
  EXPECT_EQ(*s.process->capabilities->bounding, *base.process->capabilities->bounding);
}

TEST(ApplyNesting, PrivilegedGetsListedSetNeverTheDangerousOnes) {
  auto base = spec::default_spec();
  auto s = apply_nesting(base, privileged(), kLastCap);
  const auto& caps = *s.process->capabilities;
  for (const char* name : kPrivilegedNestingCaps) {
    EXPECT_TRUE(has(*caps.bounding, name)) << name;
    EXPECT_TRUE(has(*caps.effective, name)) << name;
    EXPECT_TRUE(has(*caps.permitted, name)) << name;
  }
  for (const auto& name : *base.process->capabilities->bounding)
    EXPECT_TRUE(has(*caps.bounding, name));
  for (const char* never :
       {"CAP_SYS_RESOURCE", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_DAC_READ_SEARCH"}) {
    EXPECT_FALSE(has(*caps.bounding, never)) << never;
    EXPECT_FALSE(has(*caps.effective, never)) << never;
    EXPECT_FALSE(has(*caps.permitted, never)) << never;
  }
  // No duplicates from the union (the spec already has CAP_KILL).
  EXPECT_EQ(std::ranges::count(*caps.bounding, std::string("CAP_KILL")), 1);
}

void expect_names_once_in_allow(const spec::Seccomp& s, bool with_bpf) {
  for (const char* name : kNestingSyscalls) {
    bool allow = false;
    EXPECT_EQ(occurrences(s, name, &allow), 1) << name;
    EXPECT_TRUE(allow) << name;
  }
  bool allow = false;
  EXPECT_EQ(occurrences(s, "bpf", &allow), with_bpf ? 1 : 0);
  // All of them in one rule, the last.
  EXPECT_EQ(s.syscalls->back().action, "SCMP_ACT_ALLOW");
  EXPECT_TRUE(has(s.syscalls->back().names, "mount"));
  EXPECT_TRUE(has(s.syscalls->back().names, "clone3"));
}

TEST(ApplyNesting, ContainerdProfileNamesRemovedAndAddedOnce) {
  auto base = spec::default_spec();
  base.linux->seccomp = containerd_profile();
  const auto before = *base.linux->seccomp;
  auto s = apply_nesting(base, userns(), kLastCap);
  const auto& sc = *s.linux->seccomp;
  expect_names_once_in_allow(sc, false);
  // clone's argument rule and clone3's ENOSYS rule are gone; other rules stay.
  EXPECT_EQ(sc.syscalls->size(), before.syscalls->size() - 2 + 1);
  bool allow = false;
  EXPECT_EQ(occurrences(sc, "personality", &allow), 5);
  EXPECT_EQ(occurrences(sc, "read", &allow), 1);
  EXPECT_EQ(sc.defaultAction, "SCMP_ACT_ERRNO");
}

TEST(ApplyNesting, PrivilegedAlsoAllowsBpf) {
  auto base = spec::default_spec();
  base.linux->seccomp = containerd_profile();
  auto s = apply_nesting(base, privileged(), kLastCap);
  expect_names_once_in_allow(*s.linux->seccomp, true);
}

TEST(ApplyNesting, PermissiveProfileLeftAlone) {
  auto base = spec::default_spec();
  spec::Seccomp deny_list;
  deny_list.defaultAction = "SCMP_ACT_ALLOW";
  deny_list.syscalls = std::vector<spec::SeccompSyscall>{{{"mount"}, "SCMP_ACT_ERRNO", 1, {}}};
  base.linux->seccomp = deny_list;
  auto s = apply_nesting(base, userns(), kLastCap);
  ASSERT_EQ(s.linux->seccomp->syscalls->size(), 1u);
  EXPECT_EQ(s.linux->seccomp->syscalls->front().action, "SCMP_ACT_ERRNO");
}

TEST(ApplyNesting, DevicesNodeAndRule) {
  auto n = userns();
  n.devices = {"fuse", "tun"};
  auto s = apply_nesting(spec::default_spec(), n, kLastCap);
  for (auto [path, minor] : {std::pair{"/dev/fuse", 229}, std::pair{"/dev/net/tun", 200}}) {
    auto d = std::ranges::find(*s.linux->devices, std::string(path), &spec::Device::path);
    ASSERT_NE(d, s.linux->devices->end()) << path;
    EXPECT_EQ(d->type, "c");
    EXPECT_EQ(d->major, 10);
    EXPECT_EQ(d->minor, minor);
    const auto& rules = *s.linux->resources->devices;
    EXPECT_TRUE(std::ranges::any_of(rules, [&](const auto& r) {
      return r.allow && r.type == "c" && r.major == 10 && r.minor == minor && r.access == "rwm";
    })) << path;
  }
  auto none = apply_nesting(spec::default_spec(), userns(), kLastCap);
  EXPECT_FALSE(none.linux->devices && std::ranges::any_of(*none.linux->devices, [](const auto& d) {
                 return d.path == "/dev/fuse";
               }));
}

// Both variants: /dev/console's rule (no node), which inner engines' default specs allow.
TEST(ApplyNesting, AllowsTheConsoleDeviceWithoutANode) {
  for (const auto& n : {userns(), privileged()}) {
    auto s = apply_nesting(spec::default_spec(), n, kLastCap);
    const auto& rules = *s.linux->resources->devices;
    EXPECT_TRUE(std::ranges::any_of(rules, [](const auto& r) {
      return r.allow && r.type == "c" && r.major == 5 && r.minor == 1 && r.access == "rwm";
    }));
    const auto nodes = s.linux->devices.value_or(std::vector<spec::Device>{});
    EXPECT_TRUE(
        std::ranges::none_of(nodes, [](const auto& d) { return d.path == "/dev/console"; }));
  }
}

}  // namespace
}  // namespace hippo::runtime::native
