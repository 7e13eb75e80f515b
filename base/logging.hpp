#pragma once
// Logging for the hippo binaries, over spdlog: whole logrus lines (text or JSON), as runc writes
// them, because containerd's go-runc and Docker read the last error from runc's --log file, and
// containerd copies the shim's lines from its log FIFO. One write(2) per line; timestamps in UTC
// without the C library's time-zone code. Messages are built by the caller.

#include <ctime>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace hippo::log {

// Ordered by severity; names as config.yaml's log_level spells them.
enum class Level { trace, debug, info, warn, error, fatal, off };

// Until init_logging runs, lines go to stderr in text format at level info.
void set_level(Level level);
bool enabled(Level level);
// One line with one write(2); best effort (a log line that cannot be written fails nothing).
void write(Level level, std::string_view message);

inline void trace(std::string_view m) {
  if (enabled(Level::trace)) write(Level::trace, m);
}
inline void debug(std::string_view m) {
  if (enabled(Level::debug)) write(Level::debug, m);
}
inline void info(std::string_view m) {
  if (enabled(Level::info)) write(Level::info, m);
}
inline void warn(std::string_view m) {
  if (enabled(Level::warn)) write(Level::warn, m);
}
inline void error(std::string_view m) {
  if (enabled(Level::error)) write(Level::error, m);
}

}  // namespace hippo::log

namespace hippo::log {

enum class LogFormat { text, json };

Result<LogFormat> parse_log_format(std::string_view name);
// trace, debug, info, warn/warning, error/err, critical/fatal, off.
Result<log::Level> parse_log_level(std::string_view name);

// Sends log lines to `path` (O_APPEND; stderr when empty) in `format` at `level`.
Result<void> init_logging(const std::string& path, LogFormat format, log::Level level);

// Now as RFC 3339 in UTC with nanoseconds: "2026-11-27T23:52:01.123456789Z".
std::string rfc3339_now();
// `ts` (CLOCK_REALTIME) as RFC 3339 UTC with nanoseconds: 2026-11-28T04:05:06.000000007Z.
std::string rfc3339(const timespec& ts);

// One log line as runc writes it: {"level":"error","msg":"...","time":"..."} or
// time="..." level=error msg="...". Exposed for tests.
std::string format_log_line(LogFormat format, log::Level level, std::string_view message,
                            std::string_view rfc3339_time);

}  // namespace hippo::log
