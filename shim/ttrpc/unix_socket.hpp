#pragma once
// Unix stream socket plumbing shared by the server side (tests, the shim's listener) and both
// clients: containerd hands out addresses as "unix:///run/containerd/s/<hash>".

#include <sys/socket.h>
#include <sys/un.h>

#include <string>
#include <string_view>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace hippo::ttrpc {

struct UnixAddress {
  sockaddr_un addr{};
  socklen_t length = 0;
};

// `address`: a path with or without "unix://"; a leading '@' names an abstract socket.
Result<UnixAddress> unix_address(std::string_view address);
// A bound, listening, CLOEXEC socket at `address` (an existing file there is an error).
Result<os::UniqueFd> listen_unix(std::string_view address, int backlog = 128);
// A connected, blocking, CLOEXEC socket.
Result<os::UniqueFd> connect_unix(std::string_view address);

}  // namespace hippo::ttrpc
