#pragma once
// A container process's stdio from the URIs containerd gives (FIFO paths, file://,
// binary:// and binary-v2:// loggers, empty).
// The process gets the FIFOs themselves: no copy through the shim, and output keeps flowing
// to a reader that reattaches after a containerd restart. The shim keeps a reader on each
// output FIFO (a vanished client must not SIGPIPE the container) and a writer on stdin (a
// detaching client must not EOF it) until CloseIO.

#include <optional>
#include <string>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace hippo::shim {

struct StdioUris {
  std::string stdin_uri, stdout_uri, stderr_uri;
  bool terminal = false;
  std::string container_id, ns;  // for binary:// loggers' environment

  bool operator==(const StdioUris&) const = default;
};

struct Stdio {
  // Handed to the process; the shim closes its copies once the process has them.
  os::UniqueFd process_stdin, process_stdout, process_stderr;
  // Held by the shim.
  os::UniqueFd stdin_keepalive;   // closed by CloseIO
  os::UniqueFd stdout_keepalive;  // readers keeping the output FIFOs from losing all readers
  os::UniqueFd stderr_keepalive;
  // With a terminal the shim relays between the pty and these.
  os::UniqueFd terminal_in;   // stdin FIFO, read side (non-blocking)
  os::UniqueFd terminal_out;  // stdout FIFO, write side (non-blocking)

  void close_process_copies();
  // Bytes in the output FIFOs that no one has read yet, seen through the shim's readers.
  size_t unread_output() const;
};

Result<Stdio> open_stdio(const StdioUris& uris);

// After a process has exited and the shim has closed its own readers and writers: nullopt once
// no client holds any of its output FIFOs open (each has read to EOF and closed it, or there
// was none); otherwise the bytes still unread in those held open.
std::optional<size_t> unread_by_clients(const StdioUris& uris);

}  // namespace hippo::shim
