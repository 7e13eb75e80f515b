// `delete`: containerd's cleanup after every task deletion and after a shim died. Idempotent,
// scoped to -id (a grouped daemon may still serve others), within containerd's 5 s.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "containerd/task/v2/shim.pb-c.h"
#include "runtime/backend.hpp"
#include "runtime/runc/runc_backend.hpp"
#include "shim/actions.hpp"
#include "shim/proto_util.hpp"
#include "runtime/linux/unique_fd.hpp"
#include "shim/rootfs.hpp"

namespace hippo::shim {
namespace {

// A daemon killed outright leaves its socket behind: if nothing listens on the address this
// container used, remove it (a live daemon of the group keeps it).
void remove_dead_socket(const std::string& bundle) {
  std::ifstream in(bundle + "/address");
  std::string address;
  if (!std::getline(in, address) || !address.starts_with("unix://")) return;
  const std::string path = address.substr(7);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  linux::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno == ECONNREFUSED) {
    ::unlink(path.c_str());
  }
}

}  // namespace

int run_delete(const ShimFlags& flags) {
  const std::string bundle = flags.bundle.empty() ? std::filesystem::current_path().string() : flags.bundle;
  // The state root `start` chose (its config.yaml may have come from runtime options).
  std::string root = shim_state_root("", flags.ns);
  if (std::ifstream in(bundle + "/hippo-state-root"); in) std::getline(in, root);
  std::unique_ptr<runtime::Backend> backend;
  if (std::ifstream runc_file(bundle + "/hippo-runc"); runc_file) {
    runtime::RuncOptions o;
    std::string cgroup;
    std::getline(runc_file, o.binary);
    std::getline(runc_file, o.root);
    std::getline(runc_file, cgroup);
    o.systemd_cgroup = cgroup == "systemd";
    backend = runtime::make_runc_backend(o);
  } else {
    backend = runtime::make_native_backend({root});
  }
  uint32_t pid = 0;
  if (auto st = backend->state(flags.id)) pid = static_cast<uint32_t>(st->pid);
  if (auto ok = backend->remove(flags.id, /*force=*/true); !ok) {
    std::cerr << "delete " << flags.id << ": " << ok.error().message << "\n";
    return 1;
  }
  if (auto ok = unmount_all(bundle + "/rootfs"); !ok) {
    std::cerr << "delete " << flags.id << ": " << ok.error().message << "\n";
    return 1;
  }
  remove_dead_socket(bundle);
  Timestamp now(std::chrono::system_clock::now());
  Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
  resp.pid = pid;
  resp.exit_status = 128 + 9;  // as runc's shim: the container was (or is now) SIGKILLed
  resp.exited_at = &now.ts;
  std::cout << pack(resp) << std::flush;
  return 0;
}

}  // namespace hippo::shim
