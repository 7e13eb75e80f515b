#include "base/logging.hpp"

#include <fcntl.h>
#include <fmt/compile.h>
#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/sink.h>
#include <unistd.h>

#include <chrono>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>

namespace hippo::log {
namespace {

spdlog::level::level_enum to_spdlog(log::Level level) {
  switch (level) {
    case log::Level::trace:
      return spdlog::level::trace;
    case log::Level::debug:
      return spdlog::level::debug;
    case log::Level::info:
      return spdlog::level::info;
    case log::Level::warn:
      return spdlog::level::warn;
    case log::Level::error:
      return spdlog::level::err;
    case log::Level::fatal:
      return spdlog::level::critical;
    default:
      return spdlog::level::off;
  }
}

// logrus level names, which go-runc matches on ("error", "warning", …).
std::string_view logrus_level(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::warn:
      return "warning";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "fatal";
    default:
      return "info";
  }
}

void append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

// Calendar arithmetic only: gmtime_r would load the time-zone database on first use (so would
// spdlog's own time flags, through localtime_r or gmtime_r), ~0.3 MB of libc pages in every
// shim that logs.
template <typename Out>
Out format_rfc3339(Out out, const timespec& ts) {
  using namespace std::chrono;
  const sys_seconds secs{seconds{ts.tv_sec}};
  const auto day = floor<days>(secs);
  const year_month_day date{day};
  const hh_mm_ss<seconds> time{secs - day};
  // Compiled format: fmt's run-time formatter would link its floating-point writers (and libm).
  return fmt::format_to(out, FMT_COMPILE("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z"),
                        static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                        static_cast<unsigned>(date.day()), time.hours().count(),
                        time.minutes().count(), time.seconds().count(), ts.tv_nsec);
}

// The message as a JSON string, quotes included (invalid UTF-8 replaced by U+FFFD), as logrus
// quotes it in both formats.
void append_quoted(spdlog::memory_buf_t& dest, spdlog::string_view_t message) {
  append(dest, nlohmann::json(std::string(message.data(), message.size()))
                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// runc's two --log-format shapes, logrus' TextFormatter and JSONFormatter (keys sorted):
//   time="2026-11-27T23:52:01.123456789Z" level=error msg="..."
//   {"level":"error","msg":"...","time":"2026-11-27T23:52:01.123456789Z"}
void append_line(spdlog::memory_buf_t& dest, LogFormat format, const spdlog::details::log_msg& msg,
                 std::string_view time) {
  const auto level = logrus_level(msg.level);
  if (format == LogFormat::json) {
    append(dest, R"({"level":")");
    append(dest, level);
    append(dest, R"(","msg":)");
    append_quoted(dest, msg.payload);
    append(dest, R"(,"time":")");
    append(dest, time);
    append(dest, "\"}\n");
  } else {
    append(dest, R"(time=")");
    append(dest, time);
    append(dest, R"(" level=)");
    append(dest, level);
    append(dest, " msg=");
    append_quoted(dest, msg.payload);
    append(dest, "\n");
  }
}

// spdlog's formatter for logrus lines. Not spdlog's pattern_formatter: its time flags read the
// local time zone, and its flag table (a std::unordered_map) links libm and ~50 flag classes.
class LogrusFormatter final : public spdlog::formatter {
 public:
  explicit LogrusFormatter(LogFormat format) : format_(format) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(msg.time.time_since_epoch()).count();
    char time[40];
    const auto end = format_rfc3339(time, timespec{ns / 1'000'000'000, ns % 1'000'000'000});
    append_line(dest, format_, msg, std::string_view(time, static_cast<size_t>(end - time)));
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LogrusFormatter>(format_);
  }

 private:
  LogFormat format_;
};

// Each line is one write(2) on an O_APPEND fd, unbuffered (spdlog's file sinks go through
// stdio's buffer): lines from concurrent hippo processes sharing one --log file never
// interleave, and containerd, reading the shim's `log` FIFO, gets whole lines (a pipe write of
// up to PIPE_BUF bytes is atomic). Thread-safe without a lock: the formatter keeps no state and
// the line is built on the stack.
class FdSink final : public spdlog::sinks::sink {
 public:
  FdSink(int fd, LogFormat format)
      : fd_(fd), formatter_(std::make_unique<LogrusFormatter>(format)) {}
  ~FdSink() override {
    if (fd_ != STDERR_FILENO) ::close(fd_);
  }
  FdSink(const FdSink&) = delete;
  FdSink& operator=(const FdSink&) = delete;

  void log(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    // Best effort: a log line that cannot be written fails nothing.
    [[maybe_unused]] auto n = ::write(fd_, line.data(), line.size());
  }
  void flush() override {}
  // The line format is logrus', whatever pattern is asked for.
  void set_pattern(const std::string&) override {}
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    formatter_ = std::move(formatter);
  }

 private:
  int fd_;
  std::unique_ptr<spdlog::formatter> formatter_;
};

// Until init_logging: stderr, text, info.
spdlog::logger& logger() {
  static spdlog::logger instance = [] {
    spdlog::logger l("hippo", std::make_shared<FdSink>(STDERR_FILENO, LogFormat::text));
    l.set_level(spdlog::level::info);
    return l;
  }();
  return instance;
}

}  // namespace

std::string rfc3339_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return rfc3339(ts);
}

std::string rfc3339(const timespec& ts) {
  std::string out;
  out.reserve(30);
  format_rfc3339(std::back_inserter(out), ts);
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
  } kNames[] = {{"trace", log::Level::trace},  {"debug", log::Level::debug},
                {"info", log::Level::info},    {"warn", log::Level::warn},
                {"warning", log::Level::warn}, {"error", log::Level::error},
                {"err", log::Level::error},    {"critical", log::Level::fatal},
                {"fatal", log::Level::fatal},  {"off", log::Level::off}};
  for (const auto& n : kNames) {
    if (n.name == name) return n.level;
  }
  return fail("log level: unknown level \"" + std::string(name) + "\"");
}

std::string format_log_line(LogFormat format, log::Level level, std::string_view message,
                            std::string_view time) {
  const spdlog::details::log_msg msg("hippo", to_spdlog(level),
                                     spdlog::string_view_t(message.data(), message.size()));
  spdlog::memory_buf_t line;
  append_line(line, format, msg, time);
  return std::string(line.data(), line.size() - 1);  // without the newline
}

Result<void> init_logging(const std::string& path, LogFormat format, log::Level level) {
  int fd = STDERR_FILENO;
  if (!path.empty()) {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return fail_errno("open log file " + path);
  }
  // Before any other thread runs: the sink list is not guarded.
  auto& sinks = logger().sinks();
  sinks.clear();
  sinks.push_back(std::make_shared<FdSink>(fd, format));
  logger().set_level(to_spdlog(level));
  return {};
}

}  // namespace hippo::log

namespace hippo::log {

void set_level(Level level) { logger().set_level(to_spdlog(level)); }

bool enabled(Level level) { return level != Level::off && logger().should_log(to_spdlog(level)); }

void write(Level level, std::string_view message) {
  if (level == Level::off) return;
  logger().log(to_spdlog(level), spdlog::string_view_t(message.data(), message.size()));
}

}  // namespace hippo::log
