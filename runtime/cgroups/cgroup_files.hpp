#pragma once
// File-level access to a cgroup tree, shared by the v1 and v2 drivers: interface files read and
// written with errors that name them, cgroup directories made and removed, FileWrites applied
// with the fallback and retry rules they carry, and bounded polling.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "runtime/cgroups/manager.hpp"
#include "runtime/cgroups/resources.hpp"

namespace hippo::cgroups {

// What lies under a driver's root. A stand-in tree (plain directories, for tests) has no kernel
// to make a new cgroup's interface files or to clear them on rmdir. There a missing file reads
// as empty, a write appends the value and a newline (so the file logs every write), and removal
// deletes the files first.
enum class Tree : uint8_t { kernel, stand_in };

// How long destroy waits for tasks to leave and freeze for tasks to stop.
inline constexpr std::chrono::milliseconds kSettleTimeout{5000};

std::string join(std::string_view dir, std::string_view name);

// The levels of a cgroup path: "/a/b/" -> {"a", "b"}. Refuses the root itself and "..", so a
// path can never climb out of the hierarchy it is joined to.
Result<std::vector<std::string>> cgroup_levels(std::string_view path);

// `write <path> "<value>": <reason>` on failure; the errno is kept for IfMissing/retry rules.
Result<void> write_file(const std::string& path, std::string_view value, Tree tree);
Result<std::string> read_file(const std::string& path, Tree tree);
// nullopt when the file does not exist (files some kernels lack: memory.peak, cgroup.freeze).
Result<std::optional<std::string>> read_optional(const std::string& path);
// One number; "max" reads as UINT64_MAX, as runc does.
Result<uint64_t> parse_uint(std::string_view text, const std::string& path);
Result<uint64_t> read_uint(const std::string& path, Tree tree);
Result<std::optional<uint64_t>> read_optional_uint(const std::string& path);
// The value of `key` in "key value" lines (memory.events, cpu.stat); 0 if absent. `path` is
// only for the error.
Result<uint64_t> keyed_value(std::string_view text, std::string_view key, const std::string& path);
Result<uint64_t> read_keyed(const std::string& path, std::string_view key, Tree tree);
// Every "key value" line of a flat keyed file (memory.stat, cpu.stat); other lines are skipped.
Result<std::map<std::string, uint64_t, std::less<>>> keyed_values(std::string_view text,
                                                                  const std::string& path);
// v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N", one line per device.
Result<std::vector<IoDeviceStats>> parse_io_stat(std::string_view text, const std::string& path);
// v1 blkio.throttle.io_service_bytes_recursive (`bytes`) or io_serviced_recursive: "MAJ:MIN
// Read N" lines (and Write, Sync, Async, Discard, Total per device, and a last "Total N"), added
// into `devices`.
Result<void> add_blkio_stat(std::string_view text, bool bytes, std::vector<IoDeviceStats>& devices,
                            const std::string& path);
std::vector<std::string> words(std::string_view text);
std::string trim(std::string_view text);

// The cgroups nested directly in `path` (a cgroup's files are never directories); none when
// `path` does not exist.
Result<std::vector<std::string>> child_cgroups(const std::string& path);

// The pids in cgroup.procs of `dir` and of every cgroup below it, sorted.
Result<std::vector<pid_t>> read_procs_recursive(const std::string& dir, Tree tree);

// Applies `writes` in order through `write`, honouring IfMissing and retry_at_end. A file that
// is missing where the request needs it fails under the write's spec field, naming every file
// tried: `linux.resources.blockIO.weight: the cgroup has neither blkio.weight nor
// blkio.bfq.weight (write <path> "300": No such file or directory)`.
using Writer = std::function<Result<void>(const FileWrite&)>;
Result<void> apply_writes(std::span<const FileWrite> writes, const Writer& write);

// Directories made by one create(): removed again, deepest first, unless committed.
class MadeDirs {
 public:
  explicit MadeDirs(Tree tree) : tree_(tree) {}
  MadeDirs(const MadeDirs&) = delete;
  MadeDirs& operator=(const MadeDirs&) = delete;
  ~MadeDirs();

  // mkdir -p of base/levels...; returns the directories this call made, top-down.
  Result<std::vector<std::string>> make(const std::string& base,
                                        std::span<const std::string> levels);
  // Keeps the directories and hands their list (creation order) to the caller.
  std::vector<std::string> commit();

 private:
  Tree tree_;
  std::vector<std::string> made_;
  bool committed_ = false;
};

// Removes the cgroup at `path` and every cgroup nested in it, deepest first, retrying EBUSY
// until `busy_timeout` while their tasks exit. A missing directory is success.
Result<void> remove_cgroup(const std::string& path, Tree tree,
                           std::chrono::milliseconds busy_timeout = kSettleTimeout);
// rmdir of each of `dirs` (leaves of the kernel's cgroupfs): true when all are gone (or were
// never there). False at the first one still holding a task or a cgroup (EBUSY), or on any
// other error: the caller then takes the long way (kill_all, destroy), which also removes what
// this call did not.
bool remove_empty_leaves(const std::vector<std::string>& dirs, Tree tree);
// Removes an ancestor cgroup this driver made if nothing uses it any more; one that still has
// children or tasks (another container's) is left alone without error.
Result<void> remove_if_unused(const std::string& path, Tree tree);

// Calls `done` until it returns true (-> true) or `timeout` passes (-> false), sleeping 1 ms,
// doubling up to 50 ms, between calls. An error from `done` ends the wait.
Result<bool> poll_until(std::chrono::milliseconds timeout,
                        const std::function<Result<bool>()>& done);

}  // namespace hippo::cgroups
