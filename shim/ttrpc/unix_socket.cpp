#include "shim/ttrpc/unix_socket.hpp"

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace hippo::ttrpc {
namespace {

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

Result<UnixAddress> unix_address(std::string_view address) {
  constexpr std::string_view kScheme = "unix://";
  std::string_view path = address;
  if (path.starts_with(kScheme)) path.remove_prefix(kScheme.size());
  UnixAddress out;
  out.addr.sun_family = AF_UNIX;
  // sun_path needs room for the NUL of a filesystem path; abstract names have no NUL.
  if (path.empty() || path.size() >= sizeof(out.addr.sun_path)) {
    return fail(ErrorKind::invalid_argument,
                "unix socket address " + quoted(address) + ": empty or longer than " +
                    std::to_string(sizeof(out.addr.sun_path) - 1) + " bytes");
  }
  std::memcpy(out.addr.sun_path, path.data(), path.size());
  if (path.front() == '@') out.addr.sun_path[0] = '\0';
  out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                      (path.front() == '@' ? 0 : 1));
  return out;
}

Result<os::UniqueFd> listen_unix(std::string_view address, int backlog) {
  auto addr = unix_address(address);
  if (!addr) return std::unexpected(addr.error());
  os::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket for " + quoted(address));
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr->addr), addr->length) != 0) {
    return fail_errno("bind " + quoted(address));
  }
  if (::listen(fd.get(), backlog) != 0) return fail_errno("listen " + quoted(address));
  return fd;
}

Result<os::UniqueFd> connect_unix(std::string_view address) {
  auto addr = unix_address(address);
  if (!addr) return std::unexpected(addr.error());
  os::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket for " + quoted(address));
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr->addr), addr->length);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return fail_errno("connect " + quoted(address));
  return fd;
}

}  // namespace hippo::ttrpc
