#include "shim/stdio.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "base/file_io.hpp"
#include "base/syscalls.hpp"

namespace hippo::shim {
namespace {

using os::UniqueFd;

std::string fifo_path(const std::string& uri) {
  return uri.starts_with("fifo://") ? uri.substr(7) : uri;
}

Result<UniqueFd> open_fd(const std::string& path, int flags, mode_t mode = 0) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC, mode));
  if (!fd) return fail_errno("open " + path);
  return fd;
}

Result<void> clear_nonblock(int fd) {
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) return fail_errno("fcntl stdio");
  return {};
}

// An output FIFO: our reader first (a non-blocking open that never waits), then the
// process's writer (which then cannot block: a reader exists).
Result<void> open_output(const std::string& uri, UniqueFd& keepalive, UniqueFd& process) {
  const auto path = fifo_path(uri);
  auto reader = open_fd(path, O_RDONLY | O_NONBLOCK);
  if (!reader) return std::unexpected(reader.error());
  auto writer = open_fd(path, O_WRONLY | O_NONBLOCK);
  if (!writer) return std::unexpected(writer.error());
  if (auto ok = clear_nonblock(writer->get()); !ok) return ok;
  keepalive = std::move(*reader);
  process = std::move(*writer);
  return {};
}

// containerd's logging-binary protocol: the logger gets the read ends of the process's stdout
// and stderr pipes as fds 3 and 4 and a readiness pipe as fd 5, args from the URI's query,
// and an environment of exactly CONTAINER_ID and CONTAINER_NAMESPACE. It exits once both
// pipes reach EOF; the daemon reaps it as an orphan-like child.
Result<void> start_logger(const std::string& uri, const StdioUris& uris, Stdio& io) {
  const bool v2 = uri.starts_with("binary-v2://");
  std::string rest = uri.substr(v2 ? 12 : 9);
  std::string query;
  if (auto q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest.resize(q);
  }
  std::vector<std::string> args{rest};
  for (size_t start = 0; start < query.size();) {
    size_t amp = query.find('&', start);
    if (amp == std::string::npos) amp = query.size();
    const std::string kv = query.substr(start, amp - start);
    const size_t eq = kv.find('=');
    args.push_back(kv.substr(0, eq));
    args.push_back(eq == std::string::npos ? "" : kv.substr(eq + 1));
    start = amp + 1;
  }
  int out[2], err[2], ready[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 ||
      ::pipe2(ready, O_CLOEXEC) != 0) {
    return fail_errno("pipes for logger " + rest);
  }
  UniqueFd out_r(out[0]), out_w(out[1]), err_r(err[0]), err_w(err[1]), ready_r(ready[0]),
      ready_w(ready[1]);
  const std::string env_id = "CONTAINER_ID=" + uris.container_id;
  const std::string env_ns = "CONTAINER_NAMESPACE=" + uris.ns;
  std::vector<char*> argv,
      envp{const_cast<char*>(env_id.c_str()), const_cast<char*>(env_ns.c_str()), nullptr};
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return fail_errno("fork logger " + rest);
  if (pid == 0) {
    // Only async-signal-safe calls until execve: fds onto 3, 4, 5 (dup2 clears CLOEXEC).
    if (::dup2(out_r.get(), 3) < 0 || ::dup2(err_r.get(), 4) < 0 || ::dup2(ready_w.get(), 5) < 0)
      ::_exit(127);
    // The daemon blocks SIGCHLD/SIGTERM/SIGINT (signalfd) and ignores SIGPIPE; both survive
    // execve. A logger inheriting them hangs in `wait` for its own children, forever.
    os::sys::reset_signals();
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ready_w.reset();
  pollfd p{ready_r.get(), POLLIN, 0};
  if (::poll(&p, 1, 10000) <= 0) return fail("logger " + rest + " did not get ready in 10 s");
  char byte = 0;
  const ssize_t n = ::read(ready_r.get(), &byte, 1);
  if (v2 && n != 1) return fail("logger " + rest + " exited before it was ready");
  io.process_stdout = std::move(out_w);
  io.process_stderr = std::move(err_w);
  return {};
}

}  // namespace

