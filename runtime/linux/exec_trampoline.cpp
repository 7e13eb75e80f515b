#include "runtime/linux/exec_trampoline.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace hippo::os {

#ifndef MFD_EXEC
constexpr unsigned kMfdExec = 0x0010U;  // Linux 6.3: say that the memfd is to be executed
#else
constexpr unsigned kMfdExec = MFD_EXEC;
#endif

Result<UniqueFd> sealed_exec_trampoline() {
  // With vm.memfd_noexec=1, a memfd made without MFD_EXEC cannot be executed; kernels before
  // 6.3 refuse the flag itself (EINVAL) and need none.
  UniqueFd fd(::memfd_create("hippo-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING | kMfdExec));
  if (!fd && errno == EINVAL)
    fd = UniqueFd(::memfd_create("hippo-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return fail_errno("memfd_create for the exec trampoline");
  const unsigned char* p = kExecTrampoline;
  unsigned long left = kExecTrampolineSize;
  while (left > 0) {
    const ssize_t n = ::write(fd.get(), p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail_errno("write the exec trampoline into its memfd");
    p += n;
    left -= static_cast<unsigned long>(n);
  }
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) !=
      0) {
    return fail_errno("seal the exec trampoline's memfd");
  }
  // execve refuses a file that any fd holds open for writing (ETXTBSY): keep a read-only one.
  const std::string path = "/proc/self/fd/" + std::to_string(fd.get());
  UniqueFd read_only(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!read_only) return fail_errno("reopen the exec trampoline's memfd read-only");
  return read_only;
}

}  // namespace hippo::os
