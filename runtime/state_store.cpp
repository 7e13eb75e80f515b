#include "state_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <charconv>

#include "oci-spec/file_io.hpp"
#include "oci-spec/json_codec.hpp"

namespace hippo::runtime {

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
}

namespace {

Result<linux::UniqueFd> lock_dir(const std::string& dir) {
  linux::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail_errno("open " + dir);
  if (::flock(fd.get(), LOCK_EX) != 0) return fail_errno("lock " + dir);
  return fd;
}

}  // namespace

Result<ContainerDir> ContainerDir::create(const std::string& root, const std::string& id) {
  if (auto ok = make_directories(root); !ok) {
    return fail("create state root " + root + ": " + std::strerror(ok.error().code), ok.error().code);
  }
  const auto dir = join_path(root, id);
  if (::mkdir(dir.c_str(), 0711) != 0) {
    if (errno == EEXIST) return fail("container \"" + id + "\" already exists", EEXIST);
    return fail_errno("create " + dir);
  }
  auto lock = lock_dir(dir);
  if (!lock) {
    ::rmdir(dir.c_str());
    return std::unexpected(lock.error());
  }
  return ContainerDir(dir, std::move(*lock));
}

Result<ContainerDir> ContainerDir::open(const std::string& root, const std::string& id) {
  const auto dir = join_path(root, id);
  auto lock = lock_dir(dir);
  if (!lock) {
    if (lock.error().code == ENOENT) return fail("container \"" + id + "\" does not exist", ENOENT);
    return std::unexpected(lock.error());
  }
  // A concurrent delete may have removed it while we waited for the lock.
  if (::access((dir + "/state.json").c_str(), F_OK) != 0 &&
      ::access((dir + "/exec.fifo").c_str(), F_OK) != 0 && errno == ENOENT) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return fail("container \"" + id + "\" does not exist", ENOENT);
  }
  return ContainerDir(dir, std::move(*lock));
}

Result<void> ContainerDir::write(const StoredState& state) const {
  return replace_text_file(path_ + "/state.json", spec::codec::write_value(state).dump() + "\n");
}

Result<StoredState> ContainerDir::read() const {
  const auto file = path_ + "/state.json";
  auto text = spec::read_json_file(file, file);
  if (!text) return std::unexpected(text.error());
  return spec::read_document<StoredState>(*text, file);
}

Result<void> ContainerDir::remove() {
  if (auto ok = remove_tree(path_); !ok) return ok;
  lock_.reset();
  return {};
}

std::vector<std::string> list_container_ids(const std::string& root) {
  std::vector<std::string> ids;
  for (auto& name : list_directory(root).value_or(std::vector<std::string>{})) {
    if (is_directory(join_path(root, name))) ids.push_back(std::move(name));
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
      if (std::from_chars(value.data(), value.data() + value.size(), start).ec != std::errc{}) return std::nullopt;
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
