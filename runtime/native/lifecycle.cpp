// The native backend's operations on an existing container: start, state, list, kill, delete,
// pause, resume, update, stats, pids; and make_native_backend.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>

#include "base/file_io.hpp"
#include "base/logging.hpp"
#include "base/syscalls.hpp"
#include "oci-spec/config.hpp"
#include "runtime/features.hpp"
#include "runtime/hooks.hpp"
#include "runtime/native/cgroup_placement.hpp"
#include "runtime/native/native_backend.hpp"
#include "runtime/native/nesting.hpp"
#include "runtime/native/oci_state.hpp"

namespace hippo::runtime::native {
namespace {

using os::UniqueFd;
using spec::Status;

std::string status_text(Status s) { return std::string(spec::to_string(s)); }

// `state` and `list`: what is known, with a warning line when something is wrong.
spec::RuntimeState reported_state(const Inspected& c) {
  if (!c.problem.empty()) log::warn(with_hint(c));
  StoredState st = c.state.value_or(StoredState{});
  st.id = c.dir.id();
  return to_runtime_state(st, c.status);
}

// Waits for init to open the exec fifo's other end and write "0" (it goes on to execve) or why
// it cannot (a startContainer hook). If init dies instead, its pidfd says so.
Result<void> wait_for_exec_fifo(const UniqueFd& fifo, const UniqueFd& pidfd,
                                const std::string& fifo_path) {
  for (;;) {
    pollfd fds[2] = {{fifo.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return fail_errno("wait for container init");
    }
    if (fds[0].revents & POLLIN) {
      char buf[1024];
      const ssize_t n = ::read(fifo.get(), buf, sizeof buf);
      if (n == 1 && buf[0] == '0') return {};
      if (n > 0) {
        ::unlink(fifo_path.c_str());
        return fail("container init: " + std::string(buf, static_cast<size_t>(n)));
      }
    }
    if (fds[1].revents & POLLIN) return fail("container init exited before it could start");
  }
}

// Opens the exec fifo for reading: init, blocked opening it for writing, writes one byte and
// goes on to execve. Then the poststart hooks (`config`: null without hooks or config.json).
Result<void> release_init(Opened& c, const spec::Spec* config) {
  const auto fifo_path = c.dir.fifo_path();
  // The pidfd first: once the fifo is open, init may exec and exit at once.
  UniqueFd pidfd(os::sys::pidfd_open(c.state.pid));
  if (!pidfd || !init_alive(c.state)) {
    return fail(ErrorKind::failed_precondition, "cannot start a container that has stopped");
  }
  UniqueFd fifo(::open(fifo_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) return fail_errno("open " + fifo_path);
  if (auto ok = wait_for_exec_fifo(fifo, pidfd, fifo_path); !ok) return ok;
  ::unlink(fifo_path.c_str());
  if (config && config->hooks) {
    const auto state =
        hook_state(c.state.id, Status::running, c.state.pid, c.state.bundle, *config);
    if (auto ok = run_hooks("poststart", hooks_of(*config, &spec::Hooks::poststart), state); !ok) {
      // The runtime-spec: a failed poststart hook stops the container (runc kills it).
      os::sys::pidfd_send_signal(pidfd.get(), SIGKILL);
      return forward(ok, "start " + c.state.id);
    }
  }
  return {};
}

// poststop hooks run once a container that was created is gone; failures are only warned about.
void run_poststop_hooks(const std::string& id, const StoredState& st, const spec::Spec* config) {
  if (!config || !config->hooks) return;
  const auto state = hook_state(id, Status::stopped, 0, st.bundle, *config);
  if (auto ok = run_hooks("poststop", hooks_of(*config, &spec::Hooks::poststop), state); !ok) {
    log::warn("delete " + id + ": " + ok.error().message);
  }
}

}  // namespace

NativeBackend::NativeBackend(NativeOptions options)
    : options_(std::move(options)),
      // load_config has checked the value; an unchecked one falls back to auto.
      driver_(cgroups::parse_driver(options_.cgroup_driver).value_or(cgroups::Driver::automatic)) {}

std::shared_ptr<const spec::Spec> NativeBackend::hooks_spec(const StoredState& st) const {
  if (created_ && created_->id == st.id && created_->bundle == st.bundle)
    return created_->with_hooks;
  auto config = spec::load(st.bundle + "/config.json");
  if (!config || !config->hooks) return nullptr;
  return std::make_shared<const spec::Spec>(std::move(*config));
}

Result<Inspected> NativeBackend::inspect(const std::string& id, ContainerDir::Wait wait) {
  auto dir = ContainerDir::open(options_.state_root, id, wait);
  if (!dir) return forward(dir);
  return inspect_dir(std::move(*dir));
}

Result<Opened> NativeBackend::open(const std::string& id) {
  auto c = inspect(id, ContainerDir::Wait::yes);
  if (!c) return forward(c);
  if (!c->problem.empty()) return fail(ErrorKind::failed_precondition, with_hint(*c));
  return Opened{std::move(c->dir), std::move(*c->state), std::move(c->cgroup), c->status};
}

Result<void> NativeBackend::start(const std::string& id) {
  auto c = open(id);
  if (!c) return forward(c);
  if (c->status == Status::stopped) {
    return fail(ErrorKind::failed_precondition, "cannot start a container that has stopped");
  }
  if (c->status != Status::created) {
    return fail(ErrorKind::failed_precondition,
                "cannot start an already " + status_text(c->status) + " container");
  }
  return release_init(*c, hooks_spec(c->state).get());
}

Result<spec::RuntimeState> NativeBackend::state(const std::string& id) {
  auto c = inspect(id, ContainerDir::Wait::yes);
  if (!c) return forward(c);
  return reported_state(*c);
}

Result<std::vector<spec::RuntimeState>> NativeBackend::list() {
  std::vector<spec::RuntimeState> out;
  for (const auto& id : list_container_ids(options_.state_root)) {
    // Not waiting: a create in progress (or a hung hook) must not block the listing.
    auto c = inspect(id, ContainerDir::Wait::no);
    if (!c) {
      // As runc does for entries it cannot load: a line on stderr, and the rest are listed.
      if (c.error().code == kForeignEntry)
        log::warn(c.error().message + ": not listed");
      else if (c.error().code != ENOENT)
        log::warn("container \"" + id + "\": " + c.error().message);
      continue;  // ENOENT: removed meanwhile
    }
    out.push_back(reported_state(*c));
    out.back().owner = c->dir.owner();  // runc's list: the user owning the state directory
  }
  return out;
}

Result<void> NativeBackend::kill(const std::string& id, int signal, bool all) {
  auto c = open(id);
  if (!c) return forward(c);
  // --all reaches what is left in the cgroup even after the init died (as runc does): an
  // init that shared its pid namespace leaves processes the kernel does not end.
  if (all) {
    auto pids = c->cgroup->pids();
    if (!pids) return forward(pids, "kill " + id);
    for (pid_t pid : *pids) ::kill(pid, signal);
    // A paused container gets the signal when it thaws; SIGKILL must not wait for that.
    if (signal == SIGKILL && c->status == Status::paused) (void)c->cgroup->thaw();
    return {};
  }
  // containerd's shim reads "container not running" as a process already gone.
  if (c->status == Status::stopped)
    return fail(ErrorKind::failed_precondition, "container not running");
  UniqueFd pidfd(os::sys::pidfd_open(c->state.pid));
  // Re-check after opening the pidfd: the pid cannot be reused while we hold it.
  if (!pidfd || !init_alive(c->state))
    return fail(ErrorKind::failed_precondition, "container not running");
  if (os::sys::pidfd_send_signal(pidfd.get(), signal) != 0) {
    return fail_errno("signal container init " + std::to_string(c->state.pid));
  }
  return {};
}

Result<void> NativeBackend::remove(const std::string& id, bool force) {
  auto c = inspect(id, ContainerDir::Wait::yes);
  if (!c) {
    if (force && c.error().code == ENOENT) return {};
    return forward(c);
  }
  if (!c->problem.empty() && !force) {
    return fail(ErrorKind::failed_precondition,
                c->problem + ": kept; `hippo delete -f " + id + "` removes what it left");
  }
  if ((c->status == Status::running || c->status == Status::paused) && !force) {
    return fail(
        ErrorKind::failed_precondition,
        "cannot delete container \"" + id + "\" that is not stopped: " + status_text(c->status));
  }
  if (!c->problem.empty()) log::warn(c->problem + ": removing what is left");
  // An init that exited took the processes of its pid namespace with it: its cgroup is empty
  // then, and rmdir alone removes it (in every hierarchy, without listing or reading any).
  // Anything left in it (a shared pid namespace, an inner runtime's cgroups) makes rmdir
  // refuse, and the kill round and destroy below deal with it.
  const bool removed = c->status == Status::stopped && c->cgroup && c->cgroup->remove_if_empty();
  if (!removed) {
    if (auto ok = end_processes(*c, std::chrono::seconds(10)); !ok) return ok;
    if (c->cgroup) {
      if (auto ok = c->cgroup->destroy(); !ok) return forward(ok, "delete " + id);
    } else if (c->status == Status::corrupt) {
      log::warn("container \"" + id +
                "\": no readable record names its init or cgroup: if it had "
                "any, they are left");
    }
  }
  if (c->problem.empty() && c->state)
    run_poststop_hooks(id, *c->state, hooks_spec(*c->state).get());
  if (created_ && created_->id == id) created_.reset();  // the id may be created anew
  return c->dir.remove();
}

Result<void> NativeBackend::pause(const std::string& id) {
  auto c = open(id);
  if (!c) return forward(c);
  if (c->status != Status::running) {
    return fail(ErrorKind::failed_precondition,
                "container \"" + id + "\" is not running: " + status_text(c->status));
  }
  if (auto ok = c->cgroup->freeze(); !ok) return forward(ok, "pause " + id);
  return {};
}

Result<void> NativeBackend::resume(const std::string& id) {
  auto c = open(id);
  if (!c) return forward(c);
  if (c->status != Status::paused) {
    return fail(ErrorKind::failed_precondition,
                "container \"" + id + "\" is not paused: " + status_text(c->status));
  }
  if (auto ok = c->cgroup->thaw(); !ok) return forward(ok, "resume " + id);
  return {};
}

Result<void> NativeBackend::update(const std::string& id, const spec::Resources& resources) {
  auto c = open(id);
  if (!c) return forward(c);
  if (c->status == Status::stopped) {
    return fail(ErrorKind::failed_precondition,
                "container \"" + id + "\" is stopped: cannot update it");
  }
  if (c->state.nesting) {
    if (auto ok = check_nested_resources(resources, !unified_cgroup_host()); !ok) {
      return forward(ok, "update " + id);
    }
  }
  // What create let in beyond config.json (CDI devices, nesting devices) stays allowed: an
  // engine's update carries its own copy of the spec's rules, which lacks them.
  if (resources.devices && c->state.added_device_rules) {
    spec::Resources r = resources;
    r.devices->insert(r.devices->end(), c->state.added_device_rules->begin(),
                      c->state.added_device_rules->end());
    return c->cgroup->update(r);
  }
  return c->cgroup->update(resources);
}

Result<spec::Stats> NativeBackend::stats(const std::string& id) {
  auto c = open(id);
  if (!c) return forward(c);
  if (c->status == Status::stopped) {
    return fail(ErrorKind::failed_precondition, "container \"" + id + "\" is stopped");
  }
  return c->cgroup->stats();
}

Result<std::string> NativeBackend::memory_cgroup_dir(const std::string& id) {
  auto c = open(id);
  if (!c) return forward(c);
  auto dir = c->cgroup->path_of("memory");
  if (dir.empty())
    return fail(ErrorKind::not_found, "container \"" + id + "\" has no memory cgroup");
  // A v2 nesting container's own processes sit in its leaf: L's memory.events also counts the
  // kills of inner containers, which are not this container's OOMs (docs/nesting.md 4).
  if (c->state.nesting) {
    if (auto leaf = nesting_leaf_dir(*c->cgroup); !leaf.empty() && is_directory(leaf)) return leaf;
  }
  return dir;
}

Result<std::vector<pid_t>> NativeBackend::pids(const std::string& id) {
  auto c = open(id);
  if (!c) return forward(c);
  return c->cgroup->pids();
}

}  // namespace hippo::runtime::native

namespace hippo::runtime {

NativeOptions native_options(const Config& config, std::string state_root) {
  return {std::move(state_root), config.cgroup_driver, config.systemd_slice, nesting_config(config),
          config.cdi_spec_dirs};
}

std::unique_ptr<Backend> make_native_backend(const NativeOptions& options) {
  return std::make_unique<native::NativeBackend>(options);
}

}  // namespace hippo::runtime
