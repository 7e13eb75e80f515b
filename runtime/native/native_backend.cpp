// The native backend: hippo creates containers itself (linux/spawn, linux/init_child) and
// places them in cgroups through the cgroupfs or the systemd driver.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "oci-spec/config.hpp"
#include "base/file_io.hpp"
#include "runtime/backend.hpp"
#include "runtime/bundle.hpp"
#include "runtime/cgroups/cgroup_files.hpp"
#include "runtime/cgroups/driver.hpp"
#include "runtime/cgroups/systemd_manager.hpp"
#include "runtime/hooks.hpp"
#include "runtime/linux/console.hpp"
#include "runtime/linux/spawn.hpp"
#include "base/logging.hpp"
#include "base/syscalls.hpp"
#include "runtime/seccomp_agent.hpp"
#include "runtime/state_store.hpp"
#include "base/undo.hpp"

namespace hippo::runtime {
namespace {

using os::UniqueFd;

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

// The container's cgroup by the driver it is created with, and what later commands need to
// find it again (stored in state.json).
struct PlacedCgroup {
  std::unique_ptr<cgroups::Manager> manager;
  std::string path;                         // StoredState::cgroup_path
  std::optional<std::string> systemd_unit;  // StoredState::systemd_unit
};

Result<PlacedCgroup> cgroup_for(const spec::Spec& s, const std::string& id, cgroups::Driver wanted,
                                const std::string& default_slice) {
  std::string path = s.linux && s.linux->cgroupsPath ? *s.linux->cgroupsPath : "";
  if (cgroups::resolve_driver(wanted, path) == cgroups::Driver::systemd) {
    auto scope = cgroups::parse_scope_name(path, id, default_slice);
    if (!scope) return std::unexpected(scope.error());
    auto extra = cgroups::annotation_properties(s.annotations.value_or(spec::StringMap{}));
    if (!extra) return std::unexpected(extra.error());
    auto manager = cgroups::make_systemd_manager(
        {scope->unit, scope->slice, scope->cgroup, "hippo container " + id, std::move(*extra)});
    return PlacedCgroup{std::move(manager), scope->cgroup, scope->unit};
  }
  if (path.empty()) path = "/" + id;  // runc's default for the cgroupfs driver
  if (cgroups::is_systemd_path(path)) {
    // A kubelet with cgroupDriver: systemd makes CRI pass "slice:prefix:name" whatever the
    // runtime's driver is. cgroupfs then lays the tree out as systemd would (slices nested by
    // their dashes, the container in <prefix>-<name>.scope), so the pod hierarchy stays the
    // kubelet's, where runc would make a directory literally named "slice:prefix:name".
    auto scope = cgroups::parse_scope_name(path, id, default_slice);
    if (!scope) return std::unexpected(scope.error());
    path = scope->cgroup;
  }
  if (path.front() != '/') path = "/" + path;
  return PlacedCgroup{cgroups::make_fs_manager({path}), path, std::nullopt};
}

std::unique_ptr<cgroups::Manager> stored_cgroup(const StoredState& st) {
  if (st.systemd_unit) {
    return cgroups::make_systemd_manager({*st.systemd_unit, "", st.cgroup_path, "", {}});
  }
  return cgroups::make_fs_manager({st.cgroup_path});
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
  out.pid = init_alive(st) ? st.pid : 0;
  out.status = status;
  out.bundle = st.bundle;
  out.rootfs = st.rootfs;
  out.created = st.created;
  if (!st.annotations.empty()) out.annotations = st.annotations;
  out.owner = st.owner;
  return out;
}

// Every process in the container's cgroup, in any of its hierarchies: a create killed while
// it attached the init may have left it in some v1 hierarchies only.
std::vector<pid_t> cgroup_processes(const cgroups::Manager& cg) {
  std::vector<pid_t> out = cg.pids().value_or(std::vector<pid_t>{});
  std::vector<std::string> dirs{cg.path_of("")};
  for (const char* h : kV1Hierarchies) dirs.push_back(cg.path_of(h));
  for (const auto& dir : dirs) {
    if (dir.empty()) continue;
    auto pids = cgroups::read_procs_recursive(dir, cgroups::Tree::kernel);
    if (pids) out.insert(out.end(), pids->begin(), pids->end());
  }
  std::ranges::sort(out);
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

spec::OciState oci_state(const std::string& id, const std::string& status, pid_t pid,
                         const std::string& bundle, const spec::Spec& s) {
  spec::OciState out;
  out.ociVersion = std::string(spec::kOciVersion);
  out.id = id;
  out.status = status;
  if (pid > 0) out.pid = pid;
  out.bundle = bundle;
  if (s.annotations && !s.annotations->empty()) out.annotations = s.annotations;
  return out;
}

std::string hook_state(const std::string& id, const std::string& status, pid_t pid,
                       const std::string& bundle, const spec::Spec& s) {
  return spec::to_json(oci_state(id, status, pid, bundle, s)).dump();
}

const std::vector<spec::Hook>& hooks_of(const spec::Spec& s,
                                        std::optional<std::vector<spec::Hook>> spec::Hooks::*kind) {
  static const std::vector<spec::Hook> kNone;
  return s.hooks && (*s.hooks).*kind ? *((*s.hooks).*kind) : kNone;
}

// SCMP_ACT_NOTIFY: the agent at listenerPath gets the filter's fd with the container's state.
Result<void> hand_over_listener(const os::UniqueFd& listener, const spec::Spec& s,
                                const spec::OciState& state, pid_t pid) {
  if (!listener) return {};
  const auto& seccomp = *s.linux->seccomp;
  return send_to_seccomp_agent(
      seccomp.listenerPath.value_or(""), listener.get(),
      container_process_state(state, pid, seccomp.listenerMetadata.value_or("")));
}

// Waits up to `timeout` for a process that may not be our child to exit.
bool wait_gone(const StoredState& st, std::chrono::milliseconds timeout) {
  UniqueFd pidfd(os::sys::pidfd_open(st.pid));
  if (!pidfd || !init_alive(st)) return true;
  pollfd p{pidfd.get(), POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

// A container directory as found, healthy or not. `problem` is empty for a healthy one;
// otherwise it says what is wrong (status "incomplete" or "corrupt"; see with_hint), and `state` holds what
// could still be read (cleanup.json when state.json is unreadable), if anything.
struct Inspected {
  ContainerDir dir;
  std::optional<StoredState> state;
  std::unique_ptr<cgroups::Manager> cgroup;  // when `state` is known
  std::string status;
  std::string problem;
};

// A healthy container whose state is open: its dir (locked), stored state and cgroup.
struct Opened {
  ContainerDir dir;
  StoredState state;
  std::unique_ptr<cgroups::Manager> cgroup;
  std::string status;
};

// A problem as the user reads it: what is wrong and what to do about it.
std::string with_hint(const Inspected& c) {
  return c.problem + "; `hippo delete -f " + c.dir.id() + "` removes what it left";
}

// Reads what <root>/<id> holds and judges it: a complete record gives the OCI status; a record
// without an init (pid 0), or none at all, is a create that did not finish ("creating" while
// another command holds the lock, else "incomplete"); an unreadable state.json is "corrupt".
Result<Inspected> inspect_dir(ContainerDir dir) {
  const std::string id = dir.id();
  Inspected out{std::move(dir), std::nullopt, nullptr, "", ""};
  auto st = out.dir.read();
  if (st) {
    out.state = std::move(*st);
  } else if (st.error().code == ENOENT) {
    if (auto cleanup = out.dir.read_cleanup(); cleanup || cleanup.error().code != ENOENT) {
      out.status = "corrupt";
      out.problem = "container \"" + id + "\": " + out.dir.path() + "/state.json is missing";
      if (cleanup) out.state = std::move(*cleanup);
    }
  } else {
    out.status = "corrupt";
    out.problem = "container \"" + id + "\": " + st.error().message;
    if (auto cleanup = out.dir.read_cleanup()) out.state = std::move(*cleanup);
  }
  if (out.state) {
    // A record that names the root (or no) cgroup would make delete -f kill every process
    // on the host.
    const auto& cg = out.state->cgroup_path;
    if (cg.empty() || cg.front() != '/' || normalize_path(cg) != cg || cg == "/") {
      if (out.problem.empty()) {
        out.status = "corrupt";
        out.problem = "container \"" + id + "\": " + out.dir.path() +
                      "/state.json: cgroup_path: \"" + cg + "\" is not a container's cgroup";
      }
    } else {
      out.cgroup = stored_cgroup(*out.state);
    }
  }
  if (!out.problem.empty()) return out;
  if (out.state && out.state->pid > 0) {
    out.status = status_of(out.dir, *out.state, *out.cgroup);
  } else if (!out.dir.locked()) {
    out.status = "creating";
  } else {
    out.status = "incomplete";
    out.problem = "container \"" + id + "\": its create did not finish (was it killed?)";
  }
  return out;
}

class NativeBackend final : public Backend {
 public:
  explicit NativeBackend(NativeOptions options)
      : options_(std::move(options)),
        // load_config has checked the value; an unchecked one falls back to auto.
        driver_(cgroups::parse_driver(options_.cgroup_driver).value_or(cgroups::Driver::automatic)) {}

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
      auto received = os::receive_fd(console_ours.get());
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
    auto c = inspect(id, ContainerDir::Wait::yes);
    if (!c) return std::unexpected(c.error());
    return reported_state(*c);
  }

  Result<std::vector<spec::RuntimeState>> list() override {
    std::vector<spec::RuntimeState> out;
    for (const auto& id : list_container_ids(options_.state_root)) {
      // Not waiting: a create in progress (or a hung hook) must not block the listing.
      auto c = inspect(id, ContainerDir::Wait::no);
      if (!c) {
        if (c.error().code != ENOENT) log::warn("container \"" + id + "\": " + c.error().message);
        continue;  // removed meanwhile
      }
      out.push_back(reported_state(*c));
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
    UniqueFd pidfd(os::sys::pidfd_open(c->state.pid));
    // Re-check after opening the pidfd: the pid cannot be reused while we hold it.
    if (!pidfd || !init_alive(c->state)) return fail("container not running");
    if (os::sys::pidfd_send_signal(pidfd.get(), signal) != 0) {
      return fail_errno("signal container init " + std::to_string(c->state.pid));
    }
    return {};
  }

  Result<void> remove(const std::string& id, bool force) override {
    auto c = inspect(id, ContainerDir::Wait::yes);
    if (!c) {
      if (force && c.error().code == ENOENT) return {};
      return std::unexpected(c.error());
    }
    if (!c->problem.empty() && !force) {
      return fail(c->problem + ": kept; `hippo delete -f " + id + "` removes what it left");
    }
    if ((c->status == "running" || c->status == "paused") && !force) {
      return fail("cannot delete container \"" + id + "\" that is not stopped: " + c->status);
    }
    if (!c->problem.empty()) log::warn(c->problem + ": removing what is left");
    if (auto ok = end_processes(*c); !ok) return ok;
    if (c->cgroup) {
      if (auto ok = c->cgroup->destroy(); !ok) return ok;
    } else if (c->status == "corrupt") {
      log::warn("container \"" + id + "\": no readable record names its init or cgroup: if it had "
                "any, they are left");
    }
    // poststop hooks run once a container that was created is gone; failures are only warned about.
    if (c->problem.empty() && c->state) {
      if (auto config = spec::load(c->state->bundle + "/config.json"); config && config->hooks) {
        const auto state = hook_state(id, "stopped", 0, c->state->bundle, *config);
        if (auto ok = run_hooks("poststop", hooks_of(*config, &spec::Hooks::poststop), state); !ok) {
          log::warn(ok.error().message);
        }
      }
    }
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

  Result<spec::Stats> stats(const std::string& id) override {
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

  Result<Inspected> inspect(const std::string& id, ContainerDir::Wait wait) {
    auto dir = ContainerDir::open(options_.state_root, id, wait);
    if (!dir) return std::unexpected(dir.error());
    return inspect_dir(std::move(*dir));
  }

  // A healthy container for the commands that act on one; an incomplete or corrupt one is an
  // error that says what is wrong.
  Result<Opened> open(const std::string& id) {
    auto c = inspect(id, ContainerDir::Wait::yes);
    if (!c) return std::unexpected(c.error());
    if (!c->problem.empty()) return fail(with_hint(*c));
    return Opened{std::move(c->dir), std::move(*c->state), std::move(c->cgroup), std::move(c->status)};
  }

  // `state` and `list`: what is known, with a warning line when something is wrong.
  static spec::RuntimeState reported_state(const Inspected& c) {
    if (!c.problem.empty()) log::warn(with_hint(c));
    StoredState st = c.state.value_or(StoredState{});
    st.id = c.dir.id();
    return to_runtime_state(st, c.status);
  }

  // SIGKILLs the init (by pid and start time) and everything in its cgroup, and waits for the
  // init to be gone (the cgroup's destroy() waits for the rest).
  static Result<void> end_processes(Inspected& c) {
    if (c.cgroup) {
      for (pid_t pid : cgroup_processes(*c.cgroup)) ::kill(pid, SIGKILL);
      // A frozen process takes SIGKILL only once thawed.
      if (auto frozen = c.cgroup->frozen(); frozen && *frozen) (void)c.cgroup->thaw();
    }
    if (!c.state || !init_alive(*c.state)) return {};
    UniqueFd pidfd(os::sys::pidfd_open(c.state->pid));
    if (pidfd && init_alive(*c.state)) os::sys::pidfd_send_signal(pidfd.get(), SIGKILL);
    if (!wait_gone(*c.state, std::chrono::seconds(10))) {
      return fail("container \"" + c.dir.id() + "\": init " + std::to_string(c.state->pid) +
                  " did not exit after SIGKILL");
    }
    return {};
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
      auto connected = os::connect_console_socket(options.console_socket);
      if (!connected) return std::unexpected(connected.error());
      console = std::move(*connected);
      console_fd = console.get();
    } else if (!terminal && !options.console_socket.empty()) {
      return fail("cannot use console socket if hippo will not detach or allocate tty");
    }
    auto placed = cgroup_for(spec, options.id, options.systemd_cgroup ? cgroups::Driver::systemd : driver_,
                             options_.systemd_slice);
    if (!placed) return std::unexpected(placed.error());

    auto dir = ContainerDir::create(options_.state_root, options.id);
    if (!dir) return std::unexpected(dir.error());
    Undo remove_dir([&] { (void)dir->remove(); });
    // The record goes first, before any resource: a create killed from here on leaves a
    // container that `state` reports and `delete -f` cleans up (cgroup or unit by its path,
    // the init once its pid is added below).
    StoredState st;
    st.id = options.id;
    st.bundle = bundle->dir;
    st.rootfs = bundle->rootfs;
    st.created = log::rfc3339_now();
    st.cgroup_path = placed->path;
    st.systemd_unit = placed->systemd_unit;
    st.annotations = spec.annotations.value_or(spec::StringMap{});
    if (auto ok = dir->write(st); !ok) return std::unexpected(ok.error());

    // 0622 whatever our umask: init opens it for writing after switching to the container's
    // user (or its user namespace's root).
    if (::mkfifo(dir->fifo_path().c_str(), 0622) != 0 || ::chmod(dir->fifo_path().c_str(), 0622) != 0) {
      return fail_errno("mkfifo " + dir->fifo_path());
    }
    UniqueFd fifo(::open(dir->fifo_path().c_str(), O_PATH | O_CLOEXEC));
    if (!fifo) return fail_errno("open " + dir->fifo_path());

    auto& cgroup = placed->manager;
    const spec::Resources resources =
        spec.linux && spec.linux->resources ? *spec.linux->resources : spec::Resources{};
    if (auto ok = cgroup->create(resources); !ok) return std::unexpected(ok.error());
    Undo destroy_cgroup([&] { (void)cgroup->destroy(); });

    os::PlanOptions plan_options;
    plan_options.bundle = bundle->dir;
    plan_options.no_pivot = options.no_pivot;
    for (const char* h : kV1Hierarchies) {
      const auto host = cgroup->path_of(h);
      // A systemd scope's directories appear only when the unit starts (at attach, before
      // the init mounts anything).
      if (!host.empty() && (placed->systemd_unit || is_directory(host))) {
        plan_options.cgroup_binds.emplace_back(h, host);
      }
    }
    auto plan = os::build_init_plan(spec, bundle->rootfs, plan_options);
    if (!plan) return std::unexpected(plan.error());
    for (const auto& w : plan->warnings) log::warn(w);
    plan->exec_fifo_fd = fifo.get();
    plan->console_fd = terminal ? console_fd : -1;
    plan->preserve_fds = options.preserve_fds;
    plan->stdio_fds[0] = options.io.stdin_fd;
    plan->stdio_fds[1] = options.io.stdout_fd;
    plan->stdio_fds[2] = options.io.stderr_fd;
    if (!options.no_new_keyring) plan->session_keyring = "_ses." + options.id;
    const std::string bundle_dir = bundle->dir;
    if (spec.hooks) {
      auto ok = os::set_hooks(
          *plan, *spec.hooks,
          hook_state(options.id, "creating", os::kStatePidMarker, bundle_dir, spec),
          hook_state(options.id, "created", os::kStatePidMarker, bundle_dir, spec));
      if (!ok) return std::unexpected(ok.error());
    }
    // prestart then createRuntime, in our namespaces, once init's mounts are done.
    auto creation_hooks = [&](pid_t pid) -> Result<void> {
      const auto state = hook_state(options.id, "creating", pid, bundle_dir, spec);
      if (auto ok = run_hooks("prestart", hooks_of(spec, &spec::Hooks::prestart), state); !ok)
        return ok;
      return run_hooks("createRuntime", hooks_of(spec, &spec::Hooks::createRuntime), state);
    };

    UniqueFd cgroup_dir = open_cgroup2_dir(*cgroup);
    plan->cgroup_fd = cgroup_dir.get();
    // Before init goes on (it waits for kGo meanwhile, and exits if we die): its pid and start
    // time into the record, then into the cgroup. A create killed after this leaves an init
    // that delete -f finds by its pid or its cgroup.
    auto record_and_attach = [&](pid_t pid) -> Result<void> {
      st.pid = pid;
      st.pid_start = process_start_time(pid).value_or(0);
      if (auto ok = dir->write(st); !ok) return ok;
      return cgroup->attach(pid);
    };
    auto init = os::spawn_init(*plan, record_and_attach, creation_hooks);
    if (!init) return std::unexpected(init.error());
    if (init->cloned_into_cgroup) {
      log::debug("init " + std::to_string(init->pid) + " cloned into cgroup " + cgroup->path_of(""));
    }
    Undo kill_init([&] {
      os::sys::pidfd_send_signal(init->pidfd.get(), SIGKILL);
      siginfo_t info{};
      ::waitid(P_PIDFD, static_cast<id_t>(init->pidfd.get()), &info, WEXITED);
    });

    if (auto ok = hand_over_listener(
            init->seccomp_listener, spec,
            oci_state(options.id, "creating", init->pid, bundle->dir, spec), init->pid);
        !ok) {
      return std::unexpected(ok.error());
    }
    init->seccomp_listener.reset();

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
    if (child->pty_master) os::copy_window_size(STDIN_FILENO, child->pty_master.get());
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
    auto container_spec = spec::load(c->state.bundle + "/config.json");
    if (!container_spec) return std::unexpected(container_spec.error());
    const auto seccomp = container_spec->linux ? container_spec->linux->seccomp : std::nullopt;
    auto plan = os::build_exec_plan(*process, c->state.pid, seccomp);
    if (!plan) return std::unexpected(plan.error());
    for (const auto& w : plan->warnings) log::warn(w);
    plan->preserve_fds = o.preserve_fds;
    plan->stdio_fds[0] = o.io.stdin_fd;
    plan->stdio_fds[1] = o.io.stdout_fd;
    plan->stdio_fds[2] = o.io.stderr_fd;
    if (terminal) {
      if (!o.console_socket.empty()) {
        auto connected = os::connect_console_socket(o.console_socket);
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
    UniqueFd init_pidfd(os::sys::pidfd_open(c->state.pid));
    if (!init_pidfd || !init_alive(c->state)) return fail("cannot exec in a stopped container");
    UniqueFd cgroup_dir = open_cgroup2_dir(*c->cgroup);
    plan->cgroup_fd = cgroup_dir.get();
    auto child = os::spawn_init(*plan, [&](pid_t pid) { return c->cgroup->attach(pid); });
    if (!child) return std::unexpected(child.error());
    console_theirs.reset();
    if (auto ok = hand_over_listener(
            child->seccomp_listener, *container_spec,
            oci_state(o.id, c->status, c->state.pid, c->state.bundle, *container_spec), child->pid);
        !ok) {
      os::sys::pidfd_send_signal(child->pidfd.get(), SIGKILL);
      return std::unexpected(ok.error());
    }
    child->seccomp_listener.reset();
    if (!o.pid_file.empty()) {
      if (auto ok = write_pid_file(o.pid_file, child->pid); !ok) return std::unexpected(ok.error());
    }
    ProcessHandle handle{child->pid, std::move(child->pidfd), UniqueFd()};
    if (console_ours) {
      auto received = os::receive_fd(console_ours.get());
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
    UniqueFd pidfd(os::sys::pidfd_open(c.state.pid));
    if (!pidfd || !init_alive(c.state)) return fail("cannot start a container that has stopped");
    UniqueFd fifo(::open(fifo_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fifo) return fail_errno("open " + fifo_path);
    for (;;) {
      pollfd fds[2] = {{fifo.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return fail_errno("wait for container init");
      }
      if (fds[0].revents & POLLIN) {
        // "0": init goes on to execve; anything else is why it could not (a startContainer hook).
        char buf[1024];
        const ssize_t n = ::read(fifo.get(), buf, sizeof buf);
        if (n == 1 && buf[0] == '0') break;
        if (n > 0) {
          ::unlink(fifo_path.c_str());
          return fail("container init: " + std::string(buf, static_cast<size_t>(n)));
        }
      }
      if (fds[1].revents & POLLIN) return fail("container init exited before it could start");
    }
    ::unlink(fifo_path.c_str());
    auto config = spec::load(c.state.bundle + "/config.json");
    if (config && config->hooks) {
      const auto state = hook_state(c.state.id, "running", c.state.pid, c.state.bundle, *config);
      if (auto ok = run_hooks("poststart", hooks_of(*config, &spec::Hooks::poststart), state);
          !ok) {
        // The runtime-spec: a failed poststart hook stops the container (runc kills it).
        os::sys::pidfd_send_signal(pidfd.get(), SIGKILL);
        return ok;
      }
    }
    return {};
  }

  Result<int> run_foreground(const CreateOptions& options, const sigset_t& forward, bool& created) {
    // With a terminal we are the console socket's receiver ourselves.
    CreateOptions local = options;
    local.receive_pty = true;
    auto init = create_process(local);
    if (!init) return std::unexpected(init.error());
    created = true;
    if (init->pty_master) os::copy_window_size(STDIN_FILENO, init->pty_master.get());
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
    os::RawMode raw(master ? STDIN_FILENO : -1);
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
            os::copy_window_size(STDIN_FILENO, master.get());
          } else {
            os::sys::pidfd_send_signal(pidfd.get(), static_cast<int>(si.ssi_signo));
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
  cgroups::Driver driver_;
};

}  // namespace

NativeOptions native_options(const Config& config, std::string state_root) {
  return {std::move(state_root), config.cgroup_driver, config.systemd_slice};
}

std::unique_ptr<Backend> make_native_backend(const NativeOptions& options) {
  return std::make_unique<NativeBackend>(options);
}

}  // namespace hippo::runtime
