#include "base/logging.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "base/file_io.hpp"

namespace hippo::log {
namespace {

TEST(RuncLogFormat, JsonLineIsWhatGoRuncParses) {
  const auto line = format_log_line(LogFormat::json, log::Level::error, "config.json: \"x\" bad",
                                    "2026-01-01T00:00:00Z");
  EXPECT_EQ(line,
            R"({"level":"error","msg":"config.json: \"x\" bad","time":"2026-01-01T00:00:00Z"})");
  EXPECT_EQ(nlohmann::json::parse(line)["msg"], "config.json: \"x\" bad");
}

TEST(RuncLogFormat, TextLineIsLogrusStyle) {
  EXPECT_EQ(format_log_line(LogFormat::text, log::Level::warn, "a b", "T"),
            "time=\"T\" level=warning msg=\"a b\"");
}

TEST(RuncLogFormat, MessagesAreQuotedAsLogrusQuotesThem) {
  EXPECT_EQ(format_log_line(LogFormat::text, log::Level::fatal, "a\nb \"c\" \\ \x01 \xff", "T"),
            "time=\"T\" level=fatal msg=\"a\\nb \\\"c\\\" \\\\ \\u0001 \xef\xbf\xbd\"");
  EXPECT_EQ(format_log_line(LogFormat::json, log::Level::trace, "", "T"),
            R"({"level":"trace","msg":"","time":"T"})");
}

TEST(RuncLogFormat, FormatNamesAreChecked) {
  EXPECT_TRUE(parse_log_format("json"));
  EXPECT_EQ(parse_log_format("xml").error().message,
            "--log-format: must be \"text\" or \"json\", got \"xml\"");
}

}  // namespace
}  // namespace hippo::log

namespace hippo::log {
namespace {

TEST(Rfc3339, MatchesTheCalendarOfGmtime) {
  // Leap day, end of year, epoch, and a far date: the arithmetic agrees with libc's calendar.
  for (time_t t :
       {time_t{0}, time_t{951782400}, time_t{1767225599}, time_t{4102444800}, time_t{1796958306}}) {
    tm utc{};
    gmtime_r(&t, &utc);
    char want[64];
    strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &utc);
    EXPECT_EQ(rfc3339(timespec{t, 7}), std::string(want) + ".000000007Z") << t;
  }
  EXPECT_EQ(rfc3339(timespec{951782400, 123456789}), "2000-02-29T00:00:00.123456789Z");
}

}  // namespace
}  // namespace hippo::log

namespace hippo::log {
namespace {

// Through the logger: the level filter, whole lines with a newline each, the time in UTC.
TEST(Logger, WritesWholeJsonLinesAtItsLevel) {
  const std::string path = "/tmp/hippo-logging-test-" + std::to_string(::getpid()) + ".log";
  ::unlink(path.c_str());
  ASSERT_TRUE(init_logging(path, LogFormat::json, log::Level::info));
  const std::string long_message(1000, 'x');  // longer than spdlog's inline line buffer
  log::debug("not at info");
  EXPECT_FALSE(log::enabled(log::Level::debug));
  log::info("first");
  log::warn(long_message);
  log::set_level(log::Level::off);
  log::error("not when off");
  EXPECT_FALSE(log::enabled(log::Level::error));
  ASSERT_TRUE(init_logging("", LogFormat::text, log::Level::info));  // back to stderr
  auto text = read_text_file(path);
  ::unlink(path.c_str());
  ASSERT_TRUE(text);
  const auto lines = split_lines(*text);
  ASSERT_EQ(lines.size(), 2u) << *text;
  EXPECT_TRUE(text->ends_with("\n"));
  const auto first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["level"], "info");
  EXPECT_EQ(first["msg"], "first");
  const auto second = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(second["level"], "warning");
  EXPECT_EQ(second["msg"], long_message);
  const std::string time = first["time"];
  EXPECT_TRUE(std::regex_match(time, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)")))
      << time;
  // UTC, whatever TZ says: the same hour as rfc3339_now (or the next one).
  tm when{};
  ASSERT_NE(strptime(time.c_str(), "%Y-%m-%dT%H:%M:%S", &when), nullptr);
  const auto age = ::time(nullptr) - timegm(&when);
  EXPECT_GE(age, 0);
  EXPECT_LT(age, 3600);
}

}  // namespace
}  // namespace hippo::log
