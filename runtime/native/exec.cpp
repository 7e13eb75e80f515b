// The native backend's exec: a process in a running container, joined to init's namespaces
// through its pidfd, placed in its cgroup, our child (CLONE_PARENT from the helper).

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "base/file_io.hpp"
#include "base/logging.hpp"
#include "base/syscalls.hpp"
#include "base/undo.hpp"
#include "oci-spec/config.hpp"
#include "runtime/linux/console.hpp"
#include "runtime/linux/init_plan.hpp"
#include "runtime/linux/spawn.hpp"
#include "runtime/native/cgroup_placement.hpp"
#include "runtime/native/native_backend.hpp"
#include "runtime/native/nesting_spec.hpp"
#include "runtime/native/oci_state.hpp"

namespace hippo::runtime::native {
namespace {

using os::UniqueFd;
using spec::Status;

// Where the exec'd process's pty master goes: the caller's console socket, or back to us over
// a socketpair (`ours`) when the caller relays it itself.
struct ExecConsole {
  UniqueFd ours, theirs;
};

Result<ExecConsole> exec_console(const ExecOptions& o, bool terminal) {
  ExecConsole out;
  if (terminal && !o.receive_pty && o.console_socket.empty()) {
    return fail(ErrorKind::invalid_argument,
                "cannot allocate tty if hippo will detach without setting console socket");
  }
  if (!terminal && !o.console_socket.empty()) {
    return fail(ErrorKind::invalid_argument,
                "cannot use console socket if hippo will not detach or allocate tty");
  }
  if (!terminal) return out;
  if (!o.console_socket.empty()) {
    auto connected = os::connect_console_socket(o.console_socket);
    if (!connected) return forward(connected);
    out.theirs = std::move(*connected);
    return out;
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return fail_errno("socketpair for the console");
  }
  out.ours.reset(pair[0]);
  out.theirs.reset(pair[1]);
  return out;
}

Result<void> check_exec_status(const Opened& c, bool ignore_paused) {
  if (c.status == Status::stopped) {
    return fail(ErrorKind::failed_precondition, "cannot exec in a stopped container");
  }
  if (c.status == Status::paused && !ignore_paused) {
    return fail(ErrorKind::failed_precondition,
                "cannot exec in a paused container (use --ignore-paused to override)");
  }
  return {};
}

}  // namespace

Result<ProcessHandle> NativeBackend::spawn_exec(const ExecOptions& o) {
  auto c = open(o.id);
  if (!c) return forward(c);
  if (auto ok = check_exec_status(*c, o.ignore_paused); !ok) return forward(ok);
  auto process = exec_process_spec(o, c->state.bundle);
  if (!process) return forward(process);
  auto console = exec_console(o, process->terminal.value_or(false));
  if (!console) return forward(console);
  auto container_spec = spec::load(c->state.bundle + "/config.json");
  if (!container_spec) return forward(container_spec);
  auto seccomp = container_spec->linux ? container_spec->linux->seccomp : std::nullopt;
  // A nesting container's exec'd processes get what its init got (the record says how it was
  // created: config.yaml may have changed since).
  if (const auto& nesting = c->state.nesting) {
    nest_capabilities(*process, *nesting, os::kernel_last_cap());
    if (seccomp) nest_seccomp(*seccomp, *nesting);
  }
  auto plan = os::build_exec_plan(*process, c->state.pid, seccomp);
  if (!plan) return forward(plan);
  for (const auto& w : plan->warnings) log::warn(w);
  plan->preserve_fds = o.preserve_fds;
  plan->stdio_fds[0] = o.io.stdin_fd;
  plan->stdio_fds[1] = o.io.stdout_fd;
  plan->stdio_fds[2] = o.io.stderr_fd;
  plan->console_fd = console->theirs ? console->theirs.get() : -1;
  // Hold init's pidfd across the spawn: its pid (and the /proc/<pid>/ns paths the plan
  // names) cannot be reused meanwhile.
  UniqueFd init_pidfd(os::sys::pidfd_open(c->state.pid));
  if (!init_pidfd || !init_alive(c->state)) {
    return fail(ErrorKind::failed_precondition, "cannot exec in a stopped container");
  }
  // A nesting container's exec'd processes join its init in the leaf (3.4), unless --cgroup
  // names another place; limits, stats and freeze stay on L.
  auto sub_cgroups = o.sub_cgroups;
  if (c->state.nesting && sub_cgroups.empty()) {
    if (const auto leaf = nesting_leaf_dir(*c->cgroup); !leaf.empty() && is_directory(leaf)) {
      sub_cgroups[""] = kNestingLeaf;
    }
  }
  auto placement = exec_placement(*c->cgroup, sub_cgroups);
  if (!placement) return forward(placement);
  UniqueFd cgroup_dir;
  if (!placement->clone_into.empty()) {
    cgroup_dir.reset(::open(placement->clone_into.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  plan->cgroup_fd = cgroup_dir.get();
  // The process moves itself into the container's v1 cgroups (not into --cgroup's).
  std::vector<UniqueFd> joins;
  if (placement->container && placement->sub_dirs.empty())
    joins = open_self_joins(*c->cgroup, *plan);
  // Once the process is in its cgroup the container need not be held: in a frozen one (exec
  // --ignore-paused) it stops there until `resume`, which must be able to take the lock.
  auto place = [&](pid_t pid) -> Result<void> {
    auto joined = joins.empty() ? join_exec_cgroups(*c->cgroup, *placement, pid)
                                : c->cgroup->attach_rest(pid, plan->cloned_into_cgroup);
    if (!joined) return joined;
    c->dir.unlock();
    return {};
  };
  auto child = os::spawn_init(*plan, place);
  if (!child) return forward(child);
  // A failure from here on ends the process, as runc's does: the caller gets an error, not
  // a process it was not told of.
  Undo kill_child([&child] {
    os::sys::pidfd_send_signal(child->pidfd.get(), SIGKILL);
    siginfo_t info{};
    ::waitid(P_PIDFD, static_cast<id_t>(child->pidfd.get()), &info, WEXITED);
  });
  console->theirs.reset();
  const auto state = oci_state(o.id, c->status, c->state.pid, c->state.bundle, *container_spec);
  if (auto ok = hand_over_listener(child->seccomp_listener, *container_spec, state, child->pid);
      !ok) {
    return forward(ok, "exec in " + o.id);
  }
  child->seccomp_listener.reset();
  if (!o.pid_file.empty()) {
    if (auto ok = write_pid_file(o.pid_file, child->pid); !ok)
      return forward(ok, "exec in " + o.id);
  }
  UniqueFd pty_master;
  if (console->ours) {
    auto received = os::receive_fd(console->ours.get());
    if (!received) return forward(received, "exec in " + o.id + ": pty");
    pty_master = std::move(*received);
  }
  kill_child.commit();
  ProcessHandle handle{child->pid, std::move(child->pidfd), std::move(pty_master)};
  return handle;
}

}  // namespace hippo::runtime::native
