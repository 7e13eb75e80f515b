#include "logging.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

namespace hippo::runtime {
namespace {

// logrus level names, which go-runc matches on ("error", "warning", …).
std::string_view logrus_level(log::Level level) {
  switch (level) {
    case log::Level::trace:
      return "trace";
    case log::Level::debug:
      return "debug";
    case log::Level::info:
      return "info";
    case log::Level::warn:
      return "warning";
    case log::Level::error:
      return "error";
    case log::Level::fatal:
      return "fatal";
    default:
      return "info";
  }
}

// Set once by init_logging before any other thread runs; lines are whole single write(2)s on
// an O_APPEND fd, so lines from concurrent hippo processes sharing one --log file never
// interleave and no lock is needed.
struct Sink {
  int fd = STDERR_FILENO;
  LogFormat format = LogFormat::text;
  log::Level level = log::Level::info;
};
Sink sink;

// `value` as `width` decimal digits, zero-padded.
void append_digits(std::string& out, long value, int width) {
  char buf[20];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buf, static_cast<size_t>(width));
}

}  // namespace

// Calendar arithmetic only: gmtime_r would load the time-zone database on first use (and
// strftime/snprintf the printf machinery), ~0.3 MB of libc pages in every shim that logs.
std::string rfc3339_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return rfc3339(ts);
}

std::string rfc3339(const timespec& ts) {
  using namespace std::chrono;
  const sys_seconds secs{seconds{ts.tv_sec}};
  const auto day = floor<days>(secs);
  const year_month_day date{day};
  const hh_mm_ss<seconds> time{secs - day};
  std::string out;
  out.reserve(30);
  append_digits(out, static_cast<int>(date.year()), 4);
  out += '-';
  append_digits(out, static_cast<unsigned>(date.month()), 2);
  out += '-';
  append_digits(out, static_cast<unsigned>(date.day()), 2);
  out += 'T';
  append_digits(out, time.hours().count(), 2);
  out += ':';
  append_digits(out, time.minutes().count(), 2);
  out += ':';
  append_digits(out, time.seconds().count(), 2);
  out += '.';
  append_digits(out, ts.tv_nsec, 9);
  out += 'Z';
  return out;
}

Result<LogFormat> parse_log_format(std::string_view name) {
  if (name == "text") return LogFormat::text;
  if (name == "json") return LogFormat::json;
  return fail("--log-format: must be \"text\" or \"json\", got \"" + std::string(name) + "\"");
}

Result<log::Level> parse_log_level(std::string_view name) {
  static constexpr struct {
    std::string_view name;
    log::Level level;
  } kNames[] = {{"trace", log::Level::trace}, {"debug", log::Level::debug},
                {"info", log::Level::info},   {"warn", log::Level::warn},
                {"warning", log::Level::warn}, {"error", log::Level::error},
                {"err", log::Level::error},   {"critical", log::Level::fatal},
                {"fatal", log::Level::fatal}, {"off", log::Level::off}};
  for (const auto& n : kNames) {
    if (n.name == name) return n.level;
  }
  return fail("log level: unknown level \"" + std::string(name) + "\"");
}

std::string format_log_line(LogFormat format, log::Level level,
                            std::string_view message, std::string_view time) {
  if (format == LogFormat::json) {
    nlohmann::ordered_json j;
    j["level"] = logrus_level(level);
    j["msg"] = std::string(message);
    j["time"] = std::string(time);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  const auto quoted = nlohmann::json(std::string(message))
                          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return "time=\"" + std::string(time) + "\" level=" + std::string(logrus_level(level)) +
         " msg=" + quoted;
}

Result<void> init_logging(const std::string& path, LogFormat format, log::Level level) {
  int fd = STDERR_FILENO;
  if (!path.empty()) {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return fail_errno("open log file " + path);
  }
  if (sink.fd != STDERR_FILENO) ::close(sink.fd);
  sink = Sink{fd, format, level};
  return {};
}

}  // namespace hippo::runtime

namespace hippo::log {

void set_level(Level level) { runtime::sink.level = level; }

bool enabled(Level level) { return level != Level::off && level >= runtime::sink.level; }

void write(Level level, std::string_view message) {
  const auto line = runtime::format_log_line(runtime::sink.format, level, message, runtime::rfc3339_now()) + "\n";
  [[maybe_unused]] auto n = ::write(runtime::sink.fd, line.data(), line.size());
}

}  // namespace hippo::log
