// The bounds every JSON document is read under (json_codec.hpp): size and nesting depth, with
// errors that say which limit and where.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "base/file_io.hpp"
#include "oci-spec/config.hpp"
#include "oci-spec/schema.hpp"
#include "oci-spec/state.hpp"

namespace hippo::spec {
namespace {

std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string error_of(const Result<void>& r) { return r ? "accepted" : r.error().message; }

// nlohmann throws out_of_range, not parse_error, for a number beyond a double: it used to
// escape parse() and terminate the process (found by fuzz/oci_config.cpp).
TEST(JsonBounds, ANumberBeyondADoubleIsAnError) {
  auto s = spec::parse(R"({"ociVersion": "1.0.2", "process": {"user": {"uid": 1e999}}})");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "config.json: invalid JSON: number overflow parsing '1e999'");
}

TEST(JsonBounds, DepthUpToTheLimitIsAccepted) {
  EXPECT_TRUE(check_json_bounds(nested(kMaxJsonDepth), "x"));
  std::string error;
  EXPECT_TRUE(parse_json_text(nested(kMaxJsonDepth), "x", error)) << error;
}

TEST(JsonBounds, OneLevelMoreIsRefusedWithItsPlace) {
  EXPECT_EQ(error_of(check_json_bounds(nested(kMaxJsonDepth + 1), "config.json")),
            "config.json: nesting deeper than 1000 levels at line 1, column 1001");
  EXPECT_EQ(error_of(check_json_bounds("{\n \"a\": " + std::string(2000, '{'), "p.json")),
            "p.json: nesting deeper than 1000 levels at line 2, column 1006");
}

TEST(JsonBounds, UnbalancedInputStopsAtTheLimit) {
  // 3 MiB of '[' never closed: refused at the 1001st, not parsed.
  std::string error;
  EXPECT_FALSE(parse_json_text(std::string(3 << 20, '['), "config.json", error));
  EXPECT_EQ(error, "config.json: nesting deeper than 1000 levels at line 1, column 1001");
}

TEST(JsonBounds, BracketsInStringsDoNotNest) {
  const std::string deep_string =
      "[\"" + std::string(5000, '[') + "\\\"" + std::string(5000, '{') + "\"]";
  EXPECT_TRUE(check_json_bounds(deep_string, "x"));
  std::string error;
  EXPECT_TRUE(parse_json_text(deep_string, "x", error)) << error;
  // An escaped backslash ends before the quote: the string closes there and brackets count again.
  EXPECT_FALSE(check_json_bounds("[\"\\\\\"" + std::string(1000, '['), "x"));
}

TEST(JsonBounds, SizeUpToTheLimitIsAcceptedOneByteMoreIsNot) {
  std::string text = "{}" + std::string(kMaxJsonBytes - 2, ' ');
  EXPECT_TRUE(check_json_bounds(text, "x"));
  text.push_back(' ');
  EXPECT_EQ(error_of(check_json_bounds(text, "config.json")),
            "config.json: 4194305 bytes is over the 4 MiB limit");
}

TEST(JsonBounds, EveryDocumentReaderChecks) {
  const std::string deep = "{\"a\":" + nested(kMaxJsonDepth) + "}";
  // The object is level 1: the 1000th '[' (column 5 + 1000) is level 1001.
  const std::string expected = ": nesting deeper than 1000 levels at line 1, column 1005";
  auto config = parse(deep);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message, "config.json" + expected);
  auto process = read_document<Process>(deep, "exec process");
  ASSERT_FALSE(process);
  EXPECT_EQ(process.error().message, "exec process" + expected);
  auto state = parse_runtime_state(deep, "state.json");
  ASSERT_FALSE(state);
  EXPECT_EQ(state.error().message, "state.json" + expected);
}

