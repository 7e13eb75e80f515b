// The long-lived shim daemon: one event loop for ttrpc, process exits, OOM, stdio relays and
// signals; it lives while it hosts containers and exits on Shutdown with none left.

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <utility>

#include "base/file_io.hpp"
#include "base/logging.hpp"
#include "runtime/backend.hpp"
#include "runtime/config.hpp"
#include "shim/actions.hpp"
#include "shim/daemon_adopt.hpp"
#include "shim/orphan_reaper.hpp"
#include "shim/publisher.hpp"
#include "shim/sha256.hpp"
#include "shim/task_service.hpp"
#include "shim/ttrpc/server.hpp"

namespace hippo::shim {
namespace {

// containerd created `log` (a FIFO it reads) in the bundle we started in: our stderr goes
// there. Writes to it must never block or kill us when containerd is gone.
// A node daemon outlives the bundle it started in, so it appends to a file of its own.
void log_to_bundle_fifo(bool debug, const std::string& node_log) {
  int fd = node_log.empty()
               ? ::open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC)
               : ::open(node_log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  (void)log::init_logging("", log::LogFormat::text, debug ? log::Level::debug : log::Level::info);
}

// The lowest address of the main thread's stack mapping, 0 if /proc/self/maps does not say.
uintptr_t stack_low_end() {
  auto maps = read_text_file("/proc/self/maps");
  if (!maps) return 0;
  for (const auto& line : split_lines(*maps)) {
    if (line.ends_with("[stack]")) return std::strtoull(line.c_str(), nullptr, 16);
  }
  return 0;
}

// Gives back what a busy spell of the loop left behind, private memory of every shim: free
// heap pages, and the stack pages below the loop, which hold only dead frames (a Create runs
// ~30 kB deeper than the loop). Touched again, they come back zeroed. Measured: −8 kB heap,
// −20 kB stack per idle shim.
[[gnu::noinline]] void release_idle_memory(uintptr_t stack_low) {
  ::malloc_trim(0);
  if (stack_low == 0) return;
  const auto page = static_cast<uintptr_t>(::getpagesize());
  const auto frame = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  const uintptr_t end = (frame & ~(page - 1)) - 2 * page;  // margin for madvise's own frames
  if (end > stack_low)
    ::madvise(reinterpret_cast<void*>(stack_low), end - stack_low, MADV_DONTNEED);
}

constexpr std::chrono::milliseconds kReleaseIdleAfter{500};

}  // namespace

std::string shim_state_root(const Result<runtime::Config>& config, const std::string& ns) {
  return (config ? config->state_root : std::string("/run/hippo")) + "/containerd/" + ns;
}

runtime::BackendChoice daemon_backend_choice(const runtime::Config& config, const std::string& ns) {
  return runtime::choose_backend(config, shim_state_root(config, ns), ns);
}

NodeShimFiles node_shim_files(const runtime::Config& config, const std::string& address,
                              const std::string& ns) {
  NodeShimFiles files;
  files.dir = config.state_root + "/shims";
  const std::string base = files.dir + "/" + sha256_hex(address + "/" + ns).substr(0, 32);
  files.socket = base + ".sock";
  files.lock = base + ".lock";
  files.pid = base + ".pid";
  files.log = base + ".log";
  files.keeper_pid = base + ".keeper.pid";
  return files;
}

std::string shim_state_root(const std::string& config_path, const std::string& ns) {
  return shim_state_root(runtime::load_config(config_path), ns);
}

int run_daemon(const DaemonConfig& config, os::UniqueFd listener, const KeeperContext* keeper) {
  ::signal(SIGPIPE, SIG_IGN);
  // A node daemon holds no bundle: the first one goes with its container. It holds a few fds
  // per container (pidfd, FIFO readers, OOM watch, connection): the soft fd limit goes up to
  // the hard one, as Go raises it in runc's shim. Containers get config.json's rlimits.
  if (config.node) {
    (void)::chdir("/");
    rlimit fds{};
    if (::getrlimit(RLIMIT_NOFILE, &fds) == 0 && fds.rlim_cur < fds.rlim_max) {
      fds.rlim_cur = fds.rlim_max;
      (void)::setrlimit(RLIMIT_NOFILE, &fds);
    }
  }
  log_to_bundle_fifo(config.debug, config.node ? config.node_files.log : std::string());
  std::optional<DaemonSnapshot> inherited;
  if (keeper != nullptr && keeper->generation > 0) {
    auto taken = take_over_fds(*keeper, listener.get());
    if (!taken) {
      // Nothing can be adopted: the daemon ends as planned, the keeper with it, the shared fds
      // close, and containerd cleans every task up, as after a daemon's death without keeper.
      log::error("node daemon: adoption: " + taken.error().message);
      ::unlink(config.socket_path.c_str());
      ::unlink(config.node_files.pid.c_str());
      return 0;
    }
    inherited = std::move(*taken);
    if (inherited && inherited->listener_fd >= 0) {
      (void)listener.release();  // the same socket, under the record's number
    } else if (inherited) {
      inherited->listener_fd = listener.release();
    }
    log::warn("node daemon " + std::to_string(::getpid()) + " (generation " +
              std::to_string(keeper->generation) + ") takes over");
  }
  if (keeper != nullptr) {
    (void)write_text_file(config.node_files.pid, std::to_string(::getpid()) + "\n", 0600);
  }
  // Orphans of containers sharing a pid namespace are re-parented to us: we reap them.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);

  auto loop = ttrpc::EventLoop::create();
  if (!loop) {
    log::error("shim: " + loop.error().message);
    return 1;
  }
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGCHLD, SIGTERM, SIGINT}) sigaddset(&signals, s);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  os::UniqueFd sfd(::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));

  Publisher publisher(**loop, config.ttrpc_address, config.ns);
  ttrpc::Server server(**loop);
  bool exiting = false;
  auto request_exit = [&] {
    if (exiting) return;
    exiting = true;
    // The socket goes now, not after the drain below: containerd runs `shim delete` as soon
    // as it has closed its connection, finds us still listening and leaves the socket to us,
    // so a daemon killed while draining left it behind (integration/faults.bats); and a
    // `start` of this group meanwhile must make a new daemon, not reuse this one. (Unlinked
    // at the end instead, it could be that new daemon's socket.)
    ::unlink(config.socket_path.c_str());
    if (config.node) ::unlink(config.node_files.pid.c_str());
    // Queued events go out first, within the Shutdown deadline containerd gives us.
    publisher.when_idle([&] { (*loop)->stop(); });
    (*loop)->after(std::chrono::seconds(2), [&] { (*loop)->stop(); });
  };
  // Node mode: left with no container, the daemon stays for the next one (no spawn per pod);
  // it goes after `idle_exit` seconds in which no container and no connection came. Every
  // closed connection re-arms the wait, `start`'s probe of the socket among them.
  std::function<void()> when_empty = request_exit;
  ttrpc::EventLoop::TimerId idle_timer = 0;
  TaskService* served = nullptr;
  if (config.node) {
    when_empty = [&] {
      if (idle_timer != 0) (*loop)->cancel(idle_timer);
      idle_timer = (*loop)->after(std::chrono::seconds(config.idle_exit), [&] {
        idle_timer = 0;
        if (served->container_count() == 0 && server.connection_count() == 0) request_exit();
      });
    };
  }
  TaskService service(**loop, publisher, daemon_backend_choice(config.settings, config.ns),
                      config.ns, [&] { when_empty(); });
  served = &service;
  service.register_with(server);
  if (config.node) service.on_empty_disconnect([&] { when_empty(); });
  std::optional<AdoptionRecorder> recorder;
  if (keeper != nullptr) {
    recorder.emplace(*keeper, server, service, publisher);
    if (auto ok = watch_keeper_exits(**loop, *keeper, service); !ok)
      log::error("node daemon: the keeper's exits: " + ok.error().message);
  }
  if (inherited) {
    adopt(std::move(*inherited), server, service, publisher);
    // With nothing adopted, the idle wait starts now (no close or delete will start it).
    if (service.container_count() == 0) when_empty();
  } else if (auto ok = server.serve(std::move(listener)); !ok) {
    log::error("shim: serve: " + ok.error().message);
    return 1;
  }
  (void)(*loop)->watch(sfd.get(), EPOLLIN, [&](uint32_t) {
    signalfd_siginfo si{};
    while (::read(sfd.get(), &si, sizeof si) == sizeof si) {
      if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
        request_exit();
      } else if (si.ssi_signo == SIGCHLD) {
        // Orphans only: our own children are reaped through their pidfds.
        reap_orphans([&](pid_t pid) { return service.owns(pid); });
      }
    }
  });
  // Memory goes back once the daemon has been quiet for a moment, not after every request:
  // between the RPCs of one container start it would only be faulted in again.
  const uintptr_t stack_low = stack_low_end();
  ttrpc::EventLoop::TimerId release_timer = 0;
  bool just_released = false;  // the release timer's own spell is no activity to re-arm for
  (*loop)->on_idle([&] {
    if (recorder) recorder->record();
    if (std::exchange(just_released, false)) return;
    if (release_timer != 0) (*loop)->cancel(release_timer);
    release_timer = (*loop)->after(kReleaseIdleAfter, [&] {
      release_timer = 0;
      just_released = true;
      release_idle_memory(stack_low);
    });
  });
  log::debug("shim daemon " + std::to_string(::getpid()) + " serving " + config.socket_path);
  // What `start` freed before the fork (its config.yaml and config.json parses) goes back now,
  // not at the first idle spell.
  ::malloc_trim(0);
  if (recorder) recorder->record();  // a daemon killed before its first idle spell is adopted too
  auto ran = (*loop)->run();
  server.shutdown();
  if (!exiting) ::unlink(config.socket_path.c_str());
  if (!ran) {
    log::error("shim: " + ran.error().message);
    return 1;
  }
  return 0;
}

}  // namespace hippo::shim