void Stdio::close_process_copies() {
  process_stdin.reset();
  process_stdout.reset();
  process_stderr.reset();
}

size_t Stdio::unread_output() const {
  size_t total = 0;
  for (const auto* fd : {&stdout_keepalive, &stderr_keepalive}) {
    int n = 0;
    if (*fd && ::ioctl(fd->get(), FIONREAD, &n) == 0 && n > 0) total += static_cast<size_t>(n);
  }
  return total;
}

Result<Stdio> open_stdio(const StdioUris& uris) {
  Stdio io;
  const auto& out = uris.stdout_uri;
  if (out.starts_with("binary://") || out.starts_with("binary-v2://")) {
    if (auto ok = start_logger(out, uris, io); !ok) return std::unexpected(ok.error());
  } else if (out.starts_with("file://")) {
    // Both output streams appended to one file.
    const std::string path = out.substr(7);
    if (const auto dir = parent_path(path); !dir.empty())
      (void)make_directories(dir);  // open names the failure
    auto file = open_fd(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (!file) return std::unexpected(file.error());
    io.process_stderr = UniqueFd(::fcntl(file->get(), F_DUPFD_CLOEXEC, 3));
    io.process_stdout = std::move(*file);
  } else if (uris.terminal) {
    if (!out.empty()) {
      UniqueFd keep, writer;
      if (auto ok = open_output(out, keep, writer); !ok) return std::unexpected(ok.error());
      ::fcntl(writer.get(), F_SETFL, ::fcntl(writer.get(), F_GETFL) | O_NONBLOCK);
      io.stdout_keepalive = std::move(keep);
      io.terminal_out = std::move(writer);
    }
    // With a terminal the client never opens stderr: do not touch it.
  } else {
    if (!out.empty()) {
      if (auto ok = open_output(out, io.stdout_keepalive, io.process_stdout); !ok) {
        return std::unexpected(ok.error());
      }
    }
    if (!uris.stderr_uri.empty()) {
      if (auto ok = open_output(uris.stderr_uri, io.stderr_keepalive, io.process_stderr); !ok) {
        return std::unexpected(ok.error());
      }
    }
  }
  if (!uris.stdin_uri.empty()) {
    const auto path = fifo_path(uris.stdin_uri);
    auto reader = open_fd(path, O_RDONLY | O_NONBLOCK);
    if (!reader) return std::unexpected(reader.error());
    auto keep = open_fd(path, O_WRONLY | O_NONBLOCK);
    if (!keep) return std::unexpected(keep.error());
    io.stdin_keepalive = std::move(*keep);
    if (uris.terminal) {
      io.terminal_in = std::move(*reader);
    } else {
      if (auto ok = clear_nonblock(reader->get()); !ok) return std::unexpected(ok.error());
      io.process_stdin = std::move(*reader);
    }
  }
  // Missing streams read from / write to /dev/null rather than the shim's own stdio.
  for (auto* fd : {&io.process_stdin, &io.process_stdout, &io.process_stderr}) {
    if (!*fd && !uris.terminal) {
      auto null = open_fd("/dev/null", O_RDWR);
      if (!null) return std::unexpected(null.error());
      *fd = std::move(*null);
    }
  }
  return io;
}

std::optional<size_t> unread_by_clients(const StdioUris& uris) {
  std::optional<size_t> unread;
  for (const std::string* uri : {&uris.stdout_uri, &uris.stderr_uri}) {
    if (uri->empty() || uri->starts_with("binary") || uri->starts_with("file://")) continue;
    if (uris.terminal && uri == &uris.stderr_uri) continue;  // never opened
    const auto path = fifo_path(*uri);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISFIFO(st.st_mode)) continue;
    // A writer opens without blocking only while a reader exists (ENXIO otherwise). The probe
    // lives for a moment: a reader at EOF sees the hangup again once it is closed.
    UniqueFd probe(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    if (!probe) continue;
    int n = 0;
    if (::ioctl(probe.get(), FIONREAD, &n) != 0 || n < 0) n = 0;
    unread = unread.value_or(0) + static_cast<size_t>(n);
  }
  return unread;
}

}  // namespace hippo::shim
