#include "runtime/cli/signals.hpp"

#include <signal.h>

#include <algorithm>
#include <charconv>

namespace hippo::cli {
namespace {

struct Named {
  std::string_view name;
  int number;
};

constexpr Named kSignals[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM},     {"BUS", SIGBUS},       {"CHLD", SIGCHLD},
    {"CONT", SIGCONT}, {"FPE", SIGFPE},       {"HUP", SIGHUP},       {"ILL", SIGILL},
    {"INT", SIGINT},   {"IO", SIGIO},         {"IOT", SIGIOT},       {"KILL", SIGKILL},
    {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},     {"PROF", SIGPROF},     {"PWR", SIGPWR},
    {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},     {"STKFLT", SIGSTKFLT}, {"STOP", SIGSTOP},
    {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},     {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},       {"USR1", SIGUSR1},
    {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},   {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},
};

}  // namespace

std::optional<int> parse_signal(std::string_view name) {
  int number = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), number);
  if (ec == std::errc() && end == name.data() + name.size()) {
    // 0 delivers nothing: kill(2) only checks that the process exists (runc passes it on).
    if (number >= 0 && number < NSIG) return number;
    return std::nullopt;
  }
  if (name.starts_with("SIG")) name.remove_prefix(3);
  auto it = std::ranges::find(kSignals, name, &Named::name);
  if (it != std::end(kSignals)) return it->number;
  // Real-time signals: RTMIN, RTMIN+3, RTMAX-2.
  if (name.starts_with("RTMIN") || name.starts_with("RTMAX")) {
    const bool min = name.starts_with("RTMIN");
    int offset = 0;
    auto rest = name.substr(5);
    if (!rest.empty()) {
      auto [e, err] = std::from_chars(rest.data() + 1, rest.data() + rest.size(), offset);
      if (err != std::errc() || e != rest.data() + rest.size() ||
          (rest[0] != '+' && rest[0] != '-')) {
        return std::nullopt;
      }
      if (rest[0] == '-') offset = -offset;
    }
    const int sig = (min ? SIGRTMIN : SIGRTMAX) + offset;
    if (sig >= SIGRTMIN && sig <= SIGRTMAX) return sig;
  }
  return std::nullopt;
}

}  // namespace hippo::cli
