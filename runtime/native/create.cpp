// The native backend's create: the record, the exec fifo, the cgroup, the init plan, the init
// itself. Each step that makes something holds an Undo for it, committed only when the whole
// create succeeded, so a failure half-way leaves nothing behind; errors name the container, the
// step and the object ("create c1: cgroup /sys/fs/cgroup/...: ...").

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>

#include "base/file_io.hpp"
#include "base/logging.hpp"
#include "base/syscalls.hpp"
#include "base/undo.hpp"
#include "runtime/cdi/inject.hpp"
#include "runtime/cgroups/cgroup_files.hpp"
#include "runtime/features.hpp"
#include "runtime/hooks.hpp"
#include "runtime/linux/console.hpp"
#include "runtime/linux/init_plan.hpp"
#include "runtime/linux/spawn.hpp"
#include "runtime/native/cgroup_placement.hpp"
#include "runtime/native/native_backend.hpp"
#include "runtime/native/nesting.hpp"
#include "runtime/native/nesting_spec.hpp"
#include "runtime/native/oci_state.hpp"

namespace hippo::runtime::native {
namespace {

std::vector<spec::DeviceRule> device_rules(const spec::Spec& s) {
  if (!s.linux || !s.linux->resources || !s.linux->resources->devices) return {};
  return *s.linux->resources->devices;
}

bool same_rule(const spec::DeviceRule& a, const spec::DeviceRule& b) {
  return a.allow == b.allow && a.type == b.type && a.major == b.major && a.minor == b.minor &&
         a.access == b.access;
}

// linux.intelRdt and linux.netDevices as text, to tell whether CDI edited them.
std::string unsupported_cdi_edits(const spec::Spec& s) {
  if (!s.linux) return {};
  std::string out;
  if (const auto& r = s.linux->intelRdt) {
    out += "rdt:" + r->closID.value_or("") + "|" + r->l3CacheSchema.value_or("") + "|" +
           r->memBwSchema.value_or("") + ";";
  }
  for (const auto& [host, dev] :
       s.linux->netDevices.value_or(std::map<std::string, spec::NetDevice>{}))
    out += "net:" + host + "=" + dev.name.value_or("") + ";";
  return out;
}

// The rules of `now` that `before` did not have: what CDI and nesting let in at create.
std::vector<spec::DeviceRule> rules_added(const std::vector<spec::DeviceRule>& before,
                                          const std::vector<spec::DeviceRule>& now) {
  std::vector<spec::DeviceRule> out;
  for (const auto& r : now) {
    const auto had = [&](const spec::DeviceRule& b) { return same_rule(b, r); };
    if (std::ranges::none_of(before, had) && std::ranges::none_of(out, had)) out.push_back(r);
  }
  return out;
}

using os::UniqueFd;
using spec::Status;

// The console init sends its pty master to: `console_fd` (our own receiver) or the caller's
// --console-socket, connected here; -1 without a terminal.
struct CreateConsole {
  UniqueFd connected;
  int fd = -1;
};

Result<CreateConsole> create_console(const CreateOptions& options, bool terminal, int console_fd) {
  CreateConsole out;
  if (terminal && console_fd >= 0) {
    out.fd = console_fd;
  } else if (terminal) {
    if (options.console_socket.empty()) {
      return fail(ErrorKind::invalid_argument,
                  "cannot allocate tty if hippo will detach without setting console socket");
    }
    auto connected = os::connect_console_socket(options.console_socket);
    if (!connected) return forward(connected);
    out.connected = std::move(*connected);
    out.fd = out.connected.get();
  } else if (!options.console_socket.empty()) {
    return fail(ErrorKind::invalid_argument,
                "cannot use console socket if hippo will not detach or allocate tty");
  }
  return out;
}

// A nesting container is given its cgroup to delegate: one that holds processes or cgroups
// already is someone else's (for other containers it is a warning, as in runc).
Result<void> check_nesting_cgroup(const cgroups::Manager& cg) {
  std::vector<std::string> dirs{cg.path_of("")};
  for (const char* h : kV1Hierarchies) dirs.push_back(cg.path_of(h));
  for (const auto& dir : dirs) {
    if (dir.empty()) continue;
    const auto children = cgroups::child_cgroups(dir);
    const auto procs = cgroups::read_procs_recursive(dir, cgroups::Tree::kernel);
    if ((children && !children->empty()) || (procs && !procs->empty())) {
      return fail(ErrorKind::invalid_argument,
                  "invalid configuration: nesting: the container's cgroup " + dir +
                      " exists and is not empty: it would delegate another's cgroup");
    }
  }
  return {};
}

// One create in progress. Members are declared in the order the steps make them, so that a
// failure undoes them in reverse (the init, then the cgroup, then the state dir) as the object
// goes out of scope; commit() keeps them all.
class Creation {
 public:
  Creation(const CreateOptions& options, const Bundle& bundle, PlacedCgroup placed)
      : options_(options), bundle_(bundle), spec_(bundle.spec), placed_(std::move(placed)) {}
  Creation(const Creation&) = delete;
  Creation& operator=(const Creation&) = delete;

