#include "logging.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <mutex>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>

namespace hippo::runtime {
namespace {

// logrus level names, which go-runc matches on ("error", "warning", …).
std::string_view logrus_level(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
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

// Appends whole lines with one write(2) on an O_APPEND fd, so lines from concurrent hippo
// processes sharing one --log file never interleave.
class LineSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  LineSink(int fd, bool owned, LogFormat format) : fd_(fd), owned_(owned), format_(format) {}
  ~LineSink() override {
    if (owned_) ::close(fd_);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string_view text(msg.payload.data(), msg.payload.size());
    const auto line = format_log_line(format_, msg.level, text, rfc3339_now()) + "\n";
    // Best effort: a log line that cannot be written must not fail the command.
    [[maybe_unused]] auto n = ::write(fd_, line.data(), line.size());
  }
  void flush_() override {}

 private:
  int fd_;
  bool owned_;
  LogFormat format_;
};

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
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     time.hours().count(), time.minutes().count(), time.seconds().count(),
                     ts.tv_nsec);
}

Result<LogFormat> parse_log_format(std::string_view name) {
  if (name == "text") return LogFormat::text;
  if (name == "json") return LogFormat::json;
  return fail("--log-format: must be \"text\" or \"json\", got \"" + std::string(name) + "\"");
}

Result<spdlog::level::level_enum> parse_log_level(std::string_view name) {
  auto level = spdlog::level::from_str(std::string(name));
  if (level == spdlog::level::off && name != "off") {
    return fail("log level: unknown level \"" + std::string(name) + "\"");
  }
  return level;
}

std::string format_log_line(LogFormat format, spdlog::level::level_enum level,
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

Result<void> init_logging(const std::string& path, LogFormat format,
                          spdlog::level::level_enum level) {
  int fd = STDERR_FILENO;
  bool owned = false;
  if (!path.empty()) {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return fail_errno("open log file " + path);
    owned = true;
  }
  auto logger = std::make_shared<spdlog::logger>("hippo", std::make_shared<LineSink>(fd, owned, format));
  logger->set_level(level);
  spdlog::set_default_logger(std::move(logger));
  return {};
}

}  // namespace hippo::runtime
