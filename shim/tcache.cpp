#include "shim/tcache.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "base/file_io.hpp"
#include "base/unique_fd.hpp"

namespace hippo::shim {
namespace {

constexpr char kTunables[] = "GLIBC_TUNABLES";
constexpr char kNoTcache[] = "glibc.malloc.tcache_count=0";
constexpr char kSavedTunables[] = "HIPPO_SHIM_SAVED_TUNABLES";  // set only between the two runs

}  // namespace

bool finish_rerun_without_tcache() {
  const char* saved = std::getenv(kSavedTunables);
  if (!saved) return false;
  if (*saved != '\0') {
    ::setenv(kTunables, saved, 1);
  } else {
    ::unsetenv(kTunables);
  }
  ::unsetenv(kSavedTunables);
  return true;
}

void rerun_without_tcache(char** argv, std::string_view stdin_data) {
  os::UniqueFd copy(::memfd_create("start-stdin", MFD_CLOEXEC));
  if (!copy) return;
  write_all(copy.get(), stdin_data);
  if (::lseek(copy.get(), 0, SEEK_SET) != 0 || ::dup2(copy.get(), STDIN_FILENO) < 0) return;
  const char* current = std::getenv(kTunables);
  const std::string caller = current ? current : "";
  const std::string tuned = caller.empty() ? std::string(kNoTcache) : caller + ":" + kNoTcache;
  ::setenv(kSavedTunables, caller.c_str(), 1);
  ::setenv(kTunables, tuned.c_str(), 1);
  ::execv("/proc/self/exe", argv);
  // No exec (no /proc?): undo, and go on with the cache.
  (void)finish_rerun_without_tcache();
}

}  // namespace hippo::shim
