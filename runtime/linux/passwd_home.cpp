#include "runtime/linux/passwd_home.hpp"

#include <fcntl.h>

#include <charconv>

#include "base/file_io.hpp"
#include "base/syscalls.hpp"
#include "base/unique_fd.hpp"

namespace hippo::os {
namespace {

// A passwd larger than this is not one a container's process should wait for.
constexpr size_t kMaxPasswdBytes = 8 << 20;

// Field `n` (0-based) of a colon-separated line; empty when the line has fewer.
std::string_view field(std::string_view line, int n) {
  for (int i = 0; i < n; ++i) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return {};
    line.remove_prefix(colon + 1);
  }
  return line.substr(0, line.find(':'));
}

std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

}  // namespace

std::string passwd_home(std::string_view passwd, uint32_t uid) {
  const std::string name = std::to_string(uid);
  for (const auto& raw : split_lines(passwd)) {
    const std::string_view line = trim(raw);
    if (line.empty()) continue;
    const auto id = field(line, 2);
    uint32_t value = 0;
    const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
    const bool uid_matches = ec == std::errc{} && end == id.data() + id.size() && value == uid;
    if (uid_matches || field(line, 0) == name) return std::string(field(line, 5));
  }
  return "/";
}

bool has_home(const std::vector<std::string>& env) {
  // runc tests os.Getenv("HOME") == "": an empty HOME is replaced too. The last entry wins, as
  // getenv sees the environment runc builds from process.env.
  bool home = false;
  for (const auto& kv : env) {
    if (kv.starts_with("HOME=")) home = kv.size() > 5;
  }
  return home;
}

Result<void> add_default_home(std::vector<std::string>& env, const std::string& root,
                              uint32_t uid) {
  if (has_home(env)) return {};
  const std::string path = join_path(root, "etc/passwd");
  // No rootfs to look into is left to the bundle check, which reports it.
  UniqueFd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  UniqueFd fd;
  if (dir) {
    fd = UniqueFd(sys::openat2(dir.get(), "etc/passwd", O_RDONLY | O_CLOEXEC,
                               RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS));
  }
  std::string home = "/";
  if (fd) {
    auto text = read_fd(fd.get(), path, kMaxPasswdBytes, path);
    if (!text) return forward(text, "HOME for uid " + std::to_string(uid));
    home = passwd_home(*text, uid);
  } else if (errno != ENOENT) {
    return fail_errno("HOME for uid " + std::to_string(uid) + ": open " + path);
  }
  std::erase_if(env, [](const std::string& kv) { return kv.starts_with("HOME="); });
  env.push_back("HOME=" + home);
  return {};
}

}  // namespace hippo::os
