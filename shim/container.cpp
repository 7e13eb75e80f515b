#include "shim/container.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/logging.hpp"
#include "base/syscalls.hpp"
#include "shim/rootfs.hpp"

namespace hippo::shim {
namespace {

// A backend error with the step it failed in; `fallback` when the backend gave no kind (a
// refusal of runc's whose meaning only the step knows).
template <class T>
std::unexpected<Error> step_failed(const Result<T>& r, const std::string& step,
                                   ErrorKind fallback = ErrorKind::unknown) {
  Error e = r.error();
  if (e.kind() == ErrorKind::unknown) e.tag = fallback;
  e.context(step);
  return std::unexpected(std::move(e));
}

bool live(const Process& p) {
  return p.state == ProcessState::kRunning || p.state == ProcessState::kPaused;
}

}  // namespace

Result<Process*> Container::process(std::string_view exec_id) {
  if (exec_id.empty()) return &init;
  auto it = execs.find(exec_id);
  if (it == execs.end()) {
    return fail(ErrorKind::not_found,
                "exec " + std::string(exec_id) + " in container " + id + ": not found");
  }
  return it->second.get();
}

Result<void> Container::start() {
  if (auto next = transition(init.state, Verb::kStart); !next) return forward(next, init.name());
  if (auto ok = backend->start(id); !ok) {
    return step_failed(ok, "start " + init.name(), ErrorKind::failed_precondition);
  }
  return init.apply(Verb::kStart);
}

Result<Process*> Container::add_exec(const std::string& exec_id, spec::Process spec,
                                     StdioUris uris) {
  auto p = std::make_unique<Process>();
  p->container_id = id;
  p->exec_id = exec_id;
  if (execs.contains(exec_id))
    return fail(ErrorKind::already_exists, p->name() + ": already exists");
  if (auto ok = transition(init.state, Verb::kAddExec); !ok) return forward(ok, p->name());
  spec.terminal = uris.terminal;
  p->uris = std::move(uris);
  p->exec_spec = std::move(spec);
  auto stdio = open_stdio(p->uris);
  if (!stdio) return forward(stdio, p->name() + ": stdio");
  p->stdio = std::move(*stdio);
  Process* raw = p.get();
  execs.emplace(exec_id, std::move(p));
  return raw;
}

Result<void> Container::start_exec(Process& exec) {
  if (auto next = transition(exec.state, Verb::kStart); !next) return forward(next, exec.name());
  if (auto ok = transition(init.state, Verb::kStartExec); !ok) return forward(ok, exec.name());
  runtime::ExecOptions o;
  o.id = id;
  o.process = exec.exec_spec;
  o.io = {exec.stdio.process_stdin.get(), exec.stdio.process_stdout.get(),
          exec.stdio.process_stderr.get()};
  o.receive_pty = exec.uris.terminal;
  o.ignore_paused = false;
  auto handle = backend->spawn_exec(o);
  exec.stdio.close_process_copies();
  if (!handle) return step_failed(handle, "start " + exec.name(), ErrorKind::failed_precondition);
  exec.pid = handle->pid;
  exec.pidfd = std::move(handle->pidfd);
  exec.pty = std::move(handle->pty_master);
  exec.exec_spec.reset();
  return exec.apply(Verb::kStart);
}

Result<void> Container::pause() {
  if (auto next = transition(init.state, Verb::kPause); !next) return forward(next, init.name());
  if (auto ok = backend->pause(id); !ok) return step_failed(ok, "pause " + init.name());
  (void)init.apply(Verb::kPause);
  for (auto& [eid, p] : execs) {
    if (p->state == ProcessState::kRunning) (void)p->apply(Verb::kPause);
  }
  return {};
}

Result<void> Container::resume() {
  if (auto next = transition(init.state, Verb::kResume); !next) return forward(next, init.name());
  if (auto ok = backend->resume(id); !ok) return step_failed(ok, "resume " + init.name());
  (void)init.apply(Verb::kResume);
  for (auto& [eid, p] : execs) {
    if (p->state == ProcessState::kPaused) (void)p->apply(Verb::kResume);
  }
  return {};
}

Result<void> Container::kill(Process& p, int signal, bool all) {
  if (auto ok = transition(p.state, Verb::kKill); !ok || !p.pidfd) {
    return fail(ErrorKind::not_found, p.name() + ": process already finished: not found");
  }
  if (p.is_init() && all) {
    if (auto ok = backend->kill(id, signal, true); !ok) return step_failed(ok, "kill " + p.name());
    return {};
  }
  if (os::sys::pidfd_send_signal(p.pidfd.get(), signal) != 0) {
    const int err = errno;
    if (err == ESRCH)
      return fail(ErrorKind::not_found, p.name() + ": process already finished: not found");
    return fail_errno("kill " + p.name(), err);
  }
  return {};
}

bool Container::execs_live() const {
  return std::ranges::any_of(execs, [](const auto& e) { return live(*e.second); });
}

std::vector<Process*> Container::exited(Process& p, const siginfo_t& info) {
  const bool was_paused = p.state == ProcessState::kPaused;
  p.record_exit(info);
  if (auto ok = p.apply(Verb::kExited); !ok) log::warn(ok.error().message);
  if (!p.is_init()) {
    std::vector<Process*> out{&p};
    if (init_exit_deferred && !execs_live()) {
      init_exit_deferred = false;
      out.push_back(&init);
    }
    return out;
  }
  if (was_paused) {
    // A frozen cgroup's processes cannot act on the kill below: thaw them first, as runc's
    // shim does when a paused init exits.
    if (auto ok = backend->resume(id); !ok)
      log::warn("resume " + init.name() + " after its exit: " + ok.error().message);
    for (auto& [eid, e] : execs) {
      if (e->state == ProcessState::kPaused) (void)e->apply(Verb::kResume);
    }
  }
  // An init sharing its pid namespace leaves processes behind: they go with it, and their
  // exits go out before the init's.
  if (kill_all_on_exit) (void)backend->kill(id, SIGKILL, true);
  if (execs_live()) {
    init_exit_deferred = true;
    return {};
  }
  return {&init};
}

bool Container::exit_reported(const Process& p) const {
  if (p.state != ProcessState::kStopped) return false;
  return !(p.is_init() && init_exit_deferred);
}

Result<void> Container::remove_exec(Process& exec) {
  if (auto ok = exec.apply(Verb::kRemove); !ok) return ok;
  execs.erase(exec.exec_id);
  return {};
}

Result<void> Container::remove() {
  if (auto next = transition(init.state, Verb::kRemove); !next) return forward(next, init.name());
  if (init.pidfd) {
    // Created, never started: the init waits to be started; end it and reap it here.
    os::sys::pidfd_send_signal(init.pidfd.get(), SIGKILL);
    siginfo_t info{};
    ::waitid(P_PIDFD, static_cast<id_t>(init.pidfd.get()), &info, WEXITED);
    init.pidfd.reset();
  }
  if (auto ok = backend->remove(id, true); !ok)
    log::warn("delete " + id + ": " + ok.error().message);
  if (rootfs_mounted) {
    if (auto ok = unmount_all(bundle + "/rootfs"); !ok)
      log::warn("delete " + id + ": " + ok.error().message);
    rootfs_mounted = false;
  }
  return init.apply(Verb::kRemove);
}

}  // namespace hippo::shim
