#pragma once
// Why the container's program is not exec'd by init itself (CVE-2019-5736): until its execve,
// init is a clone of the host's hippo or shim process, so /proc/self/exe is the host binary. A
// program starting with `#!/proc/self/exe` would have the kernel run that binary inside the
// container, as a dumpable process whose /proc/<pid>/exe the container can reopen for writing
// once the host's copies exit. Init instead execs a tiny static trampoline from a sealed memfd
// (write, grow, shrink and the seals themselves sealed), and the trampoline execs the program:
// /proc/self/exe is then an unwritable copy of the trampoline, which refuses to run as an
// interpreter. The memfd costs one page per start and is gone once the program runs.

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace hippo::os {

// argv[0] of a trampoline run: anything else (an interpreter path) makes it refuse (exit 126).
inline constexpr char kExecTrampolineMarker[] = "hippo-exec";

// The trampoline's ELF image (generated from exec_trampoline.c at build time).
extern const unsigned char kExecTrampoline[];
extern const unsigned long kExecTrampolineSize;

// A close-on-exec memfd holding the trampoline, sealed against every change.
Result<UniqueFd> sealed_exec_trampoline();

}  // namespace hippo::os
