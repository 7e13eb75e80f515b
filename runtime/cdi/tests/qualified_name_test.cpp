#include "runtime/cdi/qualified_name.hpp"

#include <gtest/gtest.h>

namespace hippo::cdi {
namespace {

TEST(QualifiedName, SplitsVendorClassAndName) {
  auto q = parse_qualified_name("example.com/gpu=gpu0");
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->vendor, "example.com");
  EXPECT_EQ(q->klass, "gpu");
  EXPECT_EQ(q->name, "gpu0");
  EXPECT_EQ(q->str(), "example.com/gpu=gpu0");
}

TEST(QualifiedName, AllowsTheReferencePunctuation) {
  EXPECT_TRUE(parse_qualified_name("foo.bar.baz/foo-bar123.B_az=0:1.a-b_c"));
  EXPECT_TRUE(parse_qualified_name("v/c=0"));  // one-character parts
}

TEST(QualifiedName, SaysWhatIsMissingOrWrong) {
  const std::string head = " is not a fully-qualified CDI device name (vendor.com/class=name): ";
  EXPECT_EQ(parse_qualified_name("gpu0").error().message, "\"gpu0\"" + head + "missing \"=\"");
  EXPECT_EQ(parse_qualified_name("gpu=0").error().message, "\"gpu=0\"" + head + "missing vendor");
  EXPECT_EQ(parse_qualified_name("example.com/=0").error().message,
            "\"example.com/=0\"" + head + "missing class");
  EXPECT_EQ(parse_qualified_name("example.com/gpu=").error().message,
            "\"example.com/gpu=\"" + head + "missing device name");
  EXPECT_EQ(parse_qualified_name("1x.com/gpu=0").error().message,
            "\"1x.com/gpu=0\"" + head + "vendor \"1x.com\" must start with a letter");
  EXPECT_EQ(parse_qualified_name("example.com/gpu/x=0").error().message,
            "\"example.com/gpu/x=0\"" + head + "class \"gpu/x\" has an invalid character '/'");
  EXPECT_EQ(
      parse_qualified_name("example.com/gpu=gpu0-").error().message,
      "\"example.com/gpu=gpu0-\"" + head + "device name \"gpu0-\" must end with a letter or digit");
  EXPECT_EQ(parse_qualified_name("example.com/gpu=a b").error().message,
            "\"example.com/gpu=a b\"" + head + "device name \"a b\" has an invalid character ' '");
}

TEST(QualifiedName, KindNeedsVendorAndClass) {
  EXPECT_TRUE(parse_kind("vendor.com/foo"));
  EXPECT_EQ(parse_kind("foo").error().message, "kind \"foo\" is not of the form vendor.com/class");
  EXPECT_FALSE(parse_kind("vendor.com/foo/"));
  EXPECT_FALSE(parse_kind("vendor.com/foo/bar"));
}

}  // namespace
}  // namespace hippo::cdi
