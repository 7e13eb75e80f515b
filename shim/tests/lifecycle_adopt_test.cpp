// Adoption in the lifecycle layer (shim/lifecycle_adopt.cpp): a successor takes over a dead
// daemon's processes from its record. Each process here is a real one that is not the test's
// child (as a dead daemon's processes are not their successor's: they are the keeper's), so
// only keeper_exited, standing in for the keeper's pipe, says how it ended.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/syscalls.hpp"
#include "shim/lifecycle.hpp"
#include "shim/tests/fake_backend.hpp"
#include "shim/ttrpc/tests/test_support.hpp"

namespace hippo::shim {
namespace {

using test_support::FakeBackend;
using ttrpc::test_support::eventually;
using ttrpc::test_support::LoopThread;
using ttrpc::test_support::TempDir;

class Recorder : public LifecycleEvents {
 public:
  void exited(const Container& c, const Process& p) override {
    log.push_back("exit " + (p.is_init() ? c.id : p.exec_id) + " " + std::to_string(p.exit_status));
  }
  void oom(const Container&) override {}
  std::vector<std::string> log;
};

// A `sleep` that is not our child: forked by a child that exits at once.
pid_t orphan_sleep() {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return -1;
  const pid_t middle = ::fork();
  if (middle == 0) {
    const pid_t sleeper = ::fork();
    if (sleeper == 0) {
      ::execl("/bin/sleep", "sleep", "1000", nullptr);
      ::_exit(127);
    }
    (void)!::write(ready[1], &sleeper, sizeof sleeper);
    ::_exit(0);
  }
  pid_t sleeper = -1;
  (void)!::read(ready[0], &sleeper, sizeof sleeper);
  ::close(ready[0]);
  ::close(ready[1]);
  ::waitpid(middle, nullptr, 0);
  return sleeper;
}

class LifecycleAdoptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_.run([&] {
      runtime::BackendChoice choice;
      choice.native.state_root = dir_.path() + "/state";
      lifecycle_ = std::make_unique<Lifecycle>(
          loop_.loop(), recorder_, choice, "ns", [](const runtime::BackendChoice&) {
            return std::make_unique<FakeBackend>(std::make_shared<FakeBackend::Settings>());
          });
    });
  }
  void TearDown() override {
    for (pid_t pid : orphans_) ::kill(pid, SIGKILL);
    loop_.run([&] { lifecycle_.reset(); });
    loop_.stop();
  }

  SnapshotProcess running(const std::string& exec_id) {
    SnapshotProcess p;
    p.exec_id = exec_id;
    p.state = ProcessState::kRunning;
    p.pid = orphan_sleep();
    orphans_.push_back(p.pid);
    p.pidfd = os::sys::pidfd_open(p.pid);
    return p;
  }

  std::vector<std::string> log() {
    return loop_.run([&] { return recorder_.log; });
  }

  TempDir dir_;
  LoopThread loop_;
  Recorder recorder_;
  std::unique_ptr<Lifecycle> lifecycle_;
  std::vector<pid_t> orphans_;
};

TEST_F(LifecycleAdoptTest, AdoptedProcessesExitAsTheKeeperSaysAndWaitsAreAnswered) {
  SnapshotContainer c;
  c.id = "c1";
  c.bundle = dir_.path();
  c.init = running("");
  c.init.waiters = {{7, 3}};
  c.execs.push_back(running("e1"));
  SnapshotProcess gone;  // reaped by the dead daemon after its record: the status is lost
  gone.exec_id = "e2";
  gone.state = ProcessState::kRunning;
  gone.pid = 1;
  c.execs.push_back(gone);
  SnapshotProcess reaped;  // reaped, its exit held for its output when the daemon died
  reaped.exec_id = "e3";
  reaped.state = ProcessState::kRunning;
  reaped.reaped = true;
  reaped.exit_status = 3;
  c.execs.push_back(reaped);
  std::vector<std::string> answered;
  loop_.run([&] {
    lifecycle_->adopt({c}, [&](const SnapshotWaiter& w) -> std::optional<Process::Waiter> {
      return Process::Waiter{w.connection, w.stream, [&, w](const Process& p) {
                               answered.push_back("wait " + std::to_string(w.connection) + "/" +
                                                  std::to_string(w.stream) + " " +
                                                  std::to_string(p.exit_status));
                             }};
    });
  });
  ASSERT_TRUE(eventually([&] { return log().size() == 2; }));
  EXPECT_EQ(log(), (std::vector<std::string>{"exit e2 255", "exit e3 3"}));

  // The exec ends; the pidfd says so, but only the keeper knows how.
  ASSERT_EQ(::kill(c.execs[0].pid, SIGKILL), 0);
  loop_.run([&] { lifecycle_->keeper_exited(c.execs[0].pid, SIGKILL); });
  ASSERT_TRUE(eventually([&] { return log().size() == 3; }));
  EXPECT_EQ(log().back(), "exit e1 137");
  // An exit for a pid that is none of ours is dropped.
  loop_.run([&] { lifecycle_->keeper_exited(1, 0); });

  ASSERT_EQ(::kill(c.init.pid, SIGKILL), 0);
  loop_.run([&] { lifecycle_->keeper_exited(c.init.pid, 2 << 8); });  // exit code 2
  ASSERT_TRUE(eventually([&] { return log().size() == 4; }));
  EXPECT_EQ(log().back(), "exit c1 2");
  EXPECT_EQ(loop_.run([&] { return answered; }), (std::vector<std::string>{"wait 7/3 2"}));

  // What a successor of the successor would read: every exit reported, no fd left to name.
  std::vector<SnapshotContainer> again;
  loop_.run([&] {
    SnapshotContainer scratch;
    lifecycle_->snapshot_each(scratch, [&](SnapshotContainer& one) { again.push_back(one); });
  });
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].init.state, ProcessState::kStopped);
  EXPECT_EQ(again[0].init.pidfd, -1);
  EXPECT_EQ(again[0].execs.size(), 3u);

  // Read into memory a recorder kept from earlier spells (another container's: a terminal's
  // relay fds, a pending Wait, more execs): every field is set again.
  SnapshotContainer kept;
  kept.id = "stale";
  kept.init.output_in = 42;
  kept.init.input_out = 43;
  kept.init.waiters = {{1, 2}};
  kept.execs.resize(5);
  kept.execs[0].waiters = {{3, 4}};
  std::vector<SnapshotContainer> read;
  loop_.run([&] {
    lifecycle_->snapshot_each(kept, [&](SnapshotContainer& one) { read.push_back(one); });
  });
  EXPECT_EQ(read, again);
}

}  // namespace
}  // namespace hippo::shim
