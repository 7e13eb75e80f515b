#pragma once
// Per-container state under the state root (--root, default /run/hippo):
//   <root>/<id>/state.json   what every later command needs (written atomically)
//   <root>/<id>/exec.fifo    exists while the container is "created" (runc's exec fifo)
// Commands on one id are serialized by an flock on <root>/<id>; different ids run concurrently.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "oci-spec/error.hpp"
#include "oci-spec/spec.hpp"
#include "runtime/linux/unique_fd.hpp"

namespace hippo::runtime {

struct StoredState {
  std::string id;
  pid_t pid = 0;
  uint64_t pid_start = 0;  // /proc/<pid>/stat starttime: tells a reused pid from our init
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339, UTC, nanoseconds
  std::string owner;
  std::string cgroup_path;  // cgroupfs: the cgroupsPath; systemd: the unit's cgroup
  std::optional<std::string> systemd_unit;  // set when the systemd driver placed it
  spec::StringMap annotations;
};

class ContainerDir {
 public:
  // Creates <root>/<id> exclusively and locks it. EEXIST -> "container "id" already exists".
  static Result<ContainerDir> create(const std::string& root, const std::string& id);
  // Opens and locks an existing container. ENOENT -> "container "id" does not exist".
  static Result<ContainerDir> open(const std::string& root, const std::string& id);

  const std::string& path() const { return path_; }
  std::string fifo_path() const { return path_ + "/exec.fifo"; }
  Result<void> write(const StoredState& state) const;
  Result<StoredState> read() const;
  // Removes the directory and everything in it; the lock goes with it.
  Result<void> remove();

 private:
  ContainerDir(std::string path, linux::UniqueFd lock) : path_(std::move(path)), lock_(std::move(lock)) {}
  std::string path_;
  linux::UniqueFd lock_;
};

std::vector<std::string> list_container_ids(const std::string& root);

// starttime (field 22) of /proc/<pid>/stat, or nullopt if the process does not exist.
std::optional<uint64_t> process_start_time(pid_t pid);
// The init named by `state` still runs (same pid and start time, not a zombie).
bool init_alive(const StoredState& state);

}  // namespace hippo::runtime
