#include "runtime/cgroups/cgroup_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <thread>

#include "base/file_io.hpp"
#include "base/unique_fd.hpp"

namespace hippo::cgroups {
namespace {

using os::UniqueFd;

bool dir_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string parent_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

// A stand-in cgroup holds plain files that rmdir would refuse: delete them first.
void remove_stand_in_files(const std::string& path) {
  for (const auto& name : list_directory(path).value_or(std::vector<std::string>{})) {
    const std::string file = join(path, name);
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode)) ::unlink(file.c_str());
  }
}

}  // namespace

// The directory entry's own type (kernfs gives it): a cgroup holds ~20-40 files, and a stat of
// each was most of the syscalls of a container's delete. lstat only where the type is unknown.
Result<std::vector<std::string>> child_cgroups(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    return fail_errno("read directory " + path);
  }
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name == "." || name == ".." || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)) continue;
    std::string child = join(path, name);
    struct stat st {};
    if (e->d_type == DT_DIR || (::lstat(child.c_str(), &st) == 0 && S_ISDIR(st.st_mode)))
      out.push_back(std::move(child));
  }
  ::closedir(d);
  return out;
}

std::string join(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') out += '/';
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  out += name;
  return out;
}

Result<std::vector<std::string>> cgroup_levels(std::string_view path) {
  std::vector<std::string> levels;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const auto level = path.substr(start, end - start);
    if (level == "..") {
      return fail(ErrorKind::invalid_argument,
                  "cgroup path \"" + std::string(path) + "\": \"..\" is not allowed");
    }
    if (!level.empty() && level != ".") levels.emplace_back(level);
    start = end + 1;
  }
  if (levels.empty()) {
    return fail(ErrorKind::invalid_argument,
                "cgroup path \"" + std::string(path) + "\" names the root cgroup");
  }
  return levels;
}

Result<void> write_file(const std::string& path, std::string_view value, Tree tree) {
  const auto what = "write " + path + " \"" + std::string(value) + "\"";
  // Interface files exist in a kernel cgroup; O_CREAT there would turn ENOENT into EACCES.
  const int flags =
      tree == Tree::kernel ? O_WRONLY | O_CLOEXEC : O_WRONLY | O_CLOEXEC | O_CREAT | O_APPEND;
  UniqueFd fd(::open(path.c_str(), flags, 0644));
  if (!fd) return fail_errno(what);
  std::string data(value);
  if (tree == Tree::stand_in) data += '\n';
  ssize_t n;
  do {
    n = ::write(fd.get(), data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail_errno(what);
  // cgroupfs takes a write whole or refuses it; a short write means something else is there.
  if (static_cast<size_t>(n) != data.size()) return fail_errno(what, EIO);
  return {};
}

Result<std::string> read_file(const std::string& path, Tree tree) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT && tree == Tree::stand_in && dir_exists(parent_of(path))) return "";
    return fail_errno("read " + path);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::optional<std::string>> read_optional(const std::string& path) {
  auto text = read_file(path, Tree::kernel);
  if (!text) {
    if (text.error().code == ENOENT) return std::nullopt;
    return std::unexpected(text.error());
  }
  return std::move(*text);
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\n");
  if (first == std::string_view::npos) return "";
  const auto last = text.find_last_not_of(" \t\n");
  return std::string(text.substr(first, last - first + 1));
}

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) out.emplace_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

Result<uint64_t> parse_uint(std::string_view text, const std::string& path) {
  const auto t = trim(text);
  if (t == "max") return std::numeric_limits<uint64_t>::max();
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || end != t.data() + t.size() || t.empty()) {
    return fail(ErrorKind::internal, "read " + path + ": not a number: \"" + t + "\"");
  }
  return value;
}

Result<uint64_t> read_uint(const std::string& path, Tree tree) {
  auto text = read_file(path, tree);
  if (!text) return std::unexpected(text.error());
  return parse_uint(*text, path);
}

Result<uint64_t> keyed_value(std::string_view text, std::string_view key, const std::string& path) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const auto w = words(text.substr(start, end - start));
    if (w.size() == 2 && w[0] == key) return parse_uint(w[1], path);
    start = end + 1;
  }
  return 0;
}

Result<uint64_t> read_keyed(const std::string& path, std::string_view key, Tree tree) {
  auto text = read_file(path, tree);
  if (!text) return std::unexpected(text.error());
  return keyed_value(*text, key, path);
}

namespace {

// Calls `line` with the words of each non-empty line of `text`.
template <typename F>
Result<void> for_each_line(std::string_view text, F&& line) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const auto w = words(text.substr(start, end - start));
    if (!w.empty()) {
      if (auto ok = line(w); !ok) return ok;
    }
    start = end + 1;
  }
  return {};
}

