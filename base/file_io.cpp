#include "base/file_io.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

namespace hippo {
namespace {

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Result<void> write_fd(int fd, std::string_view content, const std::string& path) {
  while (!content.empty()) {
    const ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("write " + path);
    }
    content.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<std::string> read_text_file(const std::string& path) {
  return read_text_file(path, std::numeric_limits<size_t>::max(), path);
}

Result<std::string> read_text_file(const std::string& path, size_t max_bytes,
                                   std::string_view label) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) return fail_errno("open " + path);
  return read_fd(f.fd, path, max_bytes, label);
}

Result<std::string> read_fd(int fd, const std::string& path, size_t max_bytes,
                            std::string_view label) {
  // Read straight into the string (no stack buffer: the shim daemon keeps every stack page it
  // ever touched). st_size is a hint only: /proc and cgroup files report 0.
  struct stat st {};
  const size_t hint = ::fstat(fd, &st) == 0 && st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0;
  if (hint > max_bytes) return fail(size_limit_message(label, hint, max_bytes), EFBIG);
  // One byte past the limit is read, to tell a file of exactly max_bytes from a longer one.
  const size_t cap = max_bytes == std::numeric_limits<size_t>::max() ? max_bytes : max_bytes + 1;
  std::string out;
  size_t used = 0;
  for (;;) {
    if (used == out.size()) {
      if (used == cap) break;
      out.resize(std::min(std::max<size_t>(used + 4096, hint + 1), cap));
    }
    const ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read " + path);
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (used > max_bytes) return fail(size_limit_message(label, 0, max_bytes), EFBIG);
  out.resize(used);
  return out;
}

std::string size_limit_message(std::string_view label, size_t size, size_t max_bytes) {
  constexpr size_t kMiB = size_t{1} << 20, kKiB = size_t{1} << 10;
  const std::string limit = max_bytes % kMiB == 0   ? std::to_string(max_bytes / kMiB) + " MiB"
                            : max_bytes % kKiB == 0 ? std::to_string(max_bytes / kKiB) + " KiB"
                                                    : std::to_string(max_bytes) + " bytes";
  if (size == 0) return std::string(label) + ": over the " + limit + " limit";
  return std::string(label) + ": " + std::to_string(size) + " bytes is over the " + limit +
         " limit";
}

Result<void> write_text_file(const std::string& path, std::string_view content, unsigned mode) {
  Fd f{::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)};
  if (f.fd < 0) return fail_errno("open " + path);
  return write_fd(f.fd, content, path);
}

Result<void> replace_text_file(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  if (auto ok = write_text_file(tmp, content); !ok) {
    ::unlink(tmp.c_str());
    return ok;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = fail_errno("rename " + tmp + " to " + path);
    ::unlink(tmp.c_str());
    return err;
  }
  return {};
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    lines.emplace_back(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  return lines;
}

void write_all(int fd, std::string_view text) {
  (void)write_fd(fd, text, "fd " + std::to_string(fd));
}

Result<void> make_directories(const std::string& path, unsigned mode) {
  if (path.empty()) return fail("mkdir: empty path", ENOENT);
  if (::mkdir(path.c_str(), mode) == 0 || (errno == EEXIST && is_directory(path))) return {};
  if (errno != ENOENT) return fail_errno("mkdir " + path);
  const std::string parent = parent_path(normalize_path(path));
  if (parent.empty() || parent == path) return fail_errno("mkdir " + path, ENOENT);
  if (auto ok = make_directories(parent, mode); !ok) return ok;
  if (::mkdir(path.c_str(), mode) == 0 || (errno == EEXIST && is_directory(path))) return {};
  return fail_errno("mkdir " + path);
}

namespace {

// Empties the directory open on `dir` (which it closes), depth first, never following symlinks.
Result<void> empty_directory(int dir, const std::string& path) {
  DIR* d = ::fdopendir(dir);
  if (!d) {
    auto err = fail_errno("open " + path);
    ::close(dir);
    return err;
  }
  Result<void> result;
  while (dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string child = path + "/" + e->d_name;
    if (::unlinkat(::dirfd(d), e->d_name, 0) == 0 || errno == ENOENT) continue;
    if (errno != EISDIR && errno != EPERM) {
      result = fail_errno("remove " + child);
      break;
    }
    const int sub =
        ::openat(::dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) {
      result = fail_errno("open " + child);
      break;
    }
    if (auto ok = empty_directory(sub, child); !ok) {
      result = ok;
      break;
    }
    if (::unlinkat(::dirfd(d), e->d_name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
      result = fail_errno("remove " + child);
      break;
    }
  }
  ::closedir(d);
  return result;
}

}  // namespace

Result<void> remove_tree(const std::string& path) {
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR && errno != EPERM) return fail_errno("remove " + path);
  const int dir = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0) return errno == ENOENT ? Result<void>{} : fail_errno("open " + path);
  if (auto ok = empty_directory(dir, path); !ok) return ok;
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return fail_errno("remove " + path);
  return {};
}

Result<std::vector<std::string>> list_directory(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) return fail_errno("open " + path);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(d);
  return names;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::string> current_directory() {
  std::string buf(256, '\0');
  while (::getcwd(buf.data(), buf.size()) == nullptr) {
    if (errno != ERANGE) return fail_errno("getcwd");
    buf.resize(buf.size() * 2);
  }
  buf.resize(std::strlen(buf.c_str()));
  return buf;
}

std::string join_path(std::string_view base, std::string_view rest) {
  if (!rest.empty() && rest.front() == '/') return std::string(rest);
  std::string out(base);
  if (!out.empty() && out.back() != '/') out += '/';
  out += rest;
  return out;
}

Result<std::string> absolute_path(const std::string& path) {
  if (!path.empty() && path.front() == '/') return path;
  auto cwd = current_directory();
  if (!cwd) return cwd;
  return path.empty() ? *cwd : join_path(*cwd, path);
}

std::string normalize_path(std::string_view path) {
  if (path.empty()) return {};
  const bool absolute = path.front() == '/';
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const auto part = path.substr(0, slash);
    path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
        continue;
      }
      if (absolute) continue;  // "/.." is "/"
    }
    parts.push_back(part);
  }
  std::string out = absolute ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

std::string parent_path(std::string_view path) {
  const auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return {};
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace hippo
