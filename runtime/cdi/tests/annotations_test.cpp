#include "runtime/cdi/annotations.hpp"

#include <gtest/gtest.h>

namespace hippo::cdi {
namespace {

TEST(CdiAnnotations, SplitsEveryCdiKeyAndIgnoresOthers) {
  auto r = parse_annotations({{"cdi.k8s.io/gpu", "example.com/gpu=gpu0,example.com/gpu=gpu1"},
                              {"cdi.k8s.io/nic", "example.com/nic=eth"},
                              {"io.kubernetes.cri.container-type", "container"},
                              {"nvidia.cdi.k8s.io/x", "not checked"}});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].device, "example.com/gpu=gpu0");
  EXPECT_EQ((*r)[0].annotation, "cdi.k8s.io/gpu");
  EXPECT_EQ((*r)[1].device, "example.com/gpu=gpu1");
  EXPECT_EQ((*r)[2].device, "example.com/nic=eth");
}

TEST(CdiAnnotations, ADeviceAskedTwiceIsAppliedOnce) {
  auto r = parse_annotations(
      {{"cdi.k8s.io/a", "example.com/gpu=gpu0"}, {"cdi.k8s.io/b", "example.com/gpu=gpu0"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].annotation, "cdi.k8s.io/a");
}

TEST(CdiAnnotations, ErrorsNameTheAnnotation) {
  EXPECT_EQ(parse_annotations({{"cdi.k8s.io/gpu", "gpu0"}}).error().message,
            "annotation \"cdi.k8s.io/gpu\": \"gpu0\" is not a fully-qualified CDI device name "
            "(vendor.com/class=name): missing \"=\"");
  // An empty item (a trailing comma) is not a name either.
  EXPECT_EQ(parse_annotations({{"cdi.k8s.io/gpu", "example.com/gpu=gpu0,"}}).error().message,
            "annotation \"cdi.k8s.io/gpu\": \"\" is not a fully-qualified CDI device name "
            "(vendor.com/class=name): missing \"=\"");
  EXPECT_EQ(parse_annotations({{"cdi.k8s.io/", "example.com/gpu=gpu0"}}).error().message,
            "annotation \"cdi.k8s.io/\": the name after the prefix is empty");
  EXPECT_EQ(parse_annotations({{"cdi.k8s.io/-gpu", "example.com/gpu=gpu0"}}).error().message,
            "annotation \"cdi.k8s.io/-gpu\": the name after the prefix must start and end with a "
            "letter or digit");
  EXPECT_EQ(
      parse_annotations({{"cdi.k8s.io/a/b", "example.com/gpu=gpu0"}}).error().message,
      "annotation \"cdi.k8s.io/a/b\": the name after the prefix has an invalid character '/'");
  EXPECT_EQ(parse_annotations({{"cdi.k8s.io/" + std::string(64, 'a'), "example.com/gpu=gpu0"}})
                .error()
                .kind(),
            ErrorKind::invalid_argument);
  EXPECT_TRUE(parse_annotations({{"cdi.k8s.io/" + std::string(63, 'a'), "example.com/gpu=gpu0"}}));
}

}  // namespace
}  // namespace hippo::cdi