class JsonFile : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hippo-json-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(JsonFile, ABigFileIsRefusedBeforeItIsRead) {
  const std::string file = dir_ + "/config.json";
  // Sparse: 10 MB that were never written. Reading it would cost the time and memory the
  // limit is there to save; fstat says enough.
  { std::ofstream(file) << "["; }
  std::filesystem::resize_file(file, 10 << 20);
  auto text = read_json_file(file, "config.json");
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().message, "config.json: 10485760 bytes is over the 4 MiB limit");
  EXPECT_EQ(text.error().code, EFBIG);
  auto spec = load(file);
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().message, "config.json: 10485760 bytes is over the 4 MiB limit");
}

TEST_F(JsonFile, AStreamIsReadNoFurtherThanTheLimit) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  ::signal(SIGPIPE, SIG_IGN);  // the writer is cut off when the reader gives up
  std::thread writer([fd = p[1]] {
    const std::string chunk(1 << 16, ' ');
    for (size_t sent = 0; sent < (size_t{8} << 20);) {
      const ssize_t n = ::write(fd, chunk.data(), chunk.size());
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    ::close(fd);
  });
  auto text = read_json_file("/proc/self/fd/" + std::to_string(p[0]), "process.json");
  ::close(p[0]);
  writer.join();
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().message, "process.json: over the 4 MiB limit");
}

TEST_F(JsonFile, ASmallFileIsReadWhole) {
  const std::string file = dir_ + "/p.json";
  const std::string content = R"({"cwd":"/","user":{"uid":0,"gid":0},"args":["sh"]})";
  { std::ofstream(file) << content; }
  auto text = read_json_file(file, "p.json");
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, content);
  auto missing = read_json_file(dir_ + "/none.json", "none.json");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "open " + dir_ + "/none.json: No such file or directory");
}

// RLIM_INFINITY is 2^64-1 in config.json (runc writes it so); it is an integer, not a float.
TEST(JsonIntegers, Uint64MaxIsReadExactly) {
  auto j = to_json(default_spec());
  j["process"]["rlimits"] = Json::parse(
      R"([{"type":"RLIMIT_NOFILE","hard":18446744073709551615,"soft":18446744073709551615}])");
  auto spec = parse(j.dump());
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ((*spec->process->rlimits)[0].hard, UINT64_MAX);
  EXPECT_EQ((*spec->process->rlimits)[0].soft, UINT64_MAX);
  EXPECT_TRUE(validate(*spec));
  EXPECT_NE(serialize(*spec).find("18446744073709551615"), std::string::npos);
}

TEST(JsonIntegers, BeyondUint64IsOutOfRangeNotAFloat) {
  std::string text = to_json(default_spec()).dump();
  const std::string rlimits =
      R"("rlimits":[{"type":"RLIMIT_NOFILE","hard":18446744073709551616,"soft":1}])";
  text.insert(text.find("\"process\":{") + 11, rlimits + ",");
  auto spec = parse(text);
  ASSERT_FALSE(spec);
  const auto column = std::to_string(text.find("18446744073709551616") + 1);
  EXPECT_EQ(spec.error().message, "config.json: 18446744073709551616 at line 1, column " + column +
                                      " is out of range for a 64-bit integer");
}

TEST(JsonIntegers, TheScanKnowsWhereIntegersEnd) {
  EXPECT_TRUE(check_json_bounds("[18446744073709551615,-9223372036854775808,0,-1]", "x"));
  EXPECT_TRUE(check_json_bounds(
      "[184467440737095516150.5,1e400,1e-99999999999999999999,\"99999999999999999999\"]", "x"));
  EXPECT_EQ(error_of(check_json_bounds("{\"a\":\n  [-9223372036854775809]}", "x")),
            "x: -9223372036854775809 at line 2, column 4 is out of range for a 64-bit integer");
  EXPECT_EQ(error_of(check_json_bounds("[99999999999999999999]", "x")),
            "x: 99999999999999999999 at line 1, column 2 is out of range for a 64-bit integer");
}

}  // namespace
}  // namespace hippo::spec
