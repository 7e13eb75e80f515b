#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>

#include "oci-spec/config.hpp"
#include "oci-spec/schema.hpp"

namespace hippo::spec {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Order-insensitive comparison: JSON objects are unordered.
nlohmann::json plain(const std::string& text) { return nlohmann::json::parse(text); }

const std::string kRich = std::string(HIPPO_SPEC_TESTDATA) + "/rich-config.json";

TEST(SpecRoundTrip, DefaultSpecSerializesParsesAndSerializesIdentically) {
  for (bool rootless : {false, true}) {
    const auto text = serialize(default_spec(rootless, 1000, 1000));
    auto parsed = parse(text);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_TRUE(validate(*parsed)) << validate(*parsed).error().message;
    EXPECT_EQ(serialize(*parsed), text) << "rootless=" << rootless;
  }
}

TEST(SpecRoundTrip, DefaultSpecHasRuncDefaultContent) {
  const auto j = plain(serialize(default_spec()));
  EXPECT_EQ(j["process"]["args"], nlohmann::json::array({"sh"}));
  EXPECT_EQ(j["root"]["path"], "rootfs");
  EXPECT_EQ(j["mounts"].size(), 7u);
  EXPECT_EQ(j["linux"]["namespaces"].size(), 5u);
  EXPECT_EQ(j["linux"]["resources"]["devices"][0]["access"], "rwm");
  EXPECT_EQ(j["process"]["rlimits"][0]["type"], "RLIMIT_NOFILE");
}

TEST(SpecRoundTrip, RichConfigKeepsEveryProperty) {
  const auto text = read_file(kRich);
  auto parsed = parse(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  auto valid = validate(*parsed);
  ASSERT_TRUE(valid) << valid.error().message;
  EXPECT_EQ(plain(serialize(*parsed)), plain(text));
}

// Walks the schema and records which optional properties an object sets and which it leaves
// unset (array items and map values folded into "[]" and "{}"), so the rich fixture provably
// exercises every field of the model.
class Coverage {
 public:
  std::set<std::string> set, unset;

  template <class T>
  void operator()(std::string_view key, const T& field) {
    const std::string at = path_ + "." + std::string(key);
    if constexpr (codec::IsOptional<T>::value) {
      if (!field) {
        unset.insert(at);
        return;
      }
      set.insert(at);
      visit(at, *field);
    } else {
      set.insert(at);
      visit(at, field);
    }
  }

 private:
  std::string path_;

  template <class T>
  void visit(const std::string& at, const T& v) {
    if constexpr (codec::IsVector<T>::value) {
      for (const auto& item : v) visit(at + "[]", item);
    } else if constexpr (codec::IsStringMap<T>::value) {
      for (const auto& [k, item] : v) visit(at + "{}", item);
    } else if constexpr (!std::is_arithmetic_v<T> && !std::is_same_v<T, std::string>) {
      const auto saved = path_;
      path_ = at;
      describe(*this, v);
      path_ = saved;
    }
  }
};

TEST(SpecRoundTrip, RichConfigSetsEveryModelField) {
  auto parsed = parse(read_file(kRich));
  ASSERT_TRUE(parsed);
  Coverage coverage;
  describe(coverage, std::as_const(*parsed));
  for (const auto& path : coverage.unset) {
    EXPECT_TRUE(coverage.set.contains(path)) << "the rich fixture never sets " << path;
  }
  EXPECT_GT(coverage.set.size(), 200u);
}

TEST(SpecParse, NullMeansAbsent) {
  auto s = parse(R"({"ociVersion":"1.0.2","root":{"path":"r"},"hostname":null,"linux":null})");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_FALSE(s->hostname);
  EXPECT_FALSE(s->linux);
}

TEST(SpecParse, UnknownPropertiesAreIgnoredAsTheSpecRequires) {
  auto s = parse(R"({"ociVersion":"1.0.2","root":{"path":"r"},"windows":{"x":1},"vm":{}})");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_FALSE(plain(serialize(*s)).contains("windows"));
}

TEST(SpecParse, LargestUnsignedValuesSurvive) {
  auto s = parse(read_file(kRich));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->process->rlimits->at(1).hard, UINT64_MAX);
  EXPECT_EQ(s->linux->resources->blockIO->weight, 500);
}

TEST(SpecParse, SyntaxErrorNamesLineAndColumn) {
  auto s = parse("{\n  \"ociVersion\": \"1.0.0\",\n  \"root\": {path}\n}");
  ASSERT_FALSE(s);
  EXPECT_TRUE(s.error().message.starts_with("config.json: invalid JSON at line 3, column 12:"))
      << s.error().message;
}

TEST(SpecParse, TopLevelMustBeAnObject) {
  auto s = parse("[1,2]");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "config.json: expected a JSON object at the top level, got array");
}

TEST(SpecLoad, MissingFileNamesThePathAndErrno) {
  auto s = load("/nonexistent-hippo-dir/config.json");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ENOENT);
  EXPECT_EQ(s.error().message,
            "open /nonexistent-hippo-dir/config.json: No such file or directory");
}

}  // namespace
}  // namespace hippo::spec
