// A seccomp notify agent for the Bats suites: listens on a unix socket
// (linux.seccomp.listenerPath), takes one runtime connection, writes the ContainerProcessState JSON
// it carries to OUT.json and the kind of the fd that came with it to OUT.fd, then answers every
// notified syscall with errno EXDEV until the container's filter goes away (bounded: 30 s).
//
// usage: seccomp-agent SOCKET OUT

#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: seccomp-agent SOCKET OUT\n");
    return 2;
  }
  const std::string out = argv[2];
  int srv = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
  ::unlink(argv[1]);
  if (::bind(srv, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(srv, 1) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  std::ofstream(out + ".ready") << "ready\n";
  pollfd p{srv, POLLIN, 0};
  if (::poll(&p, 1, 30000) != 1) return 1;
  int conn = ::accept4(srv, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) return 1;
  std::string json(65536, '\0');
  iovec iov{json.data(), json.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  if (n <= 0) return 1;
  json.resize(static_cast<size_t>(n));
  int fd = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_type == SCM_RIGHTS) std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  }
  std::ofstream(out + ".json") << json << "\n";
  char link[256] = {};
  if (fd >= 0) {
    [[maybe_unused]] auto len =
        ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), link, sizeof link - 1);
  }
  std::ofstream(out + ".fd") << link << "\n";
  if (fd < 0) return 1;
  for (;;) {
    pollfd q{fd, POLLIN, 0};
    if (::poll(&q, 1, 30000) != 1 || (q.revents & (POLLHUP | POLLERR))) break;
    seccomp_notif req{};
    if (::ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
      if (errno == EINTR || errno == ENOENT) continue;
      break;
    }
    seccomp_notif_resp resp{};
    resp.id = req.id;
    resp.error = -EXDEV;
    ::ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
  }
  return 0;
}
