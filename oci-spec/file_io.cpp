#include "oci-spec/file_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace hippo {
namespace {

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

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

}  // namespace

Result<std::string> read_text_file(const std::string& path) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) return fail_errno("open " + path);
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read " + path);
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
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

void write_all(int fd, std::string_view text) { (void)write_fd(fd, text, "fd " + std::to_string(fd)); }

}  // namespace hippo