  // Set before make_record: the mode create_init resolved, kept for exec, update and delete.
  void set_nesting(std::optional<NestingState> nesting) { record_.nesting = std::move(nesting); }
  void set_added_device_rules(std::vector<spec::DeviceRule> rules) {
    if (!rules.empty()) record_.added_device_rules = std::move(rules);
  }

  // The record goes first, before any resource: a create killed from here on leaves a
  // container that `state` reports and `delete -f` cleans up (cgroup or unit by its path,
  // the init once its pid is added by spawn()).
  Result<void> make_record(const std::string& state_root) {
    auto dir = ContainerDir::create(state_root, options_.id);
    if (!dir) return forward(dir);
    dir_.emplace(std::move(*dir));
    remove_dir_ = Undo([this] { (void)dir_->remove(); });
    record_.id = options_.id;
    record_.bundle = bundle_.dir;
    record_.rootfs = bundle_.rootfs;
    record_.created = log::rfc3339_now();
    record_.cgroup_path = placed_.path;
    record_.systemd_unit = placed_.systemd_unit;
    record_.annotations = spec_.annotations.value_or(spec::StringMap{});
    return dir_->write(record_);
  }

  // runc's exec fifo: init blocks opening it until `start`. 0622 whatever our umask: init
  // opens it for writing after switching to the container's user (or its user namespace's root).
  Result<void> make_exec_fifo() {
    const auto path = dir_->fifo_path();
    if (::mkfifo(path.c_str(), 0622) != 0 || ::chmod(path.c_str(), 0622) != 0) {
      return fail_errno("mkfifo " + path);
    }
    fifo_ = UniqueFd(::open(path.c_str(), O_PATH | O_CLOEXEC));
    if (!fifo_) return fail_errno("open " + path);
    return {};
  }

  Result<void> check_existing_cgroup() {
    if (record_.nesting) {
      if (auto ok = check_nesting_cgroup(*placed_.manager); !ok) return ok;
    }
    auto empty = check_cgroup_before_create(*placed_.manager);
    if (!empty) return forward(empty, placed_.shown());
    cgroup_was_empty_ = *empty;
    return {};
  }

  Result<void> make_cgroup() {
    const spec::Resources resources =
        spec_.linux && spec_.linux->resources ? *spec_.linux->resources : spec::Resources{};
    if (auto ok = placed_.manager->create(resources); !ok) return forward(ok, placed_.shown());
    destroy_cgroup_ = Undo([this] {
      // A cgroup that already held processes (warned about) is not ours to empty.
      if (cgroup_was_empty_) (void)placed_.manager->kill_all();  // what the init forked
      (void)placed_.manager->destroy();
    });
    return {};
  }

