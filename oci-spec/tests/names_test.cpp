#include "oci-spec/names.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>

namespace hippo::spec::names {
namespace {

TEST(Names, NamespacesMapToCloneFlags) {
  EXPECT_EQ(find(namespaces(), "pid"), CLONE_NEWPID);
  EXPECT_EQ(find(namespaces(), "network"), CLONE_NEWNET);
  EXPECT_EQ(find(namespaces(), "time"), 0x80);
  EXPECT_FALSE(find(namespaces(), "net"));
  EXPECT_EQ(namespaces().size(), 8u);
}

TEST(Names, CapabilitiesAreNumberedLikeTheKernel) {
  EXPECT_EQ(find(capabilities(), "CAP_CHOWN"), 0);
  EXPECT_EQ(find(capabilities(), "CAP_SYS_ADMIN"), 21);
  EXPECT_EQ(find(capabilities(), "CAP_CHECKPOINT_RESTORE"), 40);
  for (size_t i = 0; i < capabilities().size(); ++i) {
    EXPECT_EQ(capabilities()[i].value, static_cast<long>(i)) << capabilities()[i].name;
  }
}

TEST(Names, RlimitsMapToResourceNumbers) {
  EXPECT_EQ(find(rlimits(), "RLIMIT_NOFILE"), RLIMIT_NOFILE);
  EXPECT_EQ(rlimits().size(), 16u);
  EXPECT_FALSE(known(rlimits(), "NOFILE"));
}

TEST(Names, PropagationCarriesRecursiveFlag) {
  EXPECT_NE(*find(rootfs_propagations(), "rslave") & MS_REC, 0);
  EXPECT_EQ(*find(rootfs_propagations(), "slave") & MS_REC, 0);
}

}  // namespace
}  // namespace hippo::spec::names
