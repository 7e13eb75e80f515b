// `start`: choose the group and find its live daemon, or run again without tcache
// (shim/tcache.hpp), bind and listen the group's socket and fork the daemon with /dev/null
// stdio; write `address`, print the address. In node mode the group
// is the node (per containerd namespace) and its socket a well-known one under the state root,
// made under a lock. containerd reads the combined stdout+stderr, so nothing else may be
// printed on success.

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "base/file_io.hpp"
#include "base/unique_fd.hpp"
#include "containerd/bootstrap/bootstrap.pb-c.h"
#include "containerd/runc/options.pb-c.h"
#include "oci-spec/config.hpp"
#include "runtime/config.hpp"
#include "shim/actions.hpp"
#include "shim/keeper.hpp"
#include "shim/proto_util.hpp"
#include "shim/runtime_options.hpp"
#include "shim/sha256.hpp"
#include "shim/shim_cgroup.hpp"
#include "shim/tcache.hpp"

namespace hippo::shim {
namespace {

using os::UniqueFd;

std::string read_all_stdin() {
  std::string data;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n > 0) {
      data.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  return data;
}

struct StartInput {
  std::string socket_dir = "/run/containerd/s";
  std::string config_path;
  std::string shim_cgroup;  // runc Options ShimCgroup
};

// Options from the legacy bare Any, or BootstrapParams (containerd 2.3+) recognised by its
// identity fields; stdin never makes start fail.
StartInput parse_stdin(const std::string& data, const ShimFlags& flags) {
  StartInput in;
  std::string options_url, options_value;
  auto params = unpack<Containerd__Runtime__Bootstrap__V1__BootstrapParams>(
      containerd__runtime__bootstrap__v1__bootstrap_params__descriptor, data);
  if (params && view(params->instance_id) == flags.id && view(params->namespace_) == flags.ns) {
    if (!view(params->socket_dir).empty()) in.socket_dir = params->socket_dir;
    for (size_t i = 0; i < params->n_extensions; ++i) {
      const auto* any = params->extensions[i]->value;
      if (!any) continue;
      options_url = std::string(any_type_name(*any));
      options_value = std::string(view(any->value));
    }
  } else if (auto any = unpack<Google__Protobuf__Any>(google__protobuf__any__descriptor, data)) {
    options_url = std::string(any_type_name(*any));
    options_value = std::string(view(any->value));
  }
  const auto options = decode_runtime_options(options_url, options_value);
  in.config_path = options.config_path;
  in.shim_cgroup = options.shim_cgroup;
  return in;
}

// The group a container joins: hippo's group annotation, then the CRI sandbox id, else itself.
std::string group_of(const ShimFlags& flags, const runtime::Config& config) {
  auto text = spec::read_json_file("config.json", "config.json");
  auto spec = text ? spec::parse(*text) : std::unexpected(text.error());
  if (spec && spec->annotations) {
    for (const auto& key : {config.group_annotation, std::string("io.kubernetes.cri.sandbox-id")}) {
      auto it = spec->annotations->find(key);
      if (it != spec->annotations->end() && !it->second.empty()) return it->second;
    }
  }
  return flags.id;
}

bool socket_alive(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

Result<UniqueFd> listen_on(const std::string& path, bool& reused) {
  reused = false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return fail("socket path too long: " + path);
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  for (int attempt = 0; attempt < 2; ++attempt) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return fail_errno("socket");
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      ::chmod(path.c_str(), 0600);
      if (::listen(fd.get(), 128) != 0) return fail_errno("listen " + path);
      return fd;
    }
    if (errno != EADDRINUSE) return fail_errno("bind " + path);
    // A live daemon already serves this group: reuse it. A dead one left its socket: replace.
    if (socket_alive(path)) {
      reused = true;
      return UniqueFd();
    }
    ::unlink(path.c_str());
  }
  return fail("bind " + path + ": address in use");
}

// The node daemon's directory (0700, as the state root) and its lock, taken.
Result<UniqueFd> lock_node_files(const NodeShimFiles& files) {
  if (auto ok = make_directories(files.dir, 0700); !ok) return std::unexpected(ok.error());
  ::chmod(files.dir.c_str(), 0700);
  UniqueFd fd(::open(files.lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return fail_errno("open " + files.lock);
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return fail_errno("lock " + files.lock);
  }
  return fd;
}

Result<void> write_address(const std::string& address) {
  // containerd 1.6 reads it verbatim: no trailing newline.
  return write_text_file("address", address, 0600);
}

// What every start ends with: `delete` runs without options, so the bundle says which backend
// holds this container and where its state lives (Create saves the container's own choice over
// it); then the address, in the bundle and on stdout.
int hand_over(const ShimFlags& flags, const runtime::Config& config, const std::string& address) {
  if (auto ok = runtime::save_backend_choice(".", daemon_backend_choice(config, flags.ns)); !ok) {
    write_all(STDERR_FILENO, ok.error().message + "\n");
    return 1;
  }
  if (auto ok = write_address(address); !ok) {
    write_all(STDERR_FILENO, ok.error().message + "\n");
    return 1;
  }
  write_all(STDOUT_FILENO, address);
  return 0;
}

}  // namespace

int run_start(const ShimFlags& flags, char** argv) {
  const bool second_run = finish_rerun_without_tcache();
  const std::string data = read_all_stdin();
  const StartInput input = parse_stdin(data, flags);
  auto config = runtime::load_config(input.config_path);
  if (!config) {
    write_all(STDERR_FILENO, config.error().message + "\n");
    return 1;
  }
  const bool node = config->grouping == "node";
  NodeShimFiles files;
  if (node) files = node_shim_files(*config, flags.address, flags.ns);
  const std::string path =
      node ? files.socket
           : input.socket_dir + "/" +
                 sha256_hex(flags.address + "/" + flags.ns + "/" + group_of(flags, *config));
  const std::string address = "unix://" + path;
  // The common case of node mode and of a pod's later containers: the daemon answers, nothing
  // is forked, and no second run is needed. (The second run finds a daemon made meanwhile
  // through listen_on.)
  if (!second_run) {
    if (socket_alive(path)) return hand_over(flags, *config, address);
    rerun_without_tcache(argv, data);  // returns only if it could not
  }

  UniqueFd node_lock;  // held until start exits: one start at a time makes the node daemon
  if (node) {
    auto locked = lock_node_files(files);
    if (!locked) {
      write_all(STDERR_FILENO, locked.error().message + "\n");
      return 1;
    }
    node_lock = std::move(*locked);
  } else {
    (void)make_directories(input.socket_dir);  // listen_on names the failure
    ::chmod(input.socket_dir.c_str(), 0700);
  }

  bool reused = false;
  auto listener = listen_on(path, reused);
  if (!listener) {
    write_all(STDERR_FILENO, listener.error().message + "\n");
    return 1;
  }
  if (!reused) {
    DaemonConfig daemon;
    daemon.ns = flags.ns;
    daemon.grpc_address = flags.address;
    const char* ttrpc = std::getenv("TTRPC_ADDRESS");
    daemon.ttrpc_address = ttrpc ? ttrpc : flags.address + ".ttrpc";
    daemon.socket_path = path;
    daemon.settings = *config;
    daemon.debug = flags.debug;
    daemon.node = node;
    daemon.idle_exit = runtime::node_idle_exit_seconds(*config);
    daemon.node_files = files;
    const pid_t pid = ::fork();
    if (pid < 0) {
      std::perror("fork shim daemon");
      return 1;
    }
    if (pid == 0) {
      // The daemon must not hold start's stdout/stderr: containerd waits for every writer.
      ::setsid();
      int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
      for (int fd = 0; fd < 3; ++fd) ::dup2(null, fd);
      if (null > 2) ::close(null);
      // Nothing else containerd (or whoever ran containerd) left open lives on in the daemon.
      const int keep = listener->get();
      if (keep > 3) ::close_range(3, static_cast<unsigned>(keep) - 1, 0);
      ::close_range(static_cast<unsigned>(keep) + 1, ~0U, 0);
      if (!node) ::_exit(run_daemon(daemon, std::move(*listener)));
      // Node mode: this process becomes the keeper, the daemon its clone sharing its fd table
      // (shim/keeper.hpp): a daemon that dies is followed by one that adopts its containers.
      // The daemon writes its own pid file; the keeper's is beside it.
      ::malloc_trim(0);
      const KeeperLimits limits{runtime::node_restarts(*config), std::chrono::seconds(60)};
      const int code = run_keeper(
          [&](const KeeperContext& k) { return run_daemon(daemon, UniqueFd(keep), &k); }, limits);
      ::unlink(files.keeper_pid.c_str());
      ::_exit(code);
    }
    listener->reset();
    if (node) (void)write_text_file(files.keeper_pid, std::to_string(pid) + "\n", 0600);
    // As containerd's runc shim: a shim that cannot join its cgroup is not left running, and
    // start fails with why (containerd returns it to whoever created the task). A node daemon
    // serves every pod, so it joins no pod's ShimCgroup.
    if (!input.shim_cgroup.empty() && !node) {
      if (auto ok = join_shim_cgroup(pid, input.shim_cgroup); !ok) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        ::unlink(path.c_str());
        write_all(STDERR_FILENO, "join " + ok.error().message + "\n");
        return 1;
      }
    }
  }
  return hand_over(flags, *config, address);
}

}  // namespace hippo::shim
