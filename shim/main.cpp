// containerd-shim-hippo-v2: containerd's shim v2 binary for runtime type io.containerd.hippo.v2.
// Actions: `start` (containerd runs it to get an address), `delete` (cleanup), `-info`, `-v`;
// without an action it is the daemon serving the Task API (forked by start in practice).

#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "base/file_io.hpp"
#include "hippo/version.hpp"
#include "shim/actions.hpp"

// libstdc++'s default terminate handler prints a demangled type name, which links the whole
// C++ demangler (~40 kB mapped into every shim). Ours names the exception without demangling,
// then aborts as the default does. Defining the handler variable keeps libstdc++'s own out.
namespace __cxxabiv1 {
std::terminate_handler __terminate_handler = [] {
  static constexpr char kMessage[] =
      "containerd-shim-hippo-v2: terminate called (uncaught exception)\n";
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  std::abort();
};
}  // namespace __cxxabiv1

namespace {

constexpr char kTunables[] = "GLIBC_TUNABLES";
constexpr char kNoTcache[] = "glibc.malloc.tcache_count=0";
constexpr char kSavedTunables[] = "HIPPO_SHIM_SAVED_TUNABLES";  // set only between the two runs

// `start` forks the shim daemon, one per pod. glibc's per-thread malloc cache (tcache) keeps up
// to 7 freed chunks of every small size out of reach of malloc_trim: scattered over the heap,
// they kept ~40 kB of pages resident in every idle daemon (docs/architecture.md, "Shim
// memory"). glibc reads its tunables only when a program starts, so `start` runs itself again,
// once, with the cache off; the caller's GLIBC_TUNABLES is put back first thing, so that no
// child (runc, hooks, loggers, containers) inherits the setting.
void rerun_without_tcache(char** argv) {
  if (const char* saved = std::getenv(kSavedTunables)) {  // the second run
    if (*saved != '\0') {
      ::setenv(kTunables, saved, 1);
    } else {
      ::unsetenv(kTunables);
    }
    ::unsetenv(kSavedTunables);
    return;
  }
  const char* current = std::getenv(kTunables);
  const std::string caller = current ? current : "";
  const std::string tuned = caller.empty() ? std::string(kNoTcache) : caller + ":" + kNoTcache;
  ::setenv(kSavedTunables, caller.c_str(), 1);
  ::setenv(kTunables, tuned.c_str(), 1);
  ::execv("/proc/self/exe", argv);
  // No exec (no /proc?): go on with the cache.
  rerun_without_tcache(argv);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace hippo::shim;
  auto flags = parse_shim_flags(std::vector<std::string>(argv + 1, argv + argc));
  if (flags && flags->action == "start" && !std::getenv(kSavedTunables)) {
    if (auto done = start_on_live_node_daemon(*flags)) return *done;
    rerun_without_tcache(argv);
  } else if (flags && flags->action == "start") {
    rerun_without_tcache(argv);  // the second run: the caller's tunables back
  }
  if (!flags) {
    hippo::write_all(STDERR_FILENO, "containerd-shim-hippo-v2: " + flags.error().message + "\n");
    return 1;
  }
  if (flags->version) {
    hippo::write_all(STDOUT_FILENO, std::string("containerd-shim-hippo-v2:\n  Version:  ") +
                                        hippo::kVersion + "\n  Revision: " + hippo::kGitCommit +
                                        "\n");
    return 0;
  }
  if (flags->info) return run_info();
  if (flags->action == "start") return run_start(*flags);
  if (flags->action == "delete") return run_delete(*flags);
  hippo::write_all(
      STDERR_FILENO,
      "containerd-shim-hippo-v2: run with `start` by containerd; the daemon is started by it\n");
  return 1;
}