// "8:16" -> the device's entry in `devices`, made on first sight.
Result<IoDeviceStats*> device_entry(std::string_view dev, std::vector<IoDeviceStats>& devices,
                                    const std::string& path) {
  const auto colon = dev.find(':');
  if (colon == std::string_view::npos) {
    return fail(ErrorKind::internal,
                "read " + path + ": not a device \"" + std::string(dev) + "\"");
  }
  auto major = parse_uint(dev.substr(0, colon), path);
  if (!major) return std::unexpected(major.error());
  auto minor = parse_uint(dev.substr(colon + 1), path);
  if (!minor) return std::unexpected(minor.error());
  for (auto& d : devices) {
    if (d.major == *major && d.minor == *minor) return &d;
  }
  devices.push_back({static_cast<uint32_t>(*major), static_cast<uint32_t>(*minor)});
  return &devices.back();
}

}  // namespace

Result<std::map<std::string, uint64_t, std::less<>>> keyed_values(std::string_view text,
                                                                  const std::string& path) {
  std::map<std::string, uint64_t, std::less<>> values;
  auto ok = for_each_line(text, [&](const std::vector<std::string>& w) -> Result<void> {
    if (w.size() != 2) return {};
    auto v = parse_uint(w[1], path);
    if (!v) return std::unexpected(v.error());
    values[w[0]] = *v;
    return {};
  });
  if (!ok) return std::unexpected(ok.error());
  return values;
}

Result<std::vector<IoDeviceStats>> parse_io_stat(std::string_view text, const std::string& path) {
  std::vector<IoDeviceStats> devices;
  auto ok = for_each_line(text, [&](const std::vector<std::string>& w) -> Result<void> {
    auto d = device_entry(w[0], devices, path);
    if (!d) return std::unexpected(d.error());
    for (size_t i = 1; i < w.size(); ++i) {
      const auto eq = w[i].find('=');
      if (eq == std::string::npos) continue;
      const std::string_view key = std::string_view(w[i]).substr(0, eq);
      uint64_t* out = key == "rbytes"   ? &(*d)->read_bytes
                      : key == "wbytes" ? &(*d)->write_bytes
                      : key == "rios"   ? &(*d)->read_ops
                      : key == "wios"   ? &(*d)->write_ops
                                        : nullptr;
      if (!out) continue;  // dbytes, dios, and what later kernels add
      auto v = parse_uint(std::string_view(w[i]).substr(eq + 1), path);
      if (!v) return std::unexpected(v.error());
      *out = *v;
    }
    return {};
  });
  if (!ok) return std::unexpected(ok.error());
  return devices;
}

Result<void> add_blkio_stat(std::string_view text, bool bytes, std::vector<IoDeviceStats>& devices,
                            const std::string& path) {
  return for_each_line(text, [&](const std::vector<std::string>& w) -> Result<void> {
    if (w.size() != 3 || (w[1] != "Read" && w[1] != "Write")) return {};
    auto d = device_entry(w[0], devices, path);
    if (!d) return std::unexpected(d.error());
    auto v = parse_uint(w[2], path);
    if (!v) return std::unexpected(v.error());
    const bool read = w[1] == "Read";
    (bytes ? (read ? (*d)->read_bytes : (*d)->write_bytes)
           : (read ? (*d)->read_ops : (*d)->write_ops)) = *v;
    return {};
  });
}

Result<std::optional<uint64_t>> read_optional_uint(const std::string& path) {
  auto text = read_optional(path);
  if (!text) return std::unexpected(text.error());
  if (!*text) return std::nullopt;
  return parse_uint(**text, path);
}

Result<std::vector<pid_t>> read_procs_recursive(const std::string& dir, Tree tree) {
  const auto file = join(dir, "cgroup.procs");
  auto text = read_file(file, tree);
  if (!text) return std::unexpected(text.error());
  std::vector<pid_t> pids;
  for (const auto& w : words(*text)) {
    auto n = parse_uint(w, file);
    if (!n) return std::unexpected(n.error());
    pids.push_back(static_cast<pid_t>(*n));
  }
  auto children = child_cgroups(dir);
  if (!children) return std::unexpected(children.error());
  for (const auto& child : *children) {
    auto more = read_procs_recursive(child, tree);
    if (!more) {
      if (more.error().code == ENOENT) continue;  // removed while we looked
      return more;
    }
    pids.insert(pids.end(), more->begin(), more->end());
  }
  std::ranges::sort(pids);
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  return pids;
}

