#include "runtime/state_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include "base/file_io.hpp"
#include "oci-spec/json_codec.hpp"
#include "oci-spec/schema.hpp"  // DeviceRule's fields, for added_device_rules
#include "runtime/bundle.hpp"

namespace hippo::runtime {

template <class V, spec::Is<NestingState> M>
void describe(V& v, M& m) {
  v("variant", m.variant);
  v("owner_uid", m.owner_uid);
  v("owner_gid", m.owner_gid);
  v("devices", m.devices);
}

template <class V, spec::Is<StoredState> M>
void describe(V& v, M& m) {
  v("id", m.id);
  v("pid", m.pid);
  v("pid_start", m.pid_start);
  v("bundle", m.bundle);
  v("rootfs", m.rootfs);
  v("created", m.created);
  v("owner", m.owner);
  v("cgroup_path", m.cgroup_path);
  v("systemd_unit", m.systemd_unit);
  v("annotations", m.annotations);
  v("nesting", m.nesting);
  v("added_device_rules", m.added_device_rules);
}

namespace {

// Everything hippo writes into a container directory; remove() refuses to delete anything else.
constexpr const char* kOwnEntries[] = {"state.json", "state.json.tmp", "cleanup.json",
                                       "cleanup.json.tmp", "exec.fifo"};

bool own_entry(std::string_view name) {
  return std::ranges::any_of(kOwnEntries, [&](const char* e) { return name == e; });
}

// "container "id" does not exist" for what a command on a missing or foreign entry sees.
std::unexpected<Error> not_found(const std::string& id) {
  return fail("container \"" + id + "\" does not exist", ENOENT);
}

// Another runtime's entry: no cleanup.json (hippo writes it before state.json) and a state.json
// that is a JSON object without hippo's "pid_start" (runc's has "init_process_pid" instead).
// An empty directory or an unreadable record stays hippo's: a create that did not finish.
bool foreign_entry(int dir) {
  if (::faccessat(dir, "cleanup.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
    return false;
  os::UniqueFd fd(::openat(dir, "state.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return false;
  auto text = read_fd(fd.get(), "state.json", spec::kMaxJsonBytes, "state.json");
  if (!text) return false;
  const auto json = spec::Json::parse(*text, nullptr, false);
  return json.is_object() && !json.contains("pid_start");
}

}  // namespace

Result<ContainerDir> ContainerDir::create(const std::string& root, const std::string& id) {
  if (auto ok = validate_container_id(id); !ok) return std::unexpected(ok.error());
  if (auto ok = make_directories(root, 0700); !ok) {
    return fail("create state root " + root + ": " + std::strerror(ok.error().code),
                ok.error().code);
  }
  const auto dir = join_path(root, id);
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) return fail("container \"" + id + "\" already exists", EEXIST);
    return fail_errno("create " + dir);
  }
  auto opened = open(root, id);
  if (!opened) {
    ::rmdir(dir.c_str());
    return std::unexpected(opened.error());
  }
  return opened;
}

Result<ContainerDir> ContainerDir::open(const std::string& root, const std::string& id, Wait wait) {
  if (auto ok = validate_container_id(id); !ok) return std::unexpected(ok.error());
  const auto path = join_path(root, id);
  // O_NOFOLLOW: a symlink planted as <root>/<id> is not a container of ours.
  os::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return not_found(id);
    return fail_errno("open " + path);
  }
  if (foreign_entry(fd.get())) {
    return std::unexpected(Error{kForeignEntry,
                                 "container \"" + id + "\" is not a hippo container: " + path +
                                     " holds another runtime's state (runc's?)",
                                 ErrorKind::not_found});
  }
  bool locked = true;
  if (::flock(fd.get(), wait == Wait::yes ? LOCK_EX : LOCK_EX | LOCK_NB) != 0) {
    if (wait == Wait::yes || errno != EWOULDBLOCK) return fail_errno("lock " + path);
    locked = false;
  }
  // A concurrent delete may have removed it while we waited for the lock.
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || st.st_nlink == 0) return not_found(id);
  return ContainerDir(id, path, std::move(fd), locked);
}

void ContainerDir::unlock() {
  if (locked_ && dir_) ::flock(dir_.get(), LOCK_UN);
  locked_ = false;
}

Result<void> ContainerDir::write_file(const char* name, const std::string& content) const {
  const std::string tmp = std::string(name) + ".tmp";
  const auto shown = path_ + "/" + tmp;
  os::UniqueFd fd(::openat(dir_.get(), tmp.c_str(),
                           O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return fail_errno("open " + shown);
  // A stale .tmp keeps its old mode through O_TRUNC.
  if (::fchmod(fd.get(), 0600) != 0) return fail_errno("chmod " + shown);
  if (auto ok = write_fd(fd.get(), content, shown); !ok) return ok;
  if (::renameat(dir_.get(), tmp.c_str(), dir_.get(), name) != 0) {
    auto err = fail_errno("rename " + shown + " to " + name);
    ::unlinkat(dir_.get(), tmp.c_str(), 0);
    return err;
  }
  return {};
}

Result<void> ContainerDir::write(const StoredState& state) const {
  // cleanup.json first: once state.json names a resource, cleanup.json does too.
  StoredState cleanup = state;
  cleanup.annotations.clear();
  if (auto ok = write_file("cleanup.json", spec::codec::write_value(cleanup).dump() + "\n"); !ok) {
    return ok;
  }
  return write_file("state.json", spec::codec::write_value(state).dump() + "\n");
}

Result<StoredState> ContainerDir::read_file(const char* name) const {
  const auto file = path_ + "/" + name;
  os::UniqueFd fd(::openat(dir_.get(), name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return fail_errno("open " + file);
  auto text = read_fd(fd.get(), file, spec::kMaxJsonBytes, file);
  if (!text) return std::unexpected(text.error());
  auto st = spec::read_document<StoredState>(*text, file);
  if (st && st->id != id_) {
    return fail(file + ": id: names container \"" + st->id + "\", not \"" + id_ + "\"");
  }
  return st;
}

std::string ContainerDir::owner() const {
  struct stat st {};
  if (::fstat(dir_.get(), &st) != 0) return {};
  passwd pw{}, *found = nullptr;
  std::array<char, 4096> buf{};
  if (::getpwuid_r(st.st_uid, &pw, buf.data(), buf.size(), &found) == 0 && found) return pw.pw_name;
  return "#" + std::to_string(st.st_uid);
}

Result<StoredState> ContainerDir::read() const { return read_file("state.json"); }

Result<StoredState> ContainerDir::read_cleanup() const { return read_file("cleanup.json"); }

namespace {

// The names in the directory open as `dir`, read through that fd itself: remove() must work
// with no fd to spare, as after a create that failed with EMFILE (integration/faults.bats).
Result<std::vector<std::string>> entries_of(int dir, const std::string& path) {
  if (::lseek(dir, 0, SEEK_SET) != 0) return fail_errno("list " + path);
  std::vector<std::string> names;
  alignas(dirent64) std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = ::getdents64(dir, buf.data(), buf.size());
    if (n < 0) return fail_errno("list " + path);
    if (n == 0) return names;
    for (ssize_t off = 0; off < n;) {
      const auto* d = reinterpret_cast<const dirent64*>(buf.data() + off);
      const std::string_view name(d->d_name);
      if (name != "." && name != "..") names.emplace_back(name);
      off += d->d_reclen;
    }
  }
}

}  // namespace

Result<void> ContainerDir::remove() {
  auto names = entries_of(dir_.get(), path_);
  if (!names) return std::unexpected(names.error());
  std::string foreign;
  for (const auto& name : *names) {
    if (!own_entry(name)) foreign += (foreign.empty() ? "\"" : ", \"") + name + "\"";
  }
  if (!foreign.empty()) {
    return fail(path_ + " holds " + foreign +
                ", which hippo does not write: it is not removed (remove it by hand if it is "
                "no container's)");
  }
  for (const auto& name : *names) {
    if (::unlinkat(dir_.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
      return fail_errno("remove " + path_ + "/" + name);
    }
  }
  // The path must still name the directory we hold (not something renamed into its place).
  struct stat held {
  }, named{};
  if (::fstat(dir_.get(), &held) != 0 || ::lstat(path_.c_str(), &named) != 0 ||
      held.st_dev != named.st_dev || held.st_ino != named.st_ino) {
    return fail(path_ + " changed while it was being removed: left in place");
  }
  if (::rmdir(path_.c_str()) != 0) return fail_errno("remove " + path_);
  dir_.reset();
  return {};
}

std::vector<std::string> list_container_ids(const std::string& root) {
  std::vector<std::string> ids;
  for (auto& name : list_directory(root).value_or(std::vector<std::string>{})) {
    struct stat st {};
    if (!validate_container_id(name)) continue;
    if (::lstat(join_path(root, name).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      ids.push_back(std::move(name));
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::optional<uint64_t> process_start_time(pid_t pid) {
  auto text = read_text_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  // comm may hold spaces and parentheses: fields resume after the last ')'.
  const auto close = text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::string_view rest = std::string_view(*text).substr(close + 1);
  // Field 3 is the state, field 22 the start time.
  for (int field = 3; field <= 22; ++field) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const auto end = std::min(rest.find(' '), rest.size());
    const auto value = rest.substr(0, end);
    if (value.empty()) return std::nullopt;
    if (field == 3 && (value == "Z" || value == "X")) return std::nullopt;
    if (field == 22) {
      uint64_t start = 0;
      if (std::from_chars(value.data(), value.data() + value.size(), start).ec != std::errc{})
        return std::nullopt;
      return start;
    }
    rest.remove_prefix(end);
  }
  return std::nullopt;
}

bool init_alive(const StoredState& state) {
  if (state.pid <= 0) return false;
  auto start = process_start_time(state.pid);
  return start && *start == state.pid_start;
}

}  // namespace hippo::runtime
