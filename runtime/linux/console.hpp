#pragma once
// The parent's side of terminals: runc's --console-socket protocol (a unix socket that receives
// the pty master by SCM_RIGHTS), and what `hippo run` needs to be that receiver itself.

#include <termios.h>

#include <string>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace hippo::os {

// Connects to the console socket a caller (containerd, Docker, a test) listens on.
Result<UniqueFd> connect_console_socket(const std::string& path);

// Receives one fd sent with SCM_RIGHTS on `socket`.
Result<UniqueFd> receive_fd(int socket);

// Puts a terminal fd in raw mode for the life of the object, if it is a terminal.
class RawMode {
 public:
  explicit RawMode(int fd);
  ~RawMode();
  RawMode(const RawMode&) = delete;
  RawMode& operator=(const RawMode&) = delete;

 private:
  int fd_;
  bool active_ = false;
  termios saved_{};
};

// Copies the window size of terminal `from` to `to` (no-op if `from` is not a terminal).
void copy_window_size(int from, int to);

}  // namespace hippo::os