  // A nesting container on pure v2 gets its leaf L/init (3.4), made once init is in L (a
  // systemd scope's directory exists only after attach) and before delegate (which chowns it).
  // Init moves there itself, through the fd spawn sends it (kCgroupLeaf). destroy() removes it
  // with L; systemd removes a stopped scope's delegated subtree.
  Result<void> make_leaf() {
    if (!record_.nesting) return {};
    const auto leaf = nesting_leaf_dir(*placed_.manager);
    if (leaf.empty()) return {};
    if (::mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) {
      return fail_errno(placed_.shown() + ": mkdir " + leaf);
    }
    leaf_procs_ = UniqueFd(::open((leaf + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
    if (!leaf_procs_) return fail_errno(placed_.shown() + ": open " + leaf + "/cgroup.procs");
    plan_->cgroup_leaf_fd = leaf_procs_.get();
    return {};
  }

  Result<void> build_plan(int console_fd) {
    os::PlanOptions plan_options;
    plan_options.bundle = bundle_.dir;
    plan_options.no_pivot = options_.no_pivot;
    plan_options.cgroup = cgroup_mount_sources();
    auto plan = os::build_init_plan(spec_, bundle_.rootfs, plan_options);
    if (!plan) return forward(plan);
    for (const auto& w : plan->warnings) log::warn(w);
    plan->exec_fifo_fd = fifo_.get();
    plan->console_fd = console_fd;
    plan->preserve_fds = options_.preserve_fds;
    plan->stdio_fds[0] = options_.io.stdin_fd;
    plan->stdio_fds[1] = options_.io.stdout_fd;
    plan->stdio_fds[2] = options_.io.stderr_fd;
    if (!options_.no_new_keyring) plan->session_keyring = "_ses." + options_.id;
    if (spec_.hooks) {
      auto ok = os::set_hooks(
          *plan, *spec_.hooks,
          hook_state(options_.id, Status::creating, os::kStatePidMarker, bundle_.dir, spec_),
          hook_state(options_.id, Status::created, os::kStatePidMarker, bundle_.dir, spec_));
      if (!ok) return forward(ok);
    }
    plan_.emplace(std::move(*plan));
    return {};
  }

  // What a "cgroup" mount shows: the container's own directories. A systemd scope's
  // directories appear only when the unit starts (at attach, before init mounts anything).
  os::CgroupMountSources cgroup_mount_sources() const {
    os::CgroupMountSources out;
    const auto& cg = *placed_.manager;
    const auto usable = [&](const std::string& dir) {
      return !dir.empty() && (placed_.systemd_unit || is_directory(dir));
    };
    if (unified_cgroup_host()) {
      // The v2 manager answers every controller name with its one directory.
      out.v2 = true;
      out.v2_dir = cg.path_of("");
      return out;
    }
    const auto bind_hierarchy = [&](const char* dir_name, const char* hierarchy) {
      const auto host = cg.path_of(hierarchy);
      if (usable(host)) out.v1.emplace_back(dir_name, host);
    };
    for (const char* h : kV1Hierarchies) bind_hierarchy(h, h);
    // The named hierarchy init is placed in too; runc shows it as /sys/fs/cgroup/systemd
    // (systemd in a container looks for its cgroup there).
    bind_hierarchy("systemd", "name=systemd");
    if (const auto unified = cg.path_of(""); usable(unified)) out.unified = unified;
    return out;
  }

  // A userns nesting container's cgroup goes to its mapped root before init goes on (kGo):
  // here, because a systemd scope's directories exist only once attach started the unit.
  Result<void> delegate_cgroup() {
    if (!record_.nesting || record_.nesting->variant != "userns") return {};
    const auto& n = *record_.nesting;
    if (auto ok = placed_.manager->delegate(n.owner_uid, n.owner_gid); !ok) {
      return forward(ok, placed_.shown() + ": delegate to " + std::to_string(n.owner_uid) + ":" +
                             std::to_string(n.owner_gid));
    }
    return {};
  }

  Result<void> spawn() {
    UniqueFd cgroup_dir = open_cgroup2_dir(*placed_.manager);
    plan_->cgroup_fd = cgroup_dir.get();
    const auto joins = open_self_joins(*placed_.manager, *plan_);  // init moves itself (v1)
    // Before init goes on (it waits for kGo meanwhile, and exits if we die): into its cgroup.
    // A create killed after this leaves an init that delete -f finds by its cgroup, which the
    // record names already.
    auto attach = [this, self_joined = !joins.empty()](pid_t pid) -> Result<void> {
      auto attached = self_joined ? placed_.manager->attach_rest(pid, plan_->cloned_into_cgroup)
                                  : placed_.manager->attach(pid);
      if (!attached) return forward(attached, placed_.shown());
      if (auto ok = make_leaf(); !ok) return ok;
      return delegate_cgroup();
    };
    // Its pid and start time into the record while init mounts its rootfs: the record's two
    // files (rename over each, ~0.2 ms on this host's ext4 /run) cost no time of the start.
    auto record = [this](pid_t pid) -> Result<void> {
      record_.pid = pid;
      record_.pid_start = process_start_time(pid).value_or(0);
      return dir_->write(record_);
    };
    // prestart then createRuntime, in our namespaces, once init's mounts are done.
    auto creation_hooks = [this](pid_t pid) -> Result<void> {
      const auto state = hook_state(options_.id, Status::creating, pid, bundle_.dir, spec_);
      if (auto ok = run_hooks("prestart", hooks_of(spec_, &spec::Hooks::prestart), state); !ok)
        return ok;
      return run_hooks("createRuntime", hooks_of(spec_, &spec::Hooks::createRuntime), state);
    };
    auto init = os::spawn_init(*plan_, attach, creation_hooks, record);
    if (!init) return forward(init);
    init_.emplace(std::move(*init));
    // The init is in the leaf now (it moved before kReady): L holds no process and may hand
    // its controllers to the cgroups an inner runtime makes.
    if (leaf_procs_) enable_nesting_controllers(*placed_.manager);
    leaf_procs_.reset();
    plan_->cgroup_leaf_fd = -1;
    if (init_->cloned_into_cgroup) {
      log::debug("init " + std::to_string(init_->pid) + " cloned into cgroup " +
                 placed_.manager->path_of(""));
    }
    kill_init_ = Undo([this] {
      os::sys::pidfd_send_signal(init_->pidfd.get(), SIGKILL);
      siginfo_t info{};
      ::waitid(P_PIDFD, static_cast<id_t>(init_->pidfd.get()), &info, WEXITED);
    });
    return {};
  }

  // What needs the init's pid: the seccomp agent, the caller's pid file.
  Result<void> hand_over() {
    const auto state = oci_state(options_.id, Status::creating, init_->pid, bundle_.dir, spec_);
    if (auto ok = hand_over_listener(init_->seccomp_listener, spec_, state, init_->pid); !ok)
      return ok;
    init_->seccomp_listener.reset();
    if (!options_.pid_file.empty()) return write_pid_file(options_.pid_file, init_->pid);
    return {};
  }

  // start_at_once: init runs its program already (it had no exec fifo to wait on).
  Result<void> run_poststart_hooks() {
    if (!spec_.hooks) return {};
    const auto state = hook_state(options_.id, Status::running, init_->pid, bundle_.dir, spec_);
    return run_hooks("poststart", hooks_of(spec_, &spec::Hooks::poststart), state);
  }

  // Keeps everything; the caller owns the init from here.
  os::SpawnedInit commit() {
    kill_init_.commit();
    destroy_cgroup_.commit();
    remove_dir_.commit();
    return std::move(*init_);
  }

 private:
  const CreateOptions& options_;
  const Bundle& bundle_;
  const spec::Spec& spec_;
  PlacedCgroup placed_;
  StoredState record_;
  std::optional<ContainerDir> dir_;
  Undo remove_dir_;
  UniqueFd fifo_;
  bool cgroup_was_empty_ = true;  // check_existing_cgroup's finding
  Undo destroy_cgroup_;
  UniqueFd leaf_procs_;
  std::optional<os::InitPlan> plan_;
  std::optional<os::SpawnedInit> init_;
  Undo kill_init_;
};

}  // namespace

Result<void> NativeBackend::create(const CreateOptions& options) {
  auto created = create_process(options);
  if (!created) return forward(created);
  return {};
}

Result<ProcessHandle> NativeBackend::create_process(const CreateOptions& options) {
  UniqueFd console_ours, console_theirs;
  if (auto ok = validate_container_id(options.id); !ok) return forward(ok);
  auto bundle = load_bundle(options.bundle);
  if (!bundle) return forward(bundle);
  CreatedSpec loaded{
      options.id, bundle->dir,
      bundle->spec.hooks ? std::make_shared<const spec::Spec>(bundle->spec) : nullptr};
  const auto config_rules = device_rules(bundle->spec);
  // CDI devices the cdi.k8s.io/ annotations ask for (docs/devices.md): resolved and applied to
  // the spec before anything is made, so an unknown device leaves nothing behind. Neither the
  // bundle nor the record keeps the edited spec, only the device rules create added (for
  // update); exec'd processes get the caller's process spec, as with runc.
  const auto unsupported_before = unsupported_cdi_edits(bundle->spec);
  if (auto applied = cdi::inject_annotated_devices(bundle->spec, options_.cdi_spec_dirs);
      !applied) {
    return forward(applied, "create " + options.id);
  } else if (!applied->empty()) {
    std::string names;
    for (const auto& n : *applied) names += (names.empty() ? "" : ", ") + n;
    // What the native backend does not carry out (hippo features: intelRdt and netDevices
    // disabled) is refused rather than a container without it.
    if (unsupported_cdi_edits(bundle->spec) != unsupported_before) {
      return fail(ErrorKind::unimplemented,
                  "create " + options.id + ": CDI devices " + names +
                      ": intelRdt and netDevices edits are not supported by hippo");
    }
    log::debug("create " + options.id + ": CDI devices " + names);
  }
  if (options.receive_pty && bundle->spec.process &&
      bundle->spec.process->terminal.value_or(false)) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      return fail_errno("socketpair for the console");
    }
    console_ours.reset(pair[0]);
    console_theirs.reset(pair[1]);
  }
  auto init =
      create_init(options, *bundle, console_theirs ? console_theirs.get() : -1, config_rules);
  if (!init) return forward(init);
  created_ = std::move(loaded);
  ProcessHandle handle{init->pid, std::move(init->pidfd), UniqueFd(), init->started};
  if (console_ours) {
    console_theirs.reset();
    auto received = os::receive_fd(console_ours.get());
    if (!received) return forward(received, "create " + options.id + ": pty");
    handle.pty_master = std::move(*received);
  }
  return handle;
}

Result<NativeBackend::CreatedInit> NativeBackend::create_init(
    const CreateOptions& options, const Bundle& bundle, int console_fd,
    const std::vector<spec::DeviceRule>& config_rules) {
  const auto& spec = bundle.spec;
  if (!spec.process) {
    return fail(ErrorKind::invalid_argument,
                "config.json: process: required to create a container");
  }
  // Before anything is made: a refused nesting container leaves nothing behind.
  auto nesting = resolve_nesting(spec, options_.nesting, {.cgroup_v1 = !unified_cgroup_host()});
  if (!nesting) return forward(nesting);
  std::optional<Bundle> nested;
  if (*nesting) {
    nested.emplace(bundle);
    nested->spec = apply_nesting(std::move(nested->spec), **nesting, os::kernel_last_cap());
  }
  auto console = create_console(options, spec.process->terminal.value_or(false), console_fd);
  if (!console) return forward(console);
  auto placed =
      cgroup_for(spec, options.id, options.systemd_cgroup ? cgroups::Driver::systemd : driver_,
                 options_.systemd_slice);
  if (!placed) return forward(placed);

  Creation c(options, nested ? *nested : bundle, std::move(*placed));
  c.set_nesting(std::move(*nesting));
  c.set_added_device_rules(rules_added(config_rules, device_rules(nested ? nested->spec : spec)));
  if (auto ok = c.make_record(options_.state_root); !ok) return forward(ok);
  // From here the container exists: errors say which one and what step failed.
  const std::string ctx = "create " + options.id;
  // After the id is taken (a duplicate is refused first, as in runc), before the cgroup is
  // made: a refusal removes the record and leaves a cgroup that was there as it was.
  if (auto ok = c.check_existing_cgroup(); !ok) return forward(ok, ctx);
  // Without the exec fifo (`run` in the foreground) init goes on to its program once ready:
  // no `start` to wait for. Not with a terminal (the caller sizes the pty before the program
  // starts) nor with startContainer hooks (their failure is start's error, through the fifo).
  const auto& run_spec = nested ? nested->spec : spec;
  const bool at_once = options.start_at_once && !run_spec.process->terminal.value_or(false) &&
                       (!run_spec.hooks || !run_spec.hooks->startContainer ||
                        run_spec.hooks->startContainer->empty());
  if (!at_once) {
    if (auto ok = c.make_exec_fifo(); !ok) return forward(ok, ctx);
  }
  if (auto ok = c.make_cgroup(); !ok) return forward(ok, ctx);
  if (auto ok = c.build_plan(console->fd); !ok) return forward(ok);  // config.json's own errors
  if (auto ok = c.spawn(); !ok) return forward(ok, ctx);
  if (auto ok = c.hand_over(); !ok) return forward(ok, ctx);
  // The runtime-spec: a failed poststart hook stops the container (as start does).
  if (at_once) {
    if (auto ok = c.run_poststart_hooks(); !ok) return forward(ok, "start " + options.id);
  }
  auto init = c.commit();
  return CreatedInit{init.pid, std::move(init.pidfd), at_once};
}

}  // namespace hippo::runtime::native
