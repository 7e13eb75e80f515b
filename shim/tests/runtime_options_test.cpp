#include "shim/runtime_options.hpp"

#include <gtest/gtest.h>

#include "containerd/linux/runctypes.pb-c.h"
#include "containerd/runc/options.pb-c.h"
#include "shim/proto_util.hpp"

namespace hippo::shim {
namespace {

TEST(RuntimeOptions, RuncOptionsCarryShimCgroupRootAndTheCreateFlags) {
  Containerd__Runc__V1__Options o = CONTAINERD__RUNC__V1__OPTIONS__INIT;
  o.shim_cgroup = const_cast<char*>("/shims");
  o.root = const_cast<char*>("/run/r");
  o.no_pivot_root = true;
  o.no_new_keyring = true;
  const auto got = decode_runtime_options("containerd.runc.v1.Options", pack(o));
  EXPECT_EQ(got.shim_cgroup, "/shims");
  EXPECT_EQ(got.root, "/run/r");
  EXPECT_TRUE(got.no_pivot_root);
  EXPECT_TRUE(got.no_new_keyring);
}

// What ctr's --no-pivot (WithNoPivotRoot, WithNoNewKeyring) sends to a runtime whose name is not
// io.containerd.runc.*.
TEST(RuntimeOptions, LinuxRuncCreateOptionsFromCtr) {
  Containerd__Linux__Runc__CreateOptions o = CONTAINERD__LINUX__RUNC__CREATE_OPTIONS__INIT;
  o.no_pivot_root = true;
  o.no_new_keyring = true;
  o.shim_cgroup = const_cast<char*>("/shims");
  const auto got = decode_runtime_options("containerd.linux.runc.CreateOptions", pack(o));
  EXPECT_TRUE(got.no_pivot_root);
  EXPECT_TRUE(got.no_new_keyring);
  EXPECT_EQ(got.shim_cgroup, "/shims");
  EXPECT_FALSE(decode_runtime_options("other.Type", pack(o)).no_pivot_root);
}

}  // namespace
}  // namespace hippo::shim
