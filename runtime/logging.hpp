#pragma once
// Logging for the hippo binaries (spdlog). The CLI can log like runc: to --log, in logrus' text
// or JSON line format, because containerd's go-runc and Docker read the last error from that file.

#include <spdlog/spdlog.h>

#include <ctime>
#include <string>
#include <string_view>

#include "oci-spec/error.hpp"

namespace hippo::runtime {

enum class LogFormat { text, json };

Result<LogFormat> parse_log_format(std::string_view name);
Result<spdlog::level::level_enum> parse_log_level(std::string_view name);

// Sends the default logger to `path` (stderr when empty) in `format` at `level`.
Result<void> init_logging(const std::string& path, LogFormat format,
                          spdlog::level::level_enum level);

// Now as RFC 3339 in UTC with nanoseconds: "2026-11-27T23:52:01.123456789Z".
std::string rfc3339_now();
// `ts` (CLOCK_REALTIME) as RFC 3339 UTC with nanoseconds: 2026-11-28T04:05:06.000000007Z.
std::string rfc3339(const timespec& ts);

// One log line as runc writes it: {"level":"error","msg":"...","time":"..."} or
// time="..." level=error msg="...". Exposed for tests.
std::string format_log_line(LogFormat format, spdlog::level::level_enum level,
                            std::string_view message, std::string_view rfc3339_time);

}  // namespace hippo::runtime
