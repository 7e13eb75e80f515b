// resolve_nesting: the annotation over config.yaml, the variant, and each refusal's one line.
#include "runtime/native/nesting.hpp"

#include <gtest/gtest.h>

#include "oci-spec/config.hpp"

namespace hippo::runtime::native {
namespace {

spec::Spec with_annotation(spec::Spec s, const std::string& value) {
  s.annotations = spec::StringMap{{"io.hippo.nesting", value}};
  return s;
}

// A spec with a user namespace mapping container 0 to host `uid`/`gid`.
spec::Spec userns_spec(uint32_t uid, uint32_t gid) {
  auto s = with_annotation(spec::default_spec(), "true");
  s.linux->namespaces->push_back(spec::Namespace{"user", std::nullopt});
  s.linux->uidMappings = std::vector<spec::IdMapping>{{0, uid, 65536}};
  s.linux->gidMappings = std::vector<spec::IdMapping>{{0, gid, 65536}};
  return s;
}

NestingConfig allow_privileged() {
  NestingConfig c;
  c.privileged_allowed = true;
  return c;
}

std::string refusal(const spec::Spec& s, const NestingConfig& c = {}, NestingHost h = {}) {
  auto r = resolve_nesting(s, c, h);
  if (r) return "accepted";
  EXPECT_EQ(r.error().kind(), ErrorKind::invalid_argument);
  return r.error().message;
}

TEST(ResolveNesting, OffByDefault) {
  auto r = resolve_nesting(spec::default_spec(), {}, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(*r);
}

TEST(ResolveNesting, AnnotationWinsOverConfigBothWays) {
  NestingConfig on;
  on.enabled = true;
  on.privileged_allowed = true;
  auto off = resolve_nesting(with_annotation(spec::default_spec(), "false"), on, {});
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_FALSE(*off);
  auto by_config = resolve_nesting(spec::default_spec(), on, {});
  ASSERT_TRUE(by_config) << by_config.error().message;
  EXPECT_TRUE(*by_config);
  auto by_annotation = resolve_nesting(userns_spec(100000, 100000), NestingConfig{}, {});
  ASSERT_TRUE(by_annotation) << by_annotation.error().message;
  ASSERT_TRUE(*by_annotation);
}

TEST(ResolveNesting, AnotherAnnotationValueIsAnError) {
  EXPECT_EQ(refusal(with_annotation(spec::default_spec(), "yes")),
            "invalid configuration: annotations: io.hippo.nesting: \"yes\" is not true or false");
}

TEST(ResolveNesting, UsernsVariantOwnsMappedRoot) {
  auto r = resolve_nesting(userns_spec(100000, 200000), {}, {});
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->variant, "userns");
  EXPECT_EQ((*r)->owner_uid, 100000u);
  EXPECT_EQ((*r)->owner_gid, 200000u);
}

TEST(ResolveNesting, PrivilegedNeedsAllow) {
  const auto s = with_annotation(spec::default_spec(), "true");
  EXPECT_EQ(refusal(s),
            "invalid configuration: nesting: no user namespace mapping root to a non-zero host id "
            "makes the privileged variant (host CAP_SYS_ADMIN), allowed only with "
            "nesting_privileged: allow in /etc/hippo/config.yaml");
  NestingConfig c;
  c.source = "/tmp/x.yaml";
  EXPECT_NE(refusal(s, c).find("allow in /tmp/x.yaml"), std::string::npos);
  // Root mapped to host root is no protection.
  EXPECT_NE(refusal(userns_spec(0, 0)).find("privileged variant"), std::string::npos);
  auto r = resolve_nesting(s, allow_privileged(), {});
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->variant, "privileged");
  EXPECT_EQ((*r)->owner_uid, 0u);
}

TEST(ResolveNesting, UsernsWithoutRootMapped) {
  auto s = userns_spec(100000, 100000);
  s.linux->uidMappings = std::vector<spec::IdMapping>{{1, 100001, 100}};
  EXPECT_EQ(refusal(s),
            "invalid configuration: nesting: the user namespace maps no container uid 0: cgroups "
            "are delegated to the container's root");
  s = userns_spec(100000, 100000);
  s.linux->gidMappings = std::vector<spec::IdMapping>{{1000, 100000, 100}};
  EXPECT_NE(refusal(s).find("maps no container gid 0"), std::string::npos);
}

TEST(ResolveNesting, RuncBackend) {
  EXPECT_EQ(refusal(userns_spec(100000, 100000), {}, {.runc_backend = true}),
            "invalid configuration: nesting: needs the native backend: runc neither chowns "
            "cgroups for a user namespace nor moves init to a leaf cgroup");
  // Without nesting runc is fine.
  EXPECT_EQ(refusal(spec::default_spec(), {}, {.runc_backend = true}), "accepted");
}

TEST(ResolveNesting, CgroupNamespaceByPath) {
  auto s = userns_spec(100000, 100000);
  s.linux->namespaces->push_back(spec::Namespace{"cgroup", "/proc/1/ns/cgroup"});
  EXPECT_EQ(refusal(s),
            "invalid configuration: nesting: linux.namespaces: a cgroup namespace joined by path "
            "(/proc/1/ns/cgroup): the container must own one rooted at its cgroup");
}

TEST(ResolveNesting, SharedPropagation) {
  auto s = userns_spec(100000, 100000);
  s.linux->rootfsPropagation = "rshared";
  EXPECT_EQ(refusal(s),
            "invalid configuration: nesting: linux.rootfsPropagation \"rshared\": inner mounts "
            "would reach the host and outlive the container");
  s.linux->rootfsPropagation = "rslave";
  EXPECT_EQ(refusal(s), "accepted");
  s.mounts->push_back(spec::Mount{"/data", "/srv", spec::Strings{"rbind", "shared"}, "bind",
                                  std::nullopt, std::nullopt});
  EXPECT_EQ(refusal(s), "invalid configuration: nesting: mounts[" +
                            std::to_string(s.mounts->size() - 1) +
                            "] (/data): \"shared\": inner mounts would reach the host and outlive "
                            "the container");
}

TEST(ResolveNesting, V1BlkioThrottle) {
  auto s = userns_spec(100000, 100000);
  s.linux->resources.emplace().blockIO.emplace().throttleWriteIOPSDevice =
      std::vector<spec::ThrottleDevice>{{8, 0, 100}};
  EXPECT_EQ(refusal(s, {}, {.cgroup_v1 = true}),
            "invalid configuration: nesting: linux.resources.blockIO.throttleWriteIOPSDevice: "
            "cgroup v1 throttling is not hierarchical, inner containers would escape it");
  EXPECT_EQ(refusal(s, {}, {.cgroup_v1 = false}), "accepted");
}

TEST(ResolveNesting, DevicesFromConfig) {
  NestingConfig c;
  c.fuse = c.tun = true;
  auto r = resolve_nesting(userns_spec(100000, 100000), c, {});
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->devices, (spec::Strings{"fuse", "tun"}));
}

}  // namespace
}  // namespace hippo::runtime::native
