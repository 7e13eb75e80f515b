// The container's terminal, made by init: a pty of its own devpts, sent to the console socket.
// Runs in the cloned child. Rules: no allocation, no locks, no exceptions, no logging library:
// raw system calls over the pre-built plan; a failed step reports {errno, what} to the parent and
// _exits. Fixed-size buffers live on the stack.

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "base/syscalls.hpp"
#include "runtime/linux/init/steps.hpp"

namespace hippo::os::init {

void setup_console(const InitPlan& plan) {
  int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) die("open /dev/ptmx");
  int unlock = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) != 0) die("unlock pty");
  unsigned int number = 0;
  if (::ioctl(master, TIOCGPTN, &number) != 0) die("get pty number");
  Text slave_path;
  slave_path.add("/dev/pts/").add(static_cast<unsigned long>(number));
  // Not O_CLOEXEC: the slave becomes stdio below, and where open returns 0–2 itself, dup2 onto
  // the same fd would keep the flag and the process would start without that stream.
  int slave = ::open(slave_path.buf, O_RDWR | O_NOCTTY);  // NOLINT(android-cloexec-open)
  if (slave < 0) die("open ", slave_path.buf);
  if (plan.console_rows && plan.console_cols) {
    winsize ws{};
    ws.ws_row = plan.console_rows;
    ws.ws_col = plan.console_cols;
    ::ioctl(slave, TIOCSWINSZ, &ws);
  }
  if (::fchown(slave, plan.uid, static_cast<gid_t>(-1)) != 0) die("chown ", slave_path.buf);

  // SCM_RIGHTS with the pty's name as the payload, as runc's utils.SendFd does.
  static const char kName[] = "/dev/ptmx";
  if (sys::send_fd(plan.console_fd, master, kName, sizeof kName - 1) < 0)
    die("send pty master to the console socket");
  ::close(master);
  ::close(plan.console_fd);

  if (::setsid() < 0) die("setsid");
  if (::ioctl(slave, TIOCSCTTY, 0) != 0) die("set controlling terminal");
  for (int fd = 0; fd < 3; ++fd) {
    if (::dup2(slave, fd) < 0) die("dup pty to stdio");
  }
  if (slave > 2) ::close(slave);
}

}  // namespace hippo::os::init
