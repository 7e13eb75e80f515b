#include "shim/stdio.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace hippo::shim {
namespace {

using linux::UniqueFd;

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

}  // namespace

void Stdio::close_process_copies() {
  process_stdin.reset();
  process_stdout.reset();
  process_stderr.reset();
}

Result<Stdio> open_stdio(const StdioUris& uris) {
  Stdio io;
  const auto& out = uris.stdout_uri;
  if (out.starts_with("binary://") || out.starts_with("binary-v2://")) {
    return fail("stdio: binary:// loggers are not supported by hippo yet");
  }
  if (out.starts_with("file://")) {
    // Both output streams appended to one file.
    const std::string path = out.substr(7);
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
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

}  // namespace hippo::shim
