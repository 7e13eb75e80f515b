// The lifecycle layer with a fake backend whose processes are real children (fake_backend.hpp):
// the order exits are reported in, Wait, and the transition table as the shim applies it.

#include "shim/lifecycle.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "shim/tests/fake_backend.hpp"
#include "shim/ttrpc/tests/test_support.hpp"

namespace hippo::shim {
namespace {

using test_support::FakeBackend;
using ttrpc::test_support::eventually;
using ttrpc::test_support::LoopThread;
using ttrpc::test_support::TempDir;

// What the lifecycle reported and Wait answered, in order, as "exit c1", "wait e1 status 9".
class Recorder : public LifecycleEvents {
 public:
  void exited(const Container& c, const Process& p) override {
    log.push_back("exit " + (p.is_init() ? c.id : p.exec_id));
  }
  void oom(const Container& c) override { log.push_back("oom " + c.id); }
  std::vector<std::string> log;
};

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.path() + "/bundle");
    loop_.run([&] {
      runtime::BackendChoice choice;
      choice.native.state_root = dir_.path() + "/state";
      lifecycle_ = std::make_unique<Lifecycle>(loop_.loop(), recorder_, choice, "ns",
                                               [this](const runtime::BackendChoice& made) {
                                                 made_.push_back(made);
                                                 return std::make_unique<FakeBackend>(settings_);
                                               });
    });
  }
  void TearDown() override {
    // Whatever a test left running goes with its container.
    loop_.run([&] {
      if (auto c = lifecycle_->container("c1")) (void)(*c)->backend->kill("c1", SIGKILL, true);
    });
    // … and is reaped by the lifecycle, leaving no zombie to the next test.
    EXPECT_TRUE(eventually([&] {
      return loop_.run([&] {
        auto c = lifecycle_->container("c1");
        if (!c) return true;
        bool any = static_cast<bool>((*c)->init.pidfd);
        for (const auto& [eid, p] : (*c)->execs) any = any || p->pidfd;
        return !any;
      });
    }));
    loop_.run([&] { lifecycle_.reset(); });
    loop_.stop();
  }

  Container& create(const std::string& id, runtime::RuncOverrides runc = {}) {
    auto c = loop_.run([&] {
      CreateRequest r;
      r.id = id;
      r.bundle = dir_.path() + "/bundle";
      r.runc = runc;
      return lifecycle_->create(std::move(r));
    });
    EXPECT_TRUE(c) << c.error().message;
    return **c;
  }
  Result<void> start(Container& c, const std::string& exec_id = "") {
    return loop_.run([&]() -> Result<void> {
      auto p = c.process(exec_id);
      if (!p) return forward(p);
      return lifecycle_->start(c, **p);
    });
  }
  Result<Process*> add_exec(Container& c, const std::string& exec_id,
                            std::vector<std::string> args) {
    return loop_.run([&] {
      spec::Process spec;
      spec.args = std::move(args);
      return lifecycle_->add_exec(c, exec_id, std::move(spec), StdioUris{});
    });
  }
  Result<void> kill(Container& c, const std::string& exec_id, int sig) {
    return loop_.run([&]() -> Result<void> {
      auto p = c.process(exec_id);
      if (!p) return forward(p);
      return lifecycle_->kill(c, **p, sig, false);
    });
  }
  void wait(Container& c, const std::string& exec_id) {
    loop_.run([&] {
      Process* p = *c.process(exec_id);
      lifecycle_->wait(c, *p,
                       {1, 1, [this, exec_id](const Process& exited) {
                          recorder_.log.push_back("wait " + (exec_id.empty() ? "c1" : exec_id) +
                                                  " status " + std::to_string(exited.exit_status));
                        }});
    });
  }
  std::vector<std::string> log() {
    return loop_.run([&] { return recorder_.log; });
  }
  ProcessState state(Container& c, const std::string& exec_id = "") {
    return loop_.run([&] { return (*c.process(exec_id))->state; });
  }

  TempDir dir_;
  LoopThread loop_;
  Recorder recorder_;
  std::shared_ptr<FakeBackend::Settings> settings_ = std::make_shared<FakeBackend::Settings>();
  std::vector<runtime::BackendChoice> made_;  // what the backend factory was asked for
  std::unique_ptr<Lifecycle> lifecycle_;
};

