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

int main(int argc, char** argv) {
  using namespace hippo::shim;
  auto flags = parse_shim_flags(std::vector<std::string>(argv + 1, argv + argc));
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
  if (flags->action == "start") return run_start(*flags, argv);
  if (flags->action == "delete") return run_delete(*flags);
  hippo::write_all(
      STDERR_FILENO,
      "containerd-shim-hippo-v2: run with `start` by containerd; the daemon is started by it\n");
  return 1;
}
