// The native backend: hippo creates containers itself (linux/spawn, linux/init_child) and
// places them in cgroups through the cgroupfs driver.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "oci-spec/config.hpp"
#include "oci-spec/file_io.hpp"
#include "runtime/backend.hpp"
#include "runtime/bundle.hpp"
#include "runtime/linux/console.hpp"
#include "runtime/linux/spawn.hpp"
#include "runtime/logging.hpp"
#include "runtime/linux/syscalls.hpp"
#include "runtime/state_store.hpp"
#include "runtime/undo.hpp"

namespace hippo::runtime {
namespace {

using linux::UniqueFd;

// v1 controllers a "cgroup" mount shows inside the container, each under its own name.
constexpr const char* kV1Hierarchies[] = {"blkio",   "cpu",     "cpuacct",    "cpuset", "devices",
                                          "freezer", "hugetlb", "memory",     "net_cls", "net_prio",
                                          "perf_event", "pids", "rdma",       "misc"};

// The container's cgroup2 directory (the v2 leaf; the unified one of a hybrid host) for
// CLONE_INTO_CGROUP; none on a host without cgroup2. Failing to open it only costs the attach.
UniqueFd open_cgroup2_dir(const cgroups::Manager& cgroup) {
  const auto dir = cgroup.path_of("");
  if (dir.empty()) return UniqueFd();
  return UniqueFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

Result<std::string> cgroup_path_for(const spec::Spec& s, const std::string& id) {
  std::string path = s.linux && s.linux->cgroupsPath ? *s.linux->cgroupsPath : "";
  if (path.empty()) return "/" + id;  // runc's default for the cgroupfs driver
  if (path.front() != '/' && path.find(':') != std::string::npos) {
    return fail("config.json: linux.cgroupsPath: \"" + path +
                "\" is a systemd slice:prefix:name path; the systemd cgroup driver is not "
                "implemented yet");
  }
  if (path.front() != '/') path = "/" + path;
  return path;
}

Result<void> write_pid_file(const std::string& file, pid_t pid) {
  // runc writes it atomically too: a watcher never reads a partial pid.
  return replace_text_file(file, std::to_string(pid));
}

std::string status_of(const ContainerDir& dir, const StoredState& st, const cgroups::Manager& cg) {
  if (!init_alive(st)) return "stopped";
  if (::access(dir.fifo_path().c_str(), F_OK) == 0) return "created";
  if (auto frozen = cg.frozen(); frozen && *frozen) return "paused";
  return "running";
}

spec::RuntimeState to_runtime_state(const StoredState& st, const std::string& status) {
  spec::RuntimeState out;
  out.ociVersion = std::string(spec::kOciVersion);
  out.id = st.id;
  out.pid = status == "stopped" ? 0 : st.pid;
  out.status = status;
  out.bundle = st.bundle;
  out.rootfs = st.rootfs;
  out.created = st.created;
  if (!st.annotations.empty()) out.annotations = st.annotations;
  out.owner = st.owner;
  return out;
}

// Waits up to `timeout` for a process that may not be our child to exit.
bool wait_gone(const StoredState& st, std::chrono::milliseconds timeout) {
  UniqueFd pidfd(linux::sys::pidfd_open(st.pid));
  if (!pidfd || !init_alive(st)) return true;
  pollfd p{pidfd.get(), POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

// A container whose state is open: its dir (locked), stored state and cgroup.
struct Opened {
  ContainerDir dir;
  StoredState state;
  std::unique_ptr<cgroups::Manager> cgroup;
  std::string status;
};

class NativeBackend final : public Backend {
 public:
  explicit NativeBackend(NativeOptions options) : options_(std::move(options)) {}

  Result<void> create(const CreateOptions& options) override {
    auto created = create_process(options);
    if (!created) return std::unexpected(created.error());
    return {};
  }

  Result<ProcessHandle> create_process(const CreateOptions& options) override {
    UniqueFd console_ours, console_theirs;
    if (auto ok = validate_container_id(options.id); !ok) return std::unexpected(ok.error());
    auto bundle = load_bundle(options.bundle);
    if (!bundle) return std::unexpected(bundle.error());
    if (options.receive_pty && bundle->spec.process && bundle->spec.process->terminal.value_or(false)) {
      int pair[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        return fail_errno("socketpair for the console");
      }
      console_ours.reset(pair[0]);
      console_theirs.reset(pair[1]);
    }
    auto init = create_init(options, *bundle, console_theirs ? console_theirs.get() : -1);
    if (!init) return std::unexpected(init.error());
    ProcessHandle handle{init->pid, std::move(init->pidfd), UniqueFd()};
    if (console_ours) {
      console_theirs.reset();
      auto received = linux::receive_fd(console_ours.get());
      if (!received) return std::unexpected(received.error());
      handle.pty_master = std::move(*received);
    }
    return handle;
  }

  Result<void> start(const std::string& id) override {
    auto c = open(id);
    if (!c) return std::unexpected(c.error());
    if (c->status == "stopped") return fail("cannot start a container that has stopped");
    if (c->status != "created") return fail("cannot start an already " + c->status + " container");
    return release_init(*c);
  }

  Result<int> run(const CreateOptions& options, const RunOptions& run) override {
    if (run.detach) {
      if (auto ok = create(options); !ok) return std::unexpected(ok.error());
      if (auto ok = start(options.id); !ok) {
        (void)remove(options.id, true);
        return std::unexpected(ok.error());
      }
      return 0;
    }
    // Signals for the container are blocked before the clone (init resets its mask) so that
    // none is lost between the clone and the forwarding loop.
    sigset_t forward, old;
    sigemptyset(&forward);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) sigaddset(&forward, s);
    sigprocmask(SIG_BLOCK, &forward, &old);
    bool created = false;
    auto code = run_foreground(options, forward, created);
    sigprocmask(SIG_SETMASK, &old, nullptr);
    // Only what this run created is deleted: a duplicate id must not remove the other container.
    if (created && !run.keep) {
      if (auto ok = remove(options.id, true); !ok && code) return std::unexpected(ok.error());
    }
    return code;
  }

  Result<int> exec(const ExecOptions& options) override {
    sigset_t forward, old;
    sigemptyset(&forward);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) sigaddset(&forward, s);
    if (!options.detach) sigprocmask(SIG_BLOCK, &forward, &old);
    auto code = exec_process(options, forward);
    if (!options.detach) sigprocmask(SIG_SETMASK, &old, nullptr);
    return code;
  }

  Result<spec::RuntimeState> state(const std::string& id) override {
    auto c = open(id);
    if (!c) return std::unexpected(c.error());
    return to_runtime_state(c->state, c->status);
  }

  Result<std::vector<spec::RuntimeState>> list() override {
    std::vector<spec::RuntimeState> out;
    for (const auto& id : list_container_ids(options_.state_root)) {
      if (auto s = state(id)) out.push_back(std::move(*s));
    }
    return out;
  }

  Result<void> kill(const std::string& id, int signal, bool all) override {
    auto c = open(id);
    if (!c) return std::unexpected(c.error());
    // --all reaches what is left in the cgroup even after the init died (as runc does): an
    // init that shared its pid namespace leaves processes the kernel does not end.
    if (all) {
      auto pids = c->cgroup->pids();
      if (!pids) return std::unexpected(pids.error());
      for (pid_t pid : *pids) ::kill(pid, signal);
      // A paused container gets the signal when it thaws; SIGKILL must not wait for that.
      if (signal == SIGKILL && c->status == "paused") (void)c->cgroup->thaw();
      return {};
    }
    if (c->status == "stopped") return fail("container not running");
    UniqueFd pidfd(linux::sys::pidfd_open(c->state.pid));
    // Re-check after opening the pidfd: the pid cannot be reused while we hold it.
    if (!pidfd || !init_alive(c->state)) return fail("container not running");
    if (linux::sys::pidfd_send_signal(pidfd.get(), signal) != 0) {
      return fail_errno("signal container init " + std::to_string(c->state.pid));
    }
    return {};
  }

  Result<void> remove(const std::string& id, bool force) override {
    auto c = open(id);
    if (!c) {
      // A dir without state.json is an aborted create: remove it; --force hides "not found".
      std::error_code ec;
      std::filesystem::remove_all(options_.state_root / id, ec);
      if (force && c.error().code == ENOENT) return {};
      return std::unexpected(c.error());
    }
    if (c->status == "running" || c->status == "paused") {
      if (!force) {
        return fail("cannot delete container \"" + id + "\" that is not stopped: " + c->status);
      }
    }
    // Whatever is left in the cgroup goes, also after a stopped init that did not own its pid
    // namespace; destroy() then waits for the cgroup to empty.
    if (auto pids = c->cgroup->pids()) {
      for (pid_t pid : *pids) ::kill(pid, SIGKILL);
    }
    if (c->status != "stopped") {
      UniqueFd pidfd(linux::sys::pidfd_open(c->state.pid));
      if (pidfd && init_alive(c->state)) linux::sys::pidfd_send_signal(pidfd.get(), SIGKILL);
      if (c->status == "paused") (void)c->cgroup->thaw();
      if (!wait_gone(c->state, std::chrono::seconds(10))) {
        return fail("container \"" + id + "\": init " + std::to_string(c->state.pid) +
                    " did not exit after SIGKILL");
      }
    }
    if (auto ok = c->cgroup->destroy(); !ok) return ok;
    return c->dir.remove();
  }

  Result<void> pause(const std::string& id) override {
    auto c = open(id);
    if (!c) return std::unexpected(c.error());
    if (c->status != "running") return fail("container \"" + id + "\" is not running: " + c->status);
    return c->cgroup->freeze();
  }

  Result<void> resume(const std::string& id) override {
    auto c = open(id);
    if (!c) return std::unexpected(c.error());
    if (c->status != "paused") return fail("container \"" + id + "\" is not paused: " + c->status);
    return c->cgroup->thaw();
  }

  Result<void> update(const std::string& id, const spec::Resources& resources) override {
    auto c = open(id);
    if (!c) return std::unexpected(c.error());
    if (c->status == "stopped") return fail("container \"" + id + "\" is stopped: cannot update it");
    return c->cgroup->update(resources);
  }

  Result<cgroups::Stats> stats(const std::string& id) override {
    auto c = open(id);
    if (!c) return std::unexpected(c.error());
    if (c->status == "stopped") return fail("container \"" + id + "\" is stopped");
    return c->cgroup->stats();
  }

  Result<std::string> memory_cgroup_dir(const std::string& id) override {
    auto c = open(id);
    if (!c) return std::unexpected(c.error());
    auto dir = c->cgroup->path_of("memory");
    if (dir.empty()) return fail("container \"" + id + "\" has no memory cgroup");
    return dir;
  }

  Result<std::vector<pid_t>> pids(const std::string& id) override {
    auto c = open(id);
    if (!c) return std::unexpected(c.error());
    return c->cgroup->pids();
  }

 private:
  struct CreatedInit {
    pid_t pid;
    UniqueFd pidfd;  // we are init's parent until this process exits
  };

  Result<Opened> open(const std::string& id) {
    if (auto ok = validate_container_id(id); !ok) return std::unexpected(ok.error());
    auto dir = ContainerDir::open(options_.state_root, id);
    if (!dir) return std::unexpected(dir.error());
    auto st = dir->read();
    if (!st) {
      if (st.error().code == ENOENT) return fail("container \"" + id + "\" does not exist", ENOENT);
      return std::unexpected(st.error());
    }
    auto cg = cgroups::make_fs_manager({st->cgroup_path});
    auto status = status_of(*dir, *st, *cg);
    return Opened{std::move(*dir), std::move(*st), std::move(cg), std::move(status)};
  }

  // `console_fd`: where init sends its pty master when the caller receives it itself (hippo
  // run in the foreground); otherwise --console-socket is connected.
  Result<CreatedInit> create_init(const CreateOptions& options, const Bundle& loaded, int console_fd) {
    const Bundle* bundle = &loaded;
    const auto& spec = bundle->spec;
    if (!spec.process) return fail("config.json: process: required to create a container");
    const bool terminal = spec.process->terminal.value_or(false);
    UniqueFd console;
    if (terminal && console_fd < 0) {
      if (options.console_socket.empty()) {
        return fail("cannot allocate tty if hippo will detach without setting console socket");
      }
      auto connected = linux::connect_console_socket(options.console_socket);
      if (!connected) return std::unexpected(connected.error());
      console = std::move(*connected);
      console_fd = console.get();
    } else if (!terminal && !options.console_socket.empty()) {
      return fail("cannot use console socket if hippo will not detach or allocate tty");
    }
    auto cgroup_path = cgroup_path_for(spec, options.id);
    if (!cgroup_path) return std::unexpected(cgroup_path.error());

    auto dir = ContainerDir::create(options_.state_root, options.id);
    if (!dir) return std::unexpected(dir.error());
    Undo remove_dir([&] { (void)dir->remove(); });

    // 0622 whatever our umask: init opens it for writing after switching to the container's
    // user (or its user namespace's root).
    if (::mkfifo(dir->fifo_path().c_str(), 0622) != 0 || ::chmod(dir->fifo_path().c_str(), 0622) != 0) {
      return fail_errno("mkfifo " + dir->fifo_path().string());
    }
    UniqueFd fifo(::open(dir->fifo_path().c_str(), O_PATH | O_CLOEXEC));
    if (!fifo) return fail_errno("open " + dir->fifo_path().string());

    auto cgroup = cgroups::make_fs_manager({*cgroup_path});
    const spec::Resources resources =
        spec.linux && spec.linux->resources ? *spec.linux->resources : spec::Resources{};
    if (auto ok = cgroup->create(resources); !ok) return std::unexpected(ok.error());
    Undo destroy_cgroup([&] { (void)cgroup->destroy(); });

    linux::PlanOptions plan_options;
    plan_options.bundle = bundle->dir.string();
    plan_options.no_pivot = options.no_pivot;
    for (const char* h : kV1Hierarchies) {
      const auto host = cgroup->path_of(h);
      if (!host.empty() && std::filesystem::is_directory(host)) plan_options.cgroup_binds.emplace_back(h, host);
    }
    auto plan = linux::build_init_plan(spec, bundle->rootfs.string(), plan_options);
    if (!plan) return std::unexpected(plan.error());
    plan->exec_fifo_fd = fifo.get();
    plan->console_fd = terminal ? console_fd : -1;
    plan->preserve_fds = options.preserve_fds;
    plan->stdio_fds[0] = options.io.stdin_fd;
    plan->stdio_fds[1] = options.io.stdout_fd;
    plan->stdio_fds[2] = options.io.stderr_fd;
    if (!options.no_new_keyring) plan->session_keyring = "_ses." + options.id;

    UniqueFd cgroup_dir = open_cgroup2_dir(*cgroup);
    plan->cgroup_fd = cgroup_dir.get();
    auto init = linux::spawn_init(*plan, [&](pid_t pid) { return cgroup->attach(pid); });
    if (!init) return std::unexpected(init.error());
    if (init->cloned_into_cgroup) {
      spdlog::debug("init {} cloned into cgroup {}", init->pid, cgroup->path_of(""));
    }
    Undo kill_init([&] {
      linux::sys::pidfd_send_signal(init->pidfd.get(), SIGKILL);
      siginfo_t info{};
      ::waitid(P_PIDFD, static_cast<id_t>(init->pidfd.get()), &info, WEXITED);
    });

    StoredState st;
    st.id = options.id;
    st.pid = init->pid;
    st.pid_start = process_start_time(init->pid).value_or(0);
    st.bundle = bundle->dir.string();
    st.rootfs = bundle->rootfs.string();
    st.created = rfc3339_now();
    st.cgroup_path = *cgroup_path;
    st.annotations = spec.annotations.value_or(spec::StringMap{});
    if (auto ok = dir->write(st); !ok) return std::unexpected(ok.error());
    if (!options.pid_file.empty()) {
      if (auto ok = write_pid_file(options.pid_file, init->pid); !ok) return std::unexpected(ok.error());
    }
    kill_init.commit();
    destroy_cgroup.commit();
    remove_dir.commit();
    return CreatedInit{init->pid, std::move(init->pidfd)};
  }

  Result<int> exec_process(const ExecOptions& o, const sigset_t& forward) {
    ExecOptions local = o;
    // In the foreground without a console socket we relay the pty ourselves.
    local.receive_pty = !o.detach && o.console_socket.empty();
    auto child = spawn_exec(local);
    if (!child) return std::unexpected(child.error());
    if (child->pty_master) linux::copy_window_size(STDIN_FILENO, child->pty_master.get());
    if (o.detach) return 0;
    return wait_and_relay(child->pidfd, std::move(child->pty_master), forward);
  }

  Result<ProcessHandle> spawn_exec(const ExecOptions& o) override {
    UniqueFd console_ours, console_theirs;
    auto c = open(o.id);
    if (!c) return std::unexpected(c.error());
    if (c->status == "stopped") return fail("cannot exec in a stopped container");
    if (c->status == "paused" && !o.ignore_paused) {
      return fail("cannot exec in a paused container (use --ignore-paused to override)");
    }
    auto process = exec_process_spec(o, c->state.bundle);
    if (!process) return std::unexpected(process.error());
    const bool terminal = process->terminal.value_or(false);
    if (terminal && !o.receive_pty && o.console_socket.empty()) {
      return fail("cannot allocate tty if hippo will detach without setting console socket");
    }
    if (!terminal && !o.console_socket.empty()) {
      return fail("cannot use console socket if hippo will not detach or allocate tty");
    }
    auto plan = linux::build_exec_plan(*process, c->state.pid);
    if (!plan) return std::unexpected(plan.error());
    plan->preserve_fds = o.preserve_fds;
    plan->stdio_fds[0] = o.io.stdin_fd;
    plan->stdio_fds[1] = o.io.stdout_fd;
    plan->stdio_fds[2] = o.io.stderr_fd;
    if (terminal) {
      if (!o.console_socket.empty()) {
        auto connected = linux::connect_console_socket(o.console_socket);
        if (!connected) return std::unexpected(connected.error());
        console_theirs = std::move(*connected);
      } else {
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
          return fail_errno("socketpair for the console");
        }
        console_ours.reset(pair[0]);
        console_theirs.reset(pair[1]);
      }
      plan->console_fd = console_theirs.get();
    }
    // Hold init's pidfd across the spawn: its pid (and the /proc/<pid>/ns paths the plan
    // names) cannot be reused meanwhile.
    UniqueFd init_pidfd(linux::sys::pidfd_open(c->state.pid));
    if (!init_pidfd || !init_alive(c->state)) return fail("cannot exec in a stopped container");
    UniqueFd cgroup_dir = open_cgroup2_dir(*c->cgroup);
    plan->cgroup_fd = cgroup_dir.get();
    auto child = linux::spawn_init(*plan, [&](pid_t pid) { return c->cgroup->attach(pid); });
    if (!child) return std::unexpected(child.error());
    console_theirs.reset();
    if (!o.pid_file.empty()) {
      if (auto ok = write_pid_file(o.pid_file, child->pid); !ok) return std::unexpected(ok.error());
    }
    ProcessHandle handle{child->pid, std::move(child->pidfd), UniqueFd()};
    if (console_ours) {
      auto received = linux::receive_fd(console_ours.get());
      if (!received) return std::unexpected(received.error());
      handle.pty_master = std::move(*received);
    }
    return handle;
  }

  // Opens the exec fifo for reading: init, blocked opening it for writing, writes one byte and
  // goes on to execve. If init dies instead, its pidfd says so.
  Result<void> release_init(Opened& c) {
    const auto fifo_path = c.dir.fifo_path();
    // The pidfd first: once the fifo is open, init may exec and exit at once.
    UniqueFd pidfd(linux::sys::pidfd_open(c.state.pid));
    if (!pidfd || !init_alive(c.state)) return fail("cannot start a container that has stopped");
    UniqueFd fifo(::open(fifo_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fifo) return fail_errno("open " + fifo_path.string());
    for (;;) {
      pollfd fds[2] = {{fifo.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return fail_errno("wait for container init");
      }
      if (fds[0].revents & POLLIN) {
        char byte = 0;
        if (::read(fifo.get(), &byte, 1) == 1) break;
      }
      if (fds[1].revents & POLLIN) return fail("container init exited before it could start");
    }
    ::unlink(fifo_path.c_str());
    return {};
  }

  Result<int> run_foreground(const CreateOptions& options, const sigset_t& forward, bool& created) {
    // With a terminal we are the console socket's receiver ourselves.
    CreateOptions local = options;
    local.receive_pty = true;
    auto init = create_process(local);
    if (!init) return std::unexpected(init.error());
    created = true;
    if (init->pty_master) linux::copy_window_size(STDIN_FILENO, init->pty_master.get());
    {
      auto c = open(options.id);
      if (!c) return std::unexpected(c.error());
      if (auto ok = release_init(*c); !ok) return std::unexpected(ok.error());
    }
    return wait_and_relay(init->pidfd, std::move(init->pty_master), forward);
  }

  // Waits for our child behind `pidfd` to exit while forwarding signals to it and, with a
  // terminal, relaying between our stdio and the pty master. Returns its exit code.
  Result<int> wait_and_relay(const UniqueFd& pidfd, UniqueFd master, const sigset_t& forward) {
    linux::RawMode raw(master ? STDIN_FILENO : -1);
    UniqueFd sfd(::signalfd(-1, &forward, SFD_CLOEXEC));
    if (!sfd) return fail_errno("signalfd");
    bool stdin_open = static_cast<bool>(master);
    for (;;) {
      pollfd fds[4] = {{pidfd.get(), POLLIN, 0},
                       {sfd.get(), POLLIN, 0},
                       {master ? master.get() : -1, POLLIN, 0},
                       {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
      if (::poll(fds, 4, -1) < 0) {
        if (errno == EINTR) continue;
        return fail_errno("wait for container");
      }
      if (fds[1].revents & POLLIN) {
        signalfd_siginfo si{};
        if (::read(sfd.get(), &si, sizeof si) == sizeof si) {
          if (si.ssi_signo == SIGWINCH && master) {
            linux::copy_window_size(STDIN_FILENO, master.get());
          } else {
            linux::sys::pidfd_send_signal(pidfd.get(), static_cast<int>(si.ssi_signo));
          }
        }
      }
      if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
        if (!copy_once(master.get(), STDOUT_FILENO)) master.reset();
      }
      if (fds[3].revents & (POLLIN | POLLHUP | POLLERR)) {
        if (!copy_once(STDIN_FILENO, master.get())) stdin_open = false;
      }
      if (fds[0].revents & POLLIN) break;
    }
    if (master) {
      // What the container wrote just before it exited is still in the pty.
      ::fcntl(master.get(), F_SETFL, ::fcntl(master.get(), F_GETFL) | O_NONBLOCK);
      while (copy_once(master.get(), STDOUT_FILENO)) {
      }
    }
    siginfo_t info{};
    if (::waitid(P_PIDFD, static_cast<id_t>(pidfd.get()), &info, WEXITED) != 0) {
      return fail_errno("wait for container init");
    }
    return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
  }

  // Moves one buffer from `in` to `out`; false at end of input (EOF, EIO of a closed pty, EAGAIN).
  static bool copy_once(int in, int out) {
    char buf[16384];
    ssize_t n;
    do {
      n = ::read(in, buf, sizeof buf);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(out, buf + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      done += w;
    }
    return true;
  }

  NativeOptions options_;
};

}  // namespace

std::unique_ptr<Backend> make_native_backend(const NativeOptions& options) {
  return std::make_unique<NativeBackend>(options);
}

}  // namespace hippo::runtime
