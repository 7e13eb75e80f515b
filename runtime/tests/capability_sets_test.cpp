#include <gtest/gtest.h>

#include "oci-spec/config.hpp"
#include "runtime/linux/init_plan.hpp"

namespace hippo::os {
namespace {

uint64_t bit(int n) { return uint64_t{1} << n; }

TEST(CapabilitySets, NamesBecomeBitsPerSet) {
  spec::Capabilities caps;
  caps.bounding = spec::Strings{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  caps.effective = spec::Strings{"CAP_KILL"};
  caps.permitted = spec::Strings{"CAP_KILL", "CAP_CHOWN"};
  caps.inheritable = spec::Strings{"CAP_CHOWN"};
  caps.ambient = spec::Strings{"CAP_CHOWN"};
  std::vector<std::string> warnings;
  auto sets = build_capability_sets(caps, 40, warnings);
  ASSERT_TRUE(sets) << sets.error().message;
  EXPECT_TRUE(sets->apply);
  EXPECT_EQ(sets->bounding, bit(0) | bit(5) | bit(10));
  EXPECT_EQ(sets->effective, bit(5));
  EXPECT_EQ(sets->permitted, bit(5) | bit(0));
  EXPECT_EQ(sets->inheritable, bit(0));
  EXPECT_EQ(sets->ambient, bit(0));
  EXPECT_TRUE(warnings.empty());
}

TEST(CapabilitySets, UnknownNameIsAnErrorNamingSetAndName) {
  spec::Capabilities caps;
  caps.effective = spec::Strings{"CAP_KILL", "CAP_FLY"};
  std::vector<std::string> warnings;
  auto sets = build_capability_sets(caps, 40, warnings);
  ASSERT_FALSE(sets);
  EXPECT_EQ(sets.error().message, "process.capabilities.effective: unknown capability \"CAP_FLY\"");
}

TEST(CapabilitySets, CapabilitiesAboveTheKernelsLastAreSkippedWithAWarning) {
  spec::Capabilities caps;
  caps.bounding = spec::Strings{"CAP_CHECKPOINT_RESTORE", "CAP_KILL"};  // 40 and 5
  std::vector<std::string> warnings;
  auto sets = build_capability_sets(caps, 37, warnings);
  ASSERT_TRUE(sets);
  EXPECT_EQ(sets->bounding, bit(5));
  EXPECT_EQ(sets->last_cap, 37);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("CAP_CHECKPOINT_RESTORE"), std::string::npos);
}

TEST(CapabilitySets, AmbientOutsidePermittedAndInheritableIsLeftOut) {
  spec::Capabilities caps;
  caps.permitted = spec::Strings{"CAP_KILL", "CAP_CHOWN"};
  caps.inheritable = spec::Strings{"CAP_CHOWN"};
  caps.ambient = spec::Strings{"CAP_KILL", "CAP_CHOWN"};
  std::vector<std::string> warnings;
  auto sets = build_capability_sets(caps, 40, warnings);
  ASSERT_TRUE(sets);
  EXPECT_EQ(sets->ambient, bit(0));
}

TEST(CapabilitySets, PlanAppliesThemOnlyWhenTheSpecHasCapabilities) {
  auto s = spec::default_spec();
  s.process->terminal = false;
  auto with = build_init_plan(s, "/b/rootfs", {});
  ASSERT_TRUE(with) << with.error().message;
  EXPECT_TRUE(with->caps.apply);
  EXPECT_EQ(with->caps.bounding,
            bit(29) | bit(5) | bit(10));  // AUDIT_WRITE, KILL, NET_BIND_SERVICE
  s.process->capabilities.reset();
  auto without = build_init_plan(s, "/b/rootfs", {});
  ASSERT_TRUE(without);
  EXPECT_FALSE(without->caps.apply);
}

}  // namespace
}  // namespace hippo::os
