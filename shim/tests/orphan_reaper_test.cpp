// The daemon's orphan reaper: every exited child that is not the shim's own is reaped, also
// those the kernel lists after a zombie of the shim's own (issue 14, bug 2: the reaper stopped
// at the first zombie it owned, leaving the orphans behind it until the next SIGCHLD).

#include "shim/orphan_reaper.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace hippo::shim {
namespace {

pid_t exited_child(int code) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(code);
  // Blocks until it has exited, leaves it a zombie.
  siginfo_t info{};
  EXPECT_EQ(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
  return pid;
}

bool is_zombie_child(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

TEST(OrphanReaper, ReapsOrphansListedAfterAZombieOfOurOwn) {
  // Children are listed oldest first: ours comes before the orphans.
  const pid_t ours = exited_child(0);
  const pid_t orphan1 = exited_child(1);
  const pid_t orphan2 = exited_child(2);
  EXPECT_GE(reap_orphans([&](pid_t pid) { return pid == ours; }), 2);
  EXPECT_FALSE(is_zombie_child(orphan1));
  EXPECT_FALSE(is_zombie_child(orphan2));
  // Ours stays for its pidfd's reaper, with its status.
  ASSERT_TRUE(is_zombie_child(ours));
  ASSERT_EQ(::waitpid(ours, nullptr, 0), ours);
}

TEST(OrphanReaper, LeavesLiveChildrenAlone) {
  int gate[2];
  ASSERT_EQ(::pipe2(gate, O_CLOEXEC), 0);
  const pid_t live = ::fork();
  if (live == 0) {
    ::close(gate[1]);
    char c;
    (void)::read(gate[0], &c, 1);
    ::_exit(0);
  }
  ::close(gate[0]);
  const pid_t orphan = exited_child(4);
  EXPECT_GE(reap_orphans([](pid_t) { return false; }), 1);
  EXPECT_FALSE(is_zombie_child(orphan));
  EXPECT_EQ(::kill(live, 0), 0);  // still running, still ours to wait for
  ::close(gate[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(live, &status, 0), live);
}

}  // namespace
}  // namespace hippo::shim
