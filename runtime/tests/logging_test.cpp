#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "runtime/bundle.hpp"
#include "runtime/logging.hpp"

namespace hippo::runtime {
namespace {

TEST(RuncLogFormat, JsonLineIsWhatGoRuncParses) {
  const auto line = format_log_line(LogFormat::json, log::Level::error,
                                    "config.json: \"x\" bad", "2026-01-01T00:00:00Z");
  EXPECT_EQ(line,
            R"({"level":"error","msg":"config.json: \"x\" bad","time":"2026-01-01T00:00:00Z"})");
  EXPECT_EQ(nlohmann::json::parse(line)["msg"], "config.json: \"x\" bad");
}

TEST(RuncLogFormat, TextLineIsLogrusStyle) {
  EXPECT_EQ(format_log_line(LogFormat::text, log::Level::warn, "a b", "T"),
            "time=\"T\" level=warning msg=\"a b\"");
}

TEST(RuncLogFormat, FormatNamesAreChecked) {
  EXPECT_TRUE(parse_log_format("json"));
  EXPECT_EQ(parse_log_format("xml").error().message,
            "--log-format: must be \"text\" or \"json\", got \"xml\"");
}

TEST(ContainerId, RuncRulesApply) {
  EXPECT_TRUE(validate_container_id("abc-1.2_3+x"));
  for (auto bad : {"", ".", "..", "a/b", "a b", "a:b"}) {
    EXPECT_FALSE(validate_container_id(bad)) << bad;
  }
}

}  // namespace
}  // namespace hippo::runtime

namespace hippo::runtime {
namespace {

TEST(Rfc3339, MatchesTheCalendarOfGmtime) {
  // Leap day, end of year, epoch, and a far date: the arithmetic agrees with libc's calendar.
  for (time_t t : {time_t{0}, time_t{951782400}, time_t{1767225599}, time_t{4102444800}, time_t{1796958306}}) {
    tm utc{};
    gmtime_r(&t, &utc);
    char want[64];
    strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &utc);
    EXPECT_EQ(rfc3339(timespec{t, 7}), std::string(want) + ".000000007Z") << t;
  }
  EXPECT_EQ(rfc3339(timespec{951782400, 123456789}), "2000-02-29T00:00:00.123456789Z");
}

}  // namespace
}  // namespace hippo::runtime
