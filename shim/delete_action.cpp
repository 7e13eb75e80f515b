// `delete`: containerd's cleanup after every task deletion and after a shim died. Idempotent,
// scoped to -id (a grouped daemon may still serve others), within containerd's 5 s.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "base/file_io.hpp"
#include "base/unique_fd.hpp"
#include "containerd/task/v2/shim.pb-c.h"
#include "runtime/backend_choice.hpp"
#include "shim/actions.hpp"
#include "shim/proto_util.hpp"
#include "shim/rootfs.hpp"
#include "shim/task_service.hpp"
#include "shim/ttrpc/client.hpp"

namespace hippo::shim {
namespace {

// A daemon killed outright leaves its socket behind: if nothing listens on the address this
// container used, remove it (a live daemon of the group keeps it).
void remove_dead_socket(const std::string& bundle) {
  auto text = read_text_file(bundle + "/address");
  if (!text || !text->starts_with("unix://")) return;
  const auto address = split_lines(*text).front();
  const std::string path = address.substr(7);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  os::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 &&
      errno == ECONNREFUSED) {
    ::unlink(path.c_str());
  }
}

// A daemon still serving at the address (containerd took a closed connection for its death:
// one a node daemon closed while adopting) is told the container is gone, so it forgets it.
void tell_live_daemon(const std::string& bundle, const std::string& id) {
  auto text = read_text_file(bundle + "/address");
  if (!text || !text->starts_with("unix://")) return;
  auto client = ttrpc::Client::connect(split_lines(*text).front());
  if (!client) return;
  (void)client->call(kNodeService, "Forget", id, {}, std::chrono::seconds(1));
}

}  // namespace

int run_delete(const ShimFlags& flags) {
  const std::string bundle =
      flags.bundle.empty() ? current_directory().value_or(".") : flags.bundle;
  // The backend `start` (or Create) saved for this container; a bundle with no record: what
  // the default config.yaml chooses.
  const auto config = runtime::load_config(std::nullopt);
  const auto fallback = daemon_backend_choice(config ? *config : runtime::Config{}, flags.ns);
  auto choice = runtime::load_backend_choice(bundle, fallback);
  if (!choice) {
    write_all(STDERR_FILENO, "delete " + flags.id + ": " + choice.error().message + "\n");
    return 1;
  }
  // Before the backend's cleanup, so that its failure cannot keep the socket, and after it: a
  // child the daemon forked (an exec not yet exec'd) holds the listener until the cgroup's
  // processes are killed.
  remove_dead_socket(bundle);
  auto backend = runtime::make_backend(*choice);
  uint32_t pid = 0;
  if (auto st = backend->state(flags.id)) pid = static_cast<uint32_t>(st->pid);
  if (auto ok = backend->remove(flags.id, /*force=*/true); !ok) {
    write_all(STDERR_FILENO, "delete " + flags.id + ": " + ok.error().message + "\n");
    return 1;
  }
  if (auto ok = unmount_all(bundle + "/rootfs"); !ok) {
    write_all(STDERR_FILENO, "delete " + flags.id + ": " + ok.error().message + "\n");
    return 1;
  }
  remove_dead_socket(bundle);
  tell_live_daemon(bundle, flags.id);
  Timestamp now(std::chrono::system_clock::now());
  Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
  resp.pid = pid;
  resp.exit_status = 128 + 9;  // as runc's shim: the container was (or is now) SIGKILLed
  resp.exited_at = &now.ts;
  write_all(STDOUT_FILENO, pack(resp));
  return 0;
}

}  // namespace hippo::shim