TEST_F(LifecycleTest, AnExecThatOutlivesTheInitIsReportedBeforeIt) {
  settings_->kill_all_reaches_execs = false;
  Container& c = create("c1");
  ASSERT_TRUE(start(c));
  ASSERT_TRUE(add_exec(c, "e1", {"/bin/sleep", "1000"}));
  ASSERT_TRUE(start(c, "e1"));
  wait(c, "");
  wait(c, "e1");
  ASSERT_TRUE(kill(c, "", SIGKILL));
  ASSERT_TRUE(eventually([&] { return state(c) == ProcessState::kStopped; }));
  // The init is reaped, its exit held back: containerd takes it as the end of the task.
  EXPECT_TRUE(log().empty());
  EXPECT_TRUE(loop_.run([&] { return c.init_exit_deferred; }));
  ASSERT_TRUE(kill(c, "e1", SIGTERM));
  ASSERT_TRUE(eventually([&] { return log().size() == 4; }));
  EXPECT_EQ(log(), (std::vector<std::string>{"exit e1", "wait e1 status 143", "exit c1",
                                             "wait c1 status 137"}));
}

TEST_F(LifecycleTest, InitExitKillsTheExecsAndReportsThemFirst) {
  Container& c = create("c1");
  ASSERT_TRUE(start(c));
  ASSERT_TRUE(add_exec(c, "e1", {"/bin/sleep", "1000"}));
  ASSERT_TRUE(start(c, "e1"));
  ASSERT_TRUE(kill(c, "", SIGTERM));
  // The fake init shares the test's pid namespace: the shim kills what it leaves behind.
  ASSERT_TRUE(eventually([&] { return log().size() == 2; }));
  EXPECT_EQ(log(), (std::vector<std::string>{"exit e1", "exit c1"}));
}

TEST_F(LifecycleTest, WaitAnswersOnExitAndAtOnceAfterIt) {
  settings_->init_script = "exit 3";
  Container& c = create("c1");
  wait(c, "");  // before Start: pending
  EXPECT_TRUE(log().empty());
  ASSERT_TRUE(start(c));
  ASSERT_TRUE(eventually([&] { return log().size() == 2; }));
  EXPECT_EQ(log(), (std::vector<std::string>{"exit c1", "wait c1 status 3"}));
  wait(c, "");  // already exited: answered in the call
  EXPECT_EQ(log().back(), "wait c1 status 3");
  EXPECT_EQ(log().size(), 3u);
}

TEST_F(LifecycleTest, ExecIntoAPausedContainerIsRefused) {
  Container& c = create("c1");
  ASSERT_TRUE(start(c));
  ASSERT_TRUE(add_exec(c, "e1", {"/bin/sleep", "1000"}));
  ASSERT_TRUE(start(c, "e1"));
  ASSERT_TRUE(add_exec(c, "e2", {"/bin/true"}));
  ASSERT_TRUE(loop_.run([&] { return lifecycle_->pause(c); }));
  EXPECT_EQ(state(c), ProcessState::kPaused);
  EXPECT_EQ(state(c, "e1"), ProcessState::kPaused);   // the container's processes move together
  EXPECT_EQ(state(c, "e2"), ProcessState::kCreated);  // not started: stays created

  auto added = add_exec(c, "e3", {"/bin/true"});
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().kind(), ErrorKind::failed_precondition);
  EXPECT_EQ(added.error().message, "exec e3 in container c1: cannot exec in a paused container");
  auto started = start(c, "e2");
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().kind(), ErrorKind::failed_precondition);
  EXPECT_EQ(started.error().message, "exec e2 in container c1: cannot exec in a paused container");
  auto again = loop_.run([&] { return lifecycle_->pause(c); });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message, "container c1: cannot pause a paused process");

  ASSERT_TRUE(loop_.run([&] { return lifecycle_->resume(c); }));
  EXPECT_EQ(state(c), ProcessState::kRunning);
  EXPECT_EQ(state(c, "e1"), ProcessState::kRunning);
  EXPECT_TRUE(start(c, "e2"));
}

