// Node mode's adoption (docs/containerd.md, "Adoption after the daemon's death"): the
// lifecycle layer's part of the record a daemon leaves (shim/snapshot.hpp), and a successor
// taking the containers over from it.

#include <sys/wait.h>
#include <unistd.h>

#include "base/logging.hpp"
#include "shim/lifecycle.hpp"

namespace hippo::shim {
namespace {

// What waitid would have said of an exit known only by its status (code, or 128 + signal).
siginfo_t info_of_exit_status(uint32_t status) {
  siginfo_t info{};
  const bool killed = status > 128 && status < 128 + 65;
  info.si_code = killed ? CLD_KILLED : CLD_EXITED;
  info.si_status = static_cast<int>(killed ? status - 128 : status);
  return info;
}

siginfo_t info_of_wait_status(int wait_status) {
  siginfo_t info{};
  if (WIFSIGNALED(wait_status)) {
    info.si_code = CLD_KILLED;
    info.si_status = WTERMSIG(wait_status);
  } else {
    info.si_code = CLD_EXITED;
    info.si_status = WEXITSTATUS(wait_status);
  }
  return info;
}

// containerd's own word for an exit nobody saw (its dead-shim cleanup reports the same).
constexpr uint32_t kUnknownExit = 255;

// Into `r` in place: its strings and vectors keep their memory (the recorder reads every
// container into one at each idle spell).
void record_into(const Process& p, SnapshotProcess& r) {
  r.exec_id = p.exec_id;
  r.state = p.state;
  r.pid = p.pid;
  r.reaped = p.reaped.has_value();
  r.exit_status = p.reaped ? exit_code(*p.reaped) : p.exit_status;
  r.exited_at_ns = record_time(p.exited_at);
  r.uris = p.uris;
  r.pidfd = p.pidfd.get();
  r.pty = p.pty.get();
  r.stdin_keepalive = p.stdio.stdin_keepalive.get();
  r.stdout_keepalive = p.stdio.stdout_keepalive.get();
  r.stderr_keepalive = p.stdio.stderr_keepalive.get();
  r.output_in = p.terminal_output ? p.terminal_output->in_fd() : -1;
  r.output_out = p.terminal_output ? p.terminal_output->out_fd() : -1;
  r.input_in = p.terminal_input ? p.terminal_input->in_fd() : -1;
  r.input_out = p.terminal_input ? p.terminal_input->out_fd() : -1;
  r.waiters.clear();
  for (const auto& w : p.waiters) r.waiters.push_back({w.connection, w.stream});
}

}  // namespace

void Lifecycle::snapshot_each(SnapshotContainer& r,
                              const std::function<void(SnapshotContainer&)>& each) const {
  for (const auto& [id, c] : containers_) {
    r.id = c->id;
    r.bundle = c->bundle;
    r.rootfs_mounted = c->rootfs_mounted;
    r.kill_all_on_exit = c->kill_all_on_exit;
    r.init_exit_deferred = c->init_exit_deferred;
    r.oom_fd = c->oom ? c->oom->fd() : -1;
    record_into(c->init, r.init);
    size_t n = 0;
    for (const auto& [eid, e] : c->execs) {
      // A created exec's process spec is not recorded: containerd's Start of it finds nothing.
      if (e->state == ProcessState::kCreated) continue;
      if (n == r.execs.size()) r.execs.emplace_back();
      record_into(*e, r.execs[n++]);
    }
    r.execs.resize(n);
    each(r);
  }
}

void Lifecycle::adopt(const std::vector<SnapshotContainer>& containers,
                      const AdoptedWaiter& waiter) {
  for (const auto& r : containers) {
    auto c = std::make_unique<Container>();
    c->id = r.id;
    c->bundle = r.bundle;
    c->rootfs_mounted = r.rootfs_mounted;
    c->kill_all_on_exit = r.kill_all_on_exit;
    c->init_exit_deferred = r.init_exit_deferred;
    auto choice = runtime::load_backend_choice(c->bundle, default_choice_);
    if (!choice) log::warn("adopt container " + c->id + ": " + choice.error().message);
    c->backend = &backend_for(choice ? *choice : default_choice_);
    // The OOM watch is opened anew (closing the old eventfd ends its registration).
    if (r.oom_fd >= 0) ::close(r.oom_fd);
    if (auto watcher = runtime::OomWatch::open(*c->backend, c->id))
      c->oom.emplace(std::move(*watcher));
    Container& ref = *c;
    containers_[ref.id] = std::move(c);
    ref.init.container_id = ref.id;
    adopt_process(ref, ref.init, r.init, waiter);
    for (const auto& e : r.execs) {
      auto p = std::make_unique<Process>();
      p->container_id = ref.id;
      Process& exec = *p;
      ref.execs[e.exec_id] = std::move(p);
      adopt_process(ref, exec, e, waiter);
    }
    watch_oom(ref);
    log::info("adopted container " + ref.id + " (" + std::to_string(r.execs.size()) + " execs)");
  }
}

void Lifecycle::adopt_process(Container& c, Process& p, const SnapshotProcess& r,
                              const AdoptedWaiter& waiter) {
  p.exec_id = r.exec_id;
  p.state = r.state;
  p.pid = r.pid;
  p.exit_status = r.exit_status;
  p.exited_at = record_time(r.exited_at_ns);
  p.uris = r.uris;
  p.adopted = true;
  p.pidfd = os::UniqueFd(r.pidfd);
  p.pty = os::UniqueFd(r.pty);
  p.stdio.stdin_keepalive = os::UniqueFd(r.stdin_keepalive);
  p.stdio.stdout_keepalive = os::UniqueFd(r.stdout_keepalive);
  p.stdio.stderr_keepalive = os::UniqueFd(r.stderr_keepalive);
  for (const auto& w : r.waiters) {
    if (auto ours = waiter(w)) p.waiters.push_back(std::move(*ours));
  }
  // A relay whose fds did not both survive is not restarted (the other closes with its UniqueFd).
  const auto relay = [this, &p](int in, int out, std::unique_ptr<Relay>& slot) {
    auto from = os::UniqueFd(in), to = os::UniqueFd(out);
    if (!from || !to) return;
    auto started = Relay::start(loop_, std::move(from), std::move(to));
    if (started) {
      slot = std::move(*started);
    } else {
      log::warn("adopt " + p.name() + ": terminal: " + started.error().message);
    }
  };
  relay(r.output_in, r.output_out, p.terminal_output);
  relay(r.input_in, r.input_out, p.terminal_input);
  if (p.state == ProcessState::kStopped) return;  // its exit went out before the death
  const std::string cid = c.id, eid = p.exec_id;
  if (r.reaped || !p.pidfd) {
    // Reaped by the dead daemon: with its status, or, if it died before recording it, with
    // containerd's status for an exit nobody saw. Reported once the loop runs.
    if (!r.reaped) log::warn("adopt " + p.name() + ": its exit status was lost with the daemon");
    const siginfo_t info = info_of_exit_status(r.reaped ? r.exit_status : kUnknownExit);
    p.pidfd.reset();
    loop_.after(std::chrono::milliseconds(0), [this, cid, eid, info] {
      auto found = process(cid, eid);
      if (found && found->second->state != ProcessState::kStopped)
        reaped(*found->first, *found->second, info);
    });
    return;
  }
  (void)loop_.watch(p.pidfd.get(), EPOLLIN, [this, cid, eid](uint32_t) { on_exit(cid, eid); });
}

bool Lifecycle::forget(std::string_view id) {
  auto it = containers_.find(id);
  if (it == containers_.end()) return false;
  stop_watching(*it->second);
  log::info("container " + it->second->id + " forgotten: shim delete removed it");
  containers_.erase(it);
  return true;
}

void Lifecycle::keeper_exited(pid_t pid, int wait_status) {
  for (auto& [id, c] : containers_) {
    Process* found = c->init.adopted && c->init.pid == pid && c->init.pidfd ? &c->init : nullptr;
    for (auto& [eid, e] : c->execs) {
      if (!found && e->adopted && e->pid == pid && e->pidfd) found = e.get();
    }
    if (found) return reaped(*c, *found, info_of_wait_status(wait_status));
  }
}

}  // namespace hippo::shim
