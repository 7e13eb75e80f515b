// Failure reports of the init child: async-signal-safe, over fixed buffers.

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "runtime/linux/init/steps.hpp"
#include "runtime/linux/sync_protocol.hpp"

namespace hippo::os::init {

int g_sync_fd = -1;
int g_fifo_fd = -1;
int g_trampoline_fd = -1;
pid_t g_host_pid = 0;

void die_with(int err, const char* what, const char* detail) {
  SyncMessage msg{};
  msg.type = SyncType::kError;
  msg.error = err;
  Text joined;
  joined.add(what).add(detail);
  size_t i = 0;
  for (; joined.buf[i] && i + 1 < sizeof msg.what; ++i) msg.what[i] = joined.buf[i];
  msg.what[i] = '\0';
  if (g_sync_fd >= 0) {
    [[maybe_unused]] auto n = ::send(g_sync_fd, &msg, sizeof msg, MSG_NOSIGNAL);
  } else if (g_fifo_fd >= 0) {
    Text t;
    t.add(what).add(detail);
    if (err) t.add(": ").add(strerrordesc_np(err));
    [[maybe_unused]] auto n = ::write(g_fifo_fd, t.buf, t.len);
  } else {
    // After kReady nobody listens on the socket: say it on stderr, like runc's init.
    Text t;
    t.add("hippo init: ").add(what).add(detail);
    if (err) t.add(": ").add(strerrordesc_np(err));
    t.add("\n");
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, t.buf, t.len);
  }
  ::_exit(1);
}

void die(const char* what, const char* detail) { die_with(errno, what, detail); }
void die(const std::string& what, const char* detail) { die_with(errno, what.c_str(), detail); }

void proc_fd_path(Text& t, int fd) { t.add("/proc/self/fd/").add(static_cast<unsigned long>(fd)); }

void write_file(const char* path, const std::string& value, const char* what) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(what);
  if (::write(fd, value.data(), value.size()) != static_cast<ssize_t>(value.size())) die(what);
  ::close(fd);
}

void write_all(int fd, const char* s, size_t n, const char* what) {
  while (n) {
    const ssize_t w = ::write(fd, s, n);
    if (w <= 0) die(what);
    s += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace hippo::os::init
