#include "state_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

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

Result<linux::UniqueFd> lock_dir(const std::filesystem::path& dir) {
  linux::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail_errno("open " + dir.string());
  if (::flock(fd.get(), LOCK_EX) != 0) return fail_errno("lock " + dir.string());
  return fd;
}

}  // namespace

Result<ContainerDir> ContainerDir::create(const std::filesystem::path& root, const std::string& id) {
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) return fail("create state root " + root.string() + ": " + ec.message(), ec.value());
  const auto dir = root / id;
  if (::mkdir(dir.c_str(), 0711) != 0) {
    if (errno == EEXIST) return fail("container \"" + id + "\" already exists", EEXIST);
    return fail_errno("create " + dir.string());
  }
  auto lock = lock_dir(dir);
  if (!lock) {
    ::rmdir(dir.c_str());
    return std::unexpected(lock.error());
  }
  return ContainerDir(dir, std::move(*lock));
}

Result<ContainerDir> ContainerDir::open(const std::filesystem::path& root, const std::string& id) {
  const auto dir = root / id;
  auto lock = lock_dir(dir);
  if (!lock) {
    if (lock.error().code == ENOENT) return fail("container \"" + id + "\" does not exist", ENOENT);
    return std::unexpected(lock.error());
  }
  // A concurrent delete may have removed it while we waited for the lock.
  if (::access((dir / "state.json").c_str(), F_OK) != 0 &&
      ::access((dir / "exec.fifo").c_str(), F_OK) != 0 && errno == ENOENT) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return fail("container \"" + id + "\" does not exist", ENOENT);
  }
  return ContainerDir(dir, std::move(*lock));
}

Result<void> ContainerDir::write(const StoredState& state) const {
  const auto tmp = path_ / "state.json.tmp";
  const auto final_path = path_ / "state.json";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << spec::codec::write_value(state).dump() << "\n";
    out.flush();
    if (!out) return fail_errno("write " + tmp.string());
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) return fail_errno("rename " + tmp.string());
  return {};
}

Result<StoredState> ContainerDir::read() const {
  const auto file = path_ / "state.json";
  std::ifstream in(file);
  if (!in) return fail_errno("open " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  return spec::read_document<StoredState>(text.str(), file.string());
}

Result<void> ContainerDir::remove() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (ec) return fail("remove " + path_.string() + ": " + ec.message(), ec.value());
  lock_.reset();
  return {};
}

std::vector<std::string> list_container_ids(const std::filesystem::path& root) {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    if (entry.is_directory(ec)) ids.push_back(entry.path().filename().string());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::optional<uint64_t> process_start_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;
  // comm may hold spaces and parentheses: fields resume after the last ')'.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  std::string state;
  fields >> state;  // field 3
  if (state == "Z" || state == "X") return std::nullopt;
  for (int i = 4; i <= 22; ++i) {
    if (!(fields >> field)) return std::nullopt;
  }
  return std::stoull(field);
}

bool init_alive(const StoredState& state) {
  if (state.pid <= 0) return false;
  auto start = process_start_time(state.pid);
  return start && *start == state.pid_start;
}

}  // namespace hippo::runtime
