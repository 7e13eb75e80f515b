// Test tool: the other end of runc's --console-socket protocol (like runc's recvtty).
// Usage: console-receiver SOCKET OUTPUT [INPUT]
// Listens on SOCKET, accepts one connection, receives the pty master, writes INPUT (if given)
// to the pty, then copies everything the container prints to OUTPUT until the pty closes.

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "runtime/linux/console.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SOCKET OUTPUT [INPUT]\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ::unlink(path.c_str());
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 1) != 0) {
    std::perror("console-receiver: listen");
    return 1;
  }
  int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) {
    std::perror("console-receiver: accept");
    return 1;
  }
  auto master = hippo::os::receive_fd(conn);
  if (!master) {
    std::fprintf(stderr, "console-receiver: %s\n", master.error().message.c_str());
    return 1;
  }
  ::unlink(path.c_str());
  int out = ::open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (argc > 3) {
    const std::string input = argv[3];
    [[maybe_unused]] auto n = ::write(master->get(), input.data(), input.size());
  }
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(master->get(), buf, sizeof buf);
    if (n <= 0) break;  // EIO: every slave fd is closed
    [[maybe_unused]] auto w = ::write(out, buf, static_cast<size_t>(n));
  }
  return 0;
}
