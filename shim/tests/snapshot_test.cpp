// Node mode's adoption record (shim/snapshot.hpp): what a daemon writes is what its successor
// reads, a half-written record leaves the previous one, and an fd number the daemon closed
// after its record is not taken for what the record says.

#include "shim/snapshot.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/unique_fd.hpp"

namespace hippo::shim {
namespace {

DaemonSnapshot sample() {
  DaemonSnapshot s;
  s.listener_fd = 5;
  s.connections = {{1, 7, 12, false}, {3, 9, 4, true}};
  SnapshotContainer c;
  c.id = "c1";
  c.bundle = "/run/b/c1";
  c.rootfs_mounted = true;
  c.kill_all_on_exit = true;
  c.oom_fd = 11;
  c.init.state = ProcessState::kRunning;
  c.init.pid = 4242;
  c.init.pidfd = 12;
  c.init.uris = {"/f/in", "/f/out", "/f/err", true, "c1", "ns"};
  c.init.output_in = 13;
  c.init.output_out = 14;
  c.init.waiters = {{1, 10}, {3, 2}};
  SnapshotProcess e;
  e.exec_id = "e1";
  e.state = ProcessState::kRunning;
  e.pid = 4243;
  e.reaped = true;
  e.exit_status = 137;
  e.exited_at_ns = 1234567890123;
  c.execs.push_back(e);
  s.containers.push_back(c);
  s.events.push_back(
      {"/tasks/exit", "containerd.events.TaskExit", std::string("\0\x01\xff", 3), 77});
  s.fd_ids = {{5, "1:2:2"}};
  return s;
}

TEST(Snapshot, DecodesWhatWasEncoded) {
  const auto s = sample();
  auto d = decode_snapshot(encode_snapshot(s));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(encode_snapshot(*d), encode_snapshot(s));
  EXPECT_EQ(d->connections[1].mid_frame, true);
  const auto& c = d->containers.at(0);
  EXPECT_EQ(c.init.uris.stdout_uri, "/f/out");
  EXPECT_TRUE(c.init.uris.terminal);
  EXPECT_EQ(c.init.waiters.at(1).stream, 2u);
  EXPECT_EQ(c.execs.at(0).exit_status, 137u);
  EXPECT_TRUE(c.execs.at(0).reaped);
  EXPECT_EQ(d->events.at(0).event, std::string("\0\x01\xff", 3));
  EXPECT_EQ(d->fds(), (std::vector<int>{5, 7, 9, 11, 12, 13, 14}));
}

TEST(Snapshot, RefusesWhatIsNotARecord) {
  auto d = decode_snapshot("{\"version\": 1}");
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("adoption record"), std::string::npos);
  EXPECT_FALSE(decode_snapshot("{\"version\": 9}"));
  EXPECT_FALSE(decode_snapshot("not json"));
}

TEST(SnapshotStore, EachWriteLeavesThePreviousRecordUntilItsHeaderLands) {
  auto fd = SnapshotStore::create_fd();
  ASSERT_TRUE(fd);
  os::UniqueFd owned(*fd);
  {
    const SnapshotStore empty(*fd);
    auto none = empty.read();
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
  }
  SnapshotStore a(*fd);
  ASSERT_TRUE(a.write("first"));
  ASSERT_TRUE(a.write("second, longer"));
  // A successor writes to the slot the last record is not in: "second" survives its first
  // write until that write's header lands.
  SnapshotStore b(*fd);
  auto got = b.read();
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(**got, "second, longer");
  ASSERT_TRUE(b.write("third"));
  EXPECT_EQ(**SnapshotStore(*fd).read(), "third");
}

TEST(SnapshotStore, TouchedConnectionsAreSharedThroughTheMemfdUntilCleared) {
  auto fd = SnapshotStore::create_fd();
  ASSERT_TRUE(fd);
  os::UniqueFd owned(*fd);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // A daemon that touches connections and dies without clearing them.
    SnapshotStore store(*fd);
    if (!store.map_touched()) ::_exit(1);
    store.touch(4);
    store.touch(9);
    store.touch(4);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  SnapshotStore successor(*fd);
  bool all = true;
  EXPECT_EQ(successor.touched(all), (std::vector<uint64_t>{4, 9}));
  EXPECT_FALSE(all);
  ASSERT_TRUE(successor.map_touched());
  for (uint64_t id = 0; id < 200; ++id) successor.touch(id);
  successor.touched(all);
  EXPECT_TRUE(all);  // more than it holds: every connection counts as touched
  successor.clear_touched();
  EXPECT_TRUE(successor.touched(all).empty());
  EXPECT_FALSE(all);
}

TEST(Snapshot, AnFdClosedAndReusedAfterTheRecordIsForgotten) {
  int a[2], b[2];
  ASSERT_EQ(::pipe2(a, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(b, O_CLOEXEC), 0);
  os::UniqueFd a0(a[0]), a1(a[1]), b0(b[0]), b1(b[1]);
  DaemonSnapshot s;
  s.listener_fd = a[0];
  s.connections = {{1, a[1], 0, false}};
  SnapshotContainer c;
  c.init.pty = b[0];
  c.init.pidfd = b[1];  // not a pidfd: forgotten whatever its identity
  s.containers.push_back(c);
  s.record_fd_ids();
  // a[1] now names the read end of another pipe, as a number reused after a close would.
  ASSERT_EQ(::dup2(b[0], a[1]), a[1]);
  auto decoded = decode_snapshot(encode_snapshot(s));
  ASSERT_TRUE(decoded);
  const auto kept = decoded->forget_changed_fds();
  EXPECT_EQ(decoded->listener_fd, a[0]);
  EXPECT_TRUE(decoded->connections.empty());
  EXPECT_EQ(decoded->containers[0].init.pty, b[0]);
  EXPECT_EQ(decoded->containers[0].init.pidfd, -1);
  EXPECT_EQ(kept, (std::vector<int>{std::min(a[0], b[0]), std::max(a[0], b[0])}));
}

TEST(Snapshot, ALivingConnectionKeepsItsIdentityAndANewOneIsTakenAgain) {
  int a[2], b[2];
  ASSERT_EQ(::pipe2(a, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(b, O_CLOEXEC), 0);
  os::UniqueFd a0(a[0]), a1(a[1]), b0(b[0]), b1(b[1]);
  DaemonSnapshot before;
  before.listener_fd = a[0];
  before.connections = {{1, a[1], 0, false}, {2, b[1], 0, false}};
  before.record_fd_ids();
  const auto listener_id = before.fd_ids.at(a[0]);
  const auto first_id = before.fd_ids.at(a[1]);
  // Not what the daemon does while a connection lives (it holds the fd): here it shows which
  // identities are taken from `before` and which again.
  ASSERT_EQ(::dup2(b[0], a[1]), a[1]);
  ASSERT_EQ(::dup2(b[0], b[1]), b[1]);
  DaemonSnapshot now;
  now.listener_fd = a[0];
  now.connections = {{1, a[1], 5, false}, {3, b[1], 0, false}};  // 2 closed, 3 got its fd
  now.record_fd_ids(before);
  EXPECT_EQ(now.fd_ids.at(a[0]), listener_id);
  EXPECT_EQ(now.fd_ids.at(a[1]), first_id);
  EXPECT_EQ(now.fd_ids.at(b[1]), fd_identity(b[0]));
  EXPECT_NE(now.fd_ids.at(b[1]), before.fd_ids.at(b[1]));
}

}  // namespace
}  // namespace hippo::shim
