// The keeper (shim/keeper.hpp) for real: daemons cloned sharing its fd table, SIGKILLed, their
// fds and orphans taken over. Each test runs the keeper in a forked child (it makes itself a
// subreaper and blocks) and hears from the daemons through a pipe.

#include "shim/keeper.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>

namespace hippo::shim {
namespace {

struct Report {
  int32_t a = 0, b = 0;
};

bool read_report(int fd, Report& r) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 10000) == 1 && ::read(fd, &r, sizeof r) == sizeof r;
}

void send(int fd, int32_t a, int32_t b) {
  const Report r{a, b};
  (void)!::write(fd, &r, sizeof r);
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

constexpr int kKeptFd = 100;  // where the first daemon leaves an fd for the second to find

TEST(Keeper, TheNextDaemonFindsTheFdsAndHearsOfTheOrphansExits) {
  int report[2];
  ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
  const pid_t keeper = ::fork();
  ASSERT_GE(keeper, 0);
  if (keeper == 0) {
    ::_exit(run_keeper([&](const KeeperContext& k) -> int {
      if (k.generation == 0) {
        int kept[2];
        if (::pipe2(kept, O_CLOEXEC) != 0 || ::write(kept[1], "x", 1) != 1) return 10;
        ::dup2(kept[0], kKeptFd);
        const pid_t container = ::fork();
        if (container == 0) {
          ::pause();
          ::_exit(0);
        }
        send(report[1], container, 0);
        ::raise(SIGKILL);
      }
      char c = 0;
      if (::read(kKeptFd, &c, 1) != 1 || c != 'x') return 11;
      pollfd p{k.exits_fd, POLLIN, 0};
      if (::poll(&p, 1, 10000) != 1) return 12;
      KeeperExit exit;
      if (::read(k.exits_fd, &exit, sizeof exit) != sizeof exit) return 13;
      send(report[1], exit.pid, exit.status);
      return 0;  // planned: the keeper ends too
    }));
  }
  ::close(report[1]);
  Report container, exit;
  ASSERT_TRUE(read_report(report[0], container));
  ASSERT_EQ(::kill(container.a, SIGKILL), 0);
  ASSERT_TRUE(read_report(report[0], exit));
  EXPECT_EQ(exit.a, container.a);
  EXPECT_TRUE(WIFSIGNALED(exit.b));
  EXPECT_EQ(WTERMSIG(exit.b), SIGKILL);
  EXPECT_EQ(wait_exit_code(keeper), 0);
  ::close(report[0]);
}

TEST(Keeper, GivesUpOnADaemonThatKeepsDying) {
  int report[2];
  ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
  const pid_t keeper = ::fork();
  ASSERT_GE(keeper, 0);
  if (keeper == 0) {
    ::_exit(run_keeper(
        [&](const KeeperContext& k) -> int {
          send(report[1], static_cast<int32_t>(k.generation), 0);
          return 3;
        },
        KeeperLimits{2, std::chrono::seconds(60)}));
  }
  ::close(report[1]);
  EXPECT_EQ(wait_exit_code(keeper), 1);
  int generations = 0;
  Report r;
  while (::read(report[0], &r, sizeof r) == sizeof r) ++generations;
  EXPECT_EQ(generations, 3);  // the first and two restarts
  ::close(report[0]);
}

}  // namespace
}  // namespace hippo::shim
