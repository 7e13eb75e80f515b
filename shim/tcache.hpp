#pragma once
// `start` forks the shim daemon. glibc's per-thread malloc cache (tcache) keeps up to 7 freed
// chunks of every small size out of reach of malloc_trim: scattered over the heap, they kept
// ~40 kB of pages resident in every idle daemon (docs/architecture.md, "Shim memory"). glibc
// reads its tunables only when a program starts, so a `start` that has a daemon to fork runs
// itself again, once, with the cache off; the caller's GLIBC_TUNABLES is put back first thing,
// so that no child (runc, hooks, loggers, containers) inherits the setting. A `start` that
// finds its daemon alive forks nothing and needs no second run.

#include <string_view>

namespace hippo::shim {

// In the second run: puts the caller's GLIBC_TUNABLES back and returns true. Else false.
bool finish_rerun_without_tcache();

// Runs this program again with argv and the cache off, `stdin_data` as its stdin (what the
// first run read: containerd's options). Returns only if the exec failed; then the caller
// goes on with the cache.
void rerun_without_tcache(char** argv, std::string_view stdin_data);

}  // namespace hippo::shim
