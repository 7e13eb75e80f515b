// The Task API's Create over a real ttrpc socket, with the native backend on a temp state root:
// a bad container id is refused before the shim touches the bundle (no rootfs directory, no
// mount), whatever else the request holds. containerd checks ids itself; the shim must not
// rely on it.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "containerd/task/v2/shim.pb-c.h"
#include "runtime/backend.hpp"
#include "shim/proto_util.hpp"
#include "shim/publisher.hpp"
#include "shim/task_service.hpp"
#include "shim/ttrpc/client.hpp"
#include "shim/ttrpc/server.hpp"
#include "shim/ttrpc/tests/test_support.hpp"
#include "shim/ttrpc/unix_socket.hpp"

namespace hippo::shim {
namespace {

using ttrpc::test_support::LoopThread;
using ttrpc::test_support::TempDir;
namespace fs = std::filesystem;

TEST(TaskCreate, RefusesABadIdBeforeTouchingTheBundle) {
  TempDir dir;
  const std::string root = dir.path() + "/state/containerd/ns";
  const std::string bundle = dir.path() + "/bundle";
  fs::create_directories(dir.path() + "/canary");
  std::ofstream(dir.path() + "/canary/keep") << "alive";
  fs::create_directories(bundle);
  std::ofstream(bundle + "/config.json") << "{}";

  LoopThread loop;
  std::unique_ptr<Publisher> publisher;
  std::unique_ptr<TaskService> service;
  std::unique_ptr<ttrpc::Server> server;
  loop.run([&] {
    publisher = std::make_unique<Publisher>(loop.loop(), dir.path() + "/no-containerd.sock", "ns");
    runtime::BackendChoice choice;
    choice.native.state_root = root;
    service = std::make_unique<TaskService>(loop.loop(), *publisher, choice, "ns", [] {});
    server = std::make_unique<ttrpc::Server>(loop.loop());
    service->register_with(*server);
  });
  const std::string socket = dir.path() + "/shim.sock";
  auto listener = ttrpc::listen_unix(socket);
  ASSERT_TRUE(listener) << listener.error().message;
  ASSERT_TRUE(loop.run([&] { return server->serve(std::move(*listener)); }));
  auto client = ttrpc::Client::connect(socket);
  ASSERT_TRUE(client) << client.error().message;

  for (std::string id :
       std::vector<std::string>{"..", ".", "../canary", "a/b", "", std::string(1024, 'x')}) {
    // A rootfs mount that would fail: were it tried first, its error would come back instead.
    char type[] = "bind", source[] = "/nonexistent-hippo-source", option[] = "rbind";
    char* options[] = {option};
    Containerd__Types__Mount mount = CONTAINERD__TYPES__MOUNT__INIT;
    mount.type = type;
    mount.source = source;
    mount.n_options = 1;
    mount.options = options;
    Containerd__Types__Mount* mounts[] = {&mount};
    Containerd__Task__V2__CreateTaskRequest req = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
    req.id = id.data();
    req.bundle = const_cast<char*>(bundle.c_str());
    req.n_rootfs = 1;
    req.rootfs = mounts;
    auto result = client->call("containerd.task.v2.Task", "Create", pack(req));
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_EQ(result->status.code, ttrpc::Code::kInvalidArgument) << id;
    EXPECT_TRUE(result->status.message.starts_with("invalid container ID format: \""))
        << id << ": " << result->status.message;
  }
  EXPECT_FALSE(fs::exists(bundle + "/rootfs"));  // mount_rootfs never ran
  EXPECT_FALSE(fs::exists(dir.path() + "/state"));
  EXPECT_TRUE(fs::exists(dir.path() + "/canary/keep"));

  loop.run([&] {
    server.reset();
    service.reset();
    publisher.reset();
  });
  loop.stop();
}

}  // namespace
}  // namespace hippo::shim