TEST_F(LifecycleTest, TheTableRefusesWhatTheStateDoesNotAllow) {
  Container& c = create("c1");
  auto early = add_exec(c, "e1", {"/bin/true"});
  ASSERT_TRUE(early);  // ExecProcess into a created container is accepted (runc-v2 too) …
  auto exec_start = start(c, "e1");  // … but it starts only in a running one
  ASSERT_FALSE(exec_start);
  EXPECT_EQ(exec_start.error().kind(), ErrorKind::failed_precondition);
  EXPECT_FALSE(loop_.run([&] { return lifecycle_->pause(c); }));

  ASSERT_TRUE(start(c));
  auto twice = start(c);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().kind(), ErrorKind::failed_precondition);
  EXPECT_EQ(twice.error().message, "container c1: cannot start a running process");

  auto running_delete = loop_.run([&] { return lifecycle_->remove(c, c.init); });
  ASSERT_FALSE(running_delete);
  EXPECT_EQ(running_delete.error().kind(), ErrorKind::failed_precondition);
  EXPECT_EQ(running_delete.error().message, "container c1: cannot delete a running process");

  ASSERT_TRUE(kill(c, "", SIGKILL));
  ASSERT_TRUE(eventually([&] { return log().size() == 1; }));
  auto stopped_kill = kill(c, "", SIGKILL);
  ASSERT_FALSE(stopped_kill);
  EXPECT_EQ(stopped_kill.error().kind(), ErrorKind::not_found);
  auto stopped_pause = loop_.run([&] { return lifecycle_->pause(c); });
  ASSERT_FALSE(stopped_pause);
  EXPECT_EQ(stopped_pause.error().kind(), ErrorKind::failed_precondition);
  auto stopped_exec = add_exec(c, "e2", {"/bin/true"});
  ASSERT_FALSE(stopped_exec);
  EXPECT_EQ(stopped_exec.error().message,
            "exec e2 in container c1: cannot exec in a stopped container");

  auto removed = loop_.run([&] { return lifecycle_->remove(c, c.init); });
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed->exit_status, 137u);
  EXPECT_FALSE(loop_.run([&] { return lifecycle_->container("c1").has_value(); }));
}

TEST_F(LifecycleTest, DeleteOfARunningExecIsRefusedAndLeavesItWatched) {
  Container& c = create("c1");
  ASSERT_TRUE(start(c));
  ASSERT_TRUE(add_exec(c, "e1", {"/bin/sleep", "1000"}));
  ASSERT_TRUE(start(c, "e1"));
  auto refused = loop_.run([&] { return lifecycle_->remove(c, **c.process("e1")); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind(), ErrorKind::failed_precondition);
  EXPECT_EQ(refused.error().message, "exec e1 in container c1: cannot delete a running process");
  ASSERT_TRUE(kill(c, "e1", SIGKILL));
  ASSERT_TRUE(eventually([&] { return log() == std::vector<std::string>{"exit e1"}; }));
  auto removed = loop_.run([&] { return lifecycle_->remove(c, **c.process("e1")); });
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed->exit_status, 137u);
  EXPECT_FALSE(loop_.run([&] { return c.process("e1").has_value(); }));
}

TEST_F(LifecycleTest, DeleteOfACreatedContainerEndsItsInit) {
  Container& c = create("c1");
  const pid_t pid = loop_.run([&] { return c.init.pid; });
  EXPECT_TRUE(loop_.run([&] { return lifecycle_->owns(pid); }));
  auto removed = loop_.run([&] { return lifecycle_->remove(c, c.init); });
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed->pid, pid);
  EXPECT_NE(::kill(pid, 0), 0);  // reaped: no such process (not even a zombie)
  EXPECT_FALSE(loop_.run([&] { return lifecycle_->owns(pid); }));
}

// runc Options Root (containerd's CRI options table): the native backend keeps the container's
// state under <Root>/<namespace>, and `delete` (run without options) finds it from the bundle.
TEST_F(LifecycleTest, RuncOptionsRootIsTheNativeStateRoot) {
  const auto root = dir_.path() + "/croot";
  create("c1", {"", root, false});
  ASSERT_FALSE(made_.empty());
  EXPECT_EQ(made_.back().kind, runtime::BackendChoice::Kind::native);
  EXPECT_EQ(made_.back().native.state_root, root + "/ns");
  auto saved = runtime::load_backend_choice(dir_.path() + "/bundle", {});
  ASSERT_TRUE(saved) << saved.error().message;
  EXPECT_EQ(saved->native.state_root, root + "/ns");
}

}  // namespace
}  // namespace hippo::shim
