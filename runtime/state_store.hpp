#pragma once
// Per-container state under the state root (--root, default /run/hippo), private to its owner
// (annotations carry secrets):
//   <root>/                   0700 when hippo creates it (an existing root is left as it is)
//   <root>/<id>/              0700; <id> passed validate_container_id, so it is one plain entry
//   <root>/<id>/state.json    0600: what every later command needs (written atomically)
//   <root>/<id>/cleanup.json  0600: the same record without annotations, written with it: what
//                             `delete -f` needs to find the container's resources (init pid and
//                             start time, cgroup or unit, bundle) when state.json is unreadable
//   <root>/<id>/exec.fifo     exists while the container is "created" (runc's exec fifo)
// Commands on one id are serialized by an flock on <root>/<id>; different ids run concurrently.
//
// `create` writes the record before it creates the first resource (the cgroup), with pid 0,
// and again once the init's pid and start time are known. A record with pid 0 (or a directory
// without one) that no command holds locked is what a create killed part way left behind.

#include <sys/types.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "oci-spec/spec.hpp"

namespace hippo::runtime {

// A nesting container's mode (docs/nesting.md), decided once at create by resolve_nesting:
// exec, update and delete read it from here, never re-derive it from config.json or
// config.yaml (either may have changed since).
struct NestingState {
  std::string variant;     // "userns" or "privileged"
  uint32_t owner_uid = 0;  // the host ids of the container's 0:0: who delegated cgroups belong to
  uint32_t owner_gid = 0;
  spec::Strings devices;  // "fuse", "tun": nodes and rules config.yaml's nesting_devices added
};

struct StoredState {
  std::string id;
  pid_t pid = 0;           // 0 until create has spawned the init
  uint64_t pid_start = 0;  // /proc/<pid>/stat starttime: tells a reused pid from our init
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339, UTC, nanoseconds
  std::string owner;
  std::string cgroup_path;                  // cgroupfs: the cgroupsPath; systemd: the unit's cgroup
  std::optional<std::string> systemd_unit;  // set when the systemd driver placed it
  spec::StringMap annotations;
  std::optional<NestingState> nesting;  // set for a nesting container (also in cleanup.json)
  // Device rules hippo added to config.json's at create (CDI devices, nesting devices): an
  // update's device list is followed by them, so that what create let in stays allowed
  // (docs/devices.md). Absent in records of older versions.
  std::optional<std::vector<spec::DeviceRule>> added_device_rules;
};

// The errno of "not a hippo container": <root>/<id> holds another runtime's state. Docker passes
// one --root to every runtime, so runc's containers sit beside hippo's (runc writes a state.json
// too, without cleanup.json and in its own format); hippo neither shows nor removes them.
inline constexpr int kForeignEntry = EMEDIUMTYPE;

class ContainerDir {
 public:
  enum class Wait { yes, no };

  // Creates <root> (0700, if missing) and <root>/<id> (0700) exclusively and locks it.
  // Invalid id -> "invalid container ID format"; EEXIST -> "container "id" already exists".
  static Result<ContainerDir> create(const std::string& root, const std::string& id);
  // Opens an existing container directory (never through a symlink) and locks it. With
  // Wait::no a lock held by another command is not waited for: the directory is opened
  // unlocked (locked() is false), for reading only.
  // Invalid id -> "invalid container ID format"; ENOENT -> "container "id" does not exist";
  // kForeignEntry -> "container "id" is not a hippo container: ...".
  static Result<ContainerDir> open(const std::string& root, const std::string& id,
                                   Wait wait = Wait::yes);

  const std::string& id() const { return id_; }
  const std::string& path() const { return path_; }
  std::string fifo_path() const { return path_ + "/exec.fifo"; }
  bool locked() const { return locked_; }
  // The name of the user owning the directory ("#<uid>" when it has none), as runc lists it.
  std::string owner() const;
  // Gives the lock up early (LOCK_UN: also while a child still holds a copy of the fd), for a
  // command that goes on waiting once it no longer needs the container held (exec into a
  // frozen container must not keep `resume` out).
  void unlock();

  // Replaces state.json and cleanup.json (mode 0600, atomic rename each).
  Result<void> write(const StoredState& state) const;
  // state.json; ENOENT when there is none.
  Result<StoredState> read() const;
  // cleanup.json; ENOENT when there is none.
  Result<StoredState> read_cleanup() const;
  // Removes the directory: only the entries hippo writes in it, then the directory itself.
  // Anything else in it means it is not (only) ours: nothing is removed and the error names it.
  Result<void> remove();

 private:
  ContainerDir(std::string id, std::string path, os::UniqueFd dir, bool locked)
      : id_(std::move(id)), path_(std::move(path)), dir_(std::move(dir)), locked_(locked) {}
  Result<StoredState> read_file(const char* name) const;
  Result<void> write_file(const char* name, const std::string& content) const;

  std::string id_;
  std::string path_;
  os::UniqueFd dir_;  // O_DIRECTORY|O_NOFOLLOW; carries the flock
  bool locked_ = false;
};

// The entries of the state root that are directories, sorted. Names that are not valid ids
// (no hippo command could have made them) are left out.
std::vector<std::string> list_container_ids(const std::string& root);

// starttime (field 22) of /proc/<pid>/stat, or nullopt if the process does not exist.
std::optional<uint64_t> process_start_time(pid_t pid);
// The init named by `state` still runs (same pid and start time, not a zombie).
bool init_alive(const StoredState& state);

}  // namespace hippo::runtime