Result<void> apply_writes(std::span<const FileWrite> writes, const Writer& write) {
  // The last write of a use_next chain failed for want of its file: name the chain's files
  // under the field they serve.
  auto missing = [&](size_t i, Error error) -> Result<void> {
    const auto& w = writes[i];
    if (w.field.empty()) return std::unexpected(std::move(error));
    size_t first = i;
    while (first > 0 && writes[first - 1].if_missing == IfMissing::use_next) --first;
    if (first == i) return std::unexpected(std::move(error.context(w.field)));
    std::string names;
    for (size_t j = first; j <= i; ++j) {
      names += j == first ? "neither " : j == i ? " nor " : ", ";
      names += writes[j].file;
    }
    return fail(w.field + ": the cgroup has " + names + " (" + error.message + ")", error.code);
  };
  std::vector<size_t> retry;
  for (size_t i = 0; i < writes.size(); ++i) {
    const auto& w = writes[i];
    auto done = write(w);
    if (done) {
      if (w.if_missing == IfMissing::use_next) ++i;  // the fallback is not needed
      continue;
    }
    const int code = done.error().code;
    if (code == ENOENT && w.if_missing != IfMissing::fail) continue;
    if (code == EINVAL && w.retry_at_end) {
      retry.push_back(i);
      continue;
    }
    if (code == ENOENT) return missing(i, std::move(done.error()));
    return done;
  }
  for (size_t i : retry) {
    auto done = write(writes[i]);
    if (!done && done.error().code == ENOENT) return missing(i, std::move(done.error()));
    if (!done) return done;
  }
  return {};
}

MadeDirs::~MadeDirs() {
  if (committed_) return;
  for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
    (void)remove_cgroup(*it, tree_, std::chrono::milliseconds(0));
  }
}

Result<std::vector<std::string>> MadeDirs::make(const std::string& base,
                                                std::span<const std::string> levels) {
  std::vector<std::string> made;
  std::string dir = base;
  for (const auto& level : levels) {
    dir = join(dir, level);
    if (::mkdir(dir.c_str(), 0755) == 0) {
      made_.push_back(dir);
      made.push_back(dir);
    } else if (errno != EEXIST) {
      return fail_errno("mkdir " + dir);
    } else if (!dir_exists(dir)) {
      return fail_errno("mkdir " + dir, ENOTDIR);
    }
  }
  return made;
}

std::vector<std::string> MadeDirs::commit() {
  committed_ = true;
  return std::move(made_);
}

Result<void> remove_cgroup(const std::string& path, Tree tree,
                           std::chrono::milliseconds busy_timeout) {
  auto children = child_cgroups(path);
  if (!children) {
    // Listing needs an fd, and a create that failed with EMFILE undoes its cgroup with none to
    // spare (integration/faults.bats): rmdir needs none, and refuses a cgroup with children.
    if (tree == Tree::kernel && (::rmdir(path.c_str()) == 0 || errno == ENOENT)) return {};
    return std::unexpected(children.error());
  }
  for (const auto& child : *children) {
    if (auto ok = remove_cgroup(child, tree, busy_timeout); !ok) return ok;
  }
  if (tree == Tree::stand_in) remove_stand_in_files(path);
  // Tasks that were just killed leave their cgroup a moment later: rmdir says EBUSY till then.
  auto removed = poll_until(busy_timeout, [&]() -> Result<bool> {
    if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return true;
    if (errno == EBUSY || errno == EINTR) return false;
    return fail_errno("rmdir " + path);
  });
  if (!removed) return std::unexpected(removed.error());
  if (!*removed) {
    auto busy = Error::from_errno(EBUSY, "rmdir " + path);
    busy.message += " (tasks still in it after " + std::to_string(busy_timeout.count()) + " ms)";
    return std::unexpected(busy);
  }
  return {};
}

bool remove_empty_leaves(const std::vector<std::string>& dirs, Tree tree) {
  // A stand-in's directories hold plain files: rmdir cannot tell empty from busy there.
  if (tree != Tree::kernel) return false;
  return std::ranges::all_of(
      dirs, [](const std::string& dir) { return ::rmdir(dir.c_str()) == 0 || errno == ENOENT; });
}

Result<void> remove_if_unused(const std::string& path, Tree tree) {
  if (tree == Tree::stand_in) {
    auto children = child_cgroups(path);
    if (!children) return std::unexpected(children.error());
    if (!children->empty()) return {};
    remove_stand_in_files(path);
  }
  if (::rmdir(path.c_str()) == 0) return {};
  if (errno == ENOENT || errno == EBUSY || errno == ENOTEMPTY || errno == EEXIST) return {};
  return fail_errno("rmdir " + path);
}

Result<bool> poll_until(std::chrono::milliseconds timeout,
                        const std::function<Result<bool>()>& done) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  std::chrono::milliseconds pause(1);
  for (;;) {
    auto r = done();
    if (!r || *r) return r;
    const auto now = Clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace hippo::cgroups
