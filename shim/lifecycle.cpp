#include "shim/lifecycle.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file_io.hpp"
#include "base/logging.hpp"
#include "base/undo.hpp"
#include "runtime/bundle.hpp"

namespace hippo::shim {
namespace {

// How long the exit of a process with a terminal waits for a client that reads none of its
// last output (one that went away, or `ctr run -d -t` with nobody attached) before it is
// published anyway.
constexpr std::chrono::milliseconds kTerminalStall{5000};

// containerd closes its ends of a process's output FIFOs as it handles the exit (1.6's
// task.Delete closes before it waits for its copy; ctr 1.6 deletes an exec as soon as it
// exits): output it has not read by then is lost, and CRI logs "file already closed". So an
// exit goes out once the FIFOs are read dry and every client has reached EOF and closed its
// end (polled: nothing tells when a FIFO empties or loses a reader, and a writer watching for
// the readers' hangup would keep them from EOF). A client that makes no progress for
// kDrainStall in either step holds the exit back no longer (`ctr run -d` leaves nobody
// reading). A client reads and closes within a millisecond or so, and that wait is added to
// every exec and `ctr run --rm`: the first poll of each step, and the polls while nothing is
// left unread, come after 1 ms (for kDrainPollFastSpell without progress); the polls of a
// client still reading come every 5 ms, so that a slow one does not keep the loop busy.
constexpr std::chrono::milliseconds kDrainPollFast{1};
constexpr std::chrono::milliseconds kDrainPollFastSpell{4};
constexpr std::chrono::milliseconds kDrainPoll{5};
constexpr std::chrono::milliseconds kDrainStall{500};

// Whether `pid` is 1 in its innermost pid namespace (the last NSpid field): then the kernel
// ends every other process of that namespace when it exits. Unknown counts as "no".
bool is_pid_namespace_init(pid_t pid) {
  auto status = read_text_file("/proc/" + std::to_string(pid) + "/status");
  if (!status) return false;
  const auto at = status->find("\nNSpid:");
  if (at == std::string::npos) return false;
  const auto end = status->find('\n', at + 1);
  const auto line = std::string_view(*status).substr(at + 1, end - at - 1);
  const auto last = line.find_last_of(" \t");
  return last != std::string_view::npos && line.substr(last + 1) == "1";
}

// Backends are shared by the containers that chose the same one.
std::string choice_key(const runtime::BackendChoice& c) {
  if (c.kind == runtime::BackendChoice::Kind::native) {
    return "native\n" + c.native.state_root + "\n" + c.native.cgroup_driver + "\n" +
           c.native.systemd_slice;
  }
  return "runc\n" + c.runc.binary + "\n" + c.runc.root + "\n" +
         (c.runc.systemd_cgroup ? "systemd" : "");
}

}  // namespace

Lifecycle::Lifecycle(ttrpc::EventLoop& loop, LifecycleEvents& events,
                     runtime::BackendChoice default_choice, std::string ns, BackendFactory make)
    : loop_(loop),
      events_(events),
      default_choice_(std::move(default_choice)),
      ns_(std::move(ns)),
      make_(std::move(make)) {}

Lifecycle::~Lifecycle() {
  for (auto& [id, c] : containers_) stop_watching(*c);
}

runtime::Backend& Lifecycle::backend_for(const runtime::BackendChoice& choice) {
  auto& b = backends_[choice_key(choice)];
  if (!b) b = make_(choice);
  return *b;
}

Result<Container*> Lifecycle::container(std::string_view id) {
  auto it = containers_.find(id);
  if (it == containers_.end())
    return fail(ErrorKind::not_found, "container " + std::string(id) + " not found");
  return it->second.get();
}

Result<std::pair<Container*, Process*>> Lifecycle::process(std::string_view id,
                                                           std::string_view exec_id) {
  auto c = container(id);
  if (!c) return forward(c);
  auto p = (*c)->process(exec_id);
  if (!p) return forward(p);
  return std::pair{*c, *p};
}

Result<Container*> Lifecycle::create(CreateRequest r) {
  // Before the rootfs mount or any file: the id names <state_root>/<id> and the cgroup.
  if (auto ok = runtime::validate_container_id(r.id); !ok) {
    Error e = ok.error();
    e.tag = ErrorKind::invalid_argument;
    return std::unexpected(std::move(e));
  }
  if (containers_.contains(r.id))
    return fail(ErrorKind::already_exists, "container " + r.id + " already exists");
  auto c = std::make_unique<Container>();
  c->id = r.id;
  c->bundle = r.bundle;
  c->init.container_id = r.id;
  c->init.uris = std::move(r.uris);
  const std::string rootfs = c->bundle + "/rootfs";
  if (!r.rootfs.empty()) {
    if (auto ok = mount_rootfs(rootfs, r.rootfs); !ok)
      return forward(ok, "create " + c->init.name());
    c->rootfs_mounted = true;
  }
  Undo undo_mounts([&] {
    if (c->rootfs_mounted) (void)unmount_all(rootfs);
  });
  const auto choice = runtime::with_runc_overrides(default_choice_, r.runc, ns_);
  // `delete`, run by containerd without options, must reach the same backend.
  if (auto ok = runtime::save_backend_choice(c->bundle, choice); !ok)
    return forward(ok, "create " + c->init.name());
  c->backend = &backend_for(choice);
  auto stdio = open_stdio(c->init.uris);
  if (!stdio) return forward(stdio, "create " + c->init.name() + ": stdio");
  c->init.stdio = std::move(*stdio);

  runtime::CreateOptions o;
  o.id = c->id;
  o.bundle = c->bundle;
  o.no_pivot = r.no_pivot_root;
  o.no_new_keyring = r.no_new_keyring;
  // runc Options SystemdCgroup (what CRI sets for the systemd driver) chooses it for this
  // container; otherwise config.yaml's cgroup_driver decides.
  o.systemd_cgroup = r.runc.systemd_cgroup;
  o.io = {c->init.stdio.process_stdin.get(), c->init.stdio.process_stdout.get(),
          c->init.stdio.process_stderr.get()};
  o.receive_pty = c->init.uris.terminal;
  auto handle = c->backend->create_process(o);
  c->init.stdio.close_process_copies();
  if (!handle) return forward(handle, "create " + c->init.name());
  undo_mounts.commit();
  c->init.pid = handle->pid;
  c->kill_all_on_exit = !is_pid_namespace_init(handle->pid);
  c->init.pidfd = std::move(handle->pidfd);
  c->init.pty = std::move(handle->pty_master);
  if (auto watcher = runtime::OomWatch::open(*c->backend, c->id))
    c->oom.emplace(std::move(*watcher));
  Container& ref = *c;
  containers_[ref.id] = std::move(c);
  watch(ref, ref.init);
  watch_oom(ref);
  return &ref;
}

Result<void> Lifecycle::start(Container& c, Process& p) {
  if (p.is_init()) return c.start();
  if (auto ok = c.start_exec(p); !ok) return ok;
  watch(c, p);
  return {};
}

Result<Process*> Lifecycle::add_exec(Container& c, const std::string& exec_id, spec::Process spec,
                                     StdioUris uris) {
  uris.container_id = c.id;
  uris.ns = ns_;
  return c.add_exec(exec_id, std::move(spec), std::move(uris));
}

void Lifecycle::wait(Container& c, Process& p, Process::Waiter waiter) {
  if (c.exit_reported(p)) return waiter.done(p);
  p.waiters.push_back(std::move(waiter));  // a pending Wait is state, not a thread
}

void Lifecycle::forget_waiters(uint64_t connection) {
  const auto forget = [connection](Process& p) {
    std::erase_if(p.waiters, [connection](const auto& w) { return w.connection == connection; });
  };
  for (auto& [id, c] : containers_) {
    forget(c->init);
    for (auto& [eid, e] : c->execs) forget(*e);
  }
}

Result<Removed> Lifecycle::remove(Container& c, Process& p) {
  Removed r{p.pid, p.exit_status,
            p.state == ProcessState::kStopped ? p.exited_at : std::chrono::system_clock::now()};
  // Refused before anything is unwatched: a running process stays watched.
  if (auto next = transition(p.state, Verb::kRemove); !next) return forward(next, p.name());
  stop_watching(p);
  if (!p.is_init()) {
    if (auto ok = c.remove_exec(p); !ok) return forward(ok);
    return r;
  }
  if (auto ok = c.remove(); !ok) return forward(ok);
  if (c.oom) loop_.unwatch(c.oom->fd());
  containers_.erase(c.id);
  return r;
}

bool Lifecycle::owns(pid_t pid) const {
  for (const auto& [id, c] : containers_) {
    if (c->init.pidfd && c->init.pid == pid) return true;
    for (const auto& [eid, p] : c->execs) {
      if (p->pidfd && p->pid == pid) return true;
    }
  }
  return false;
}

void Lifecycle::watch(Container& c, Process& p) {
  (void)loop_.watch(p.pidfd.get(), EPOLLIN,
                    [this, cid = c.id, eid = p.exec_id](uint32_t) { on_exit(cid, eid); });
  if (p.pty) watch_terminal(p);
}

void Lifecycle::watch_terminal(Process& p) {
  // Each relay holds its own copy of the master: epoll watches an fd once, and the output
  // relay reads it while the input relay may wait to write it.
  const auto copy = [&p] { return os::UniqueFd(::fcntl(p.pty.get(), F_DUPFD_CLOEXEC, 3)); };
  auto output = Relay::start(loop_, copy(), std::move(p.stdio.terminal_out));
  if (!output)
    log::warn(p.name() + ": terminal output: " + output.error().message);
  else
    p.terminal_output = std::move(*output);
  if (p.stdio.terminal_in) {
    auto input = Relay::start(loop_, std::move(p.stdio.terminal_in), copy());
    if (!input)
      log::warn(p.name() + ": terminal input: " + input.error().message);
    else
      p.terminal_input = std::move(*input);
  }
}

void Lifecycle::stop_watching(Process& p) {
  if (p.pidfd) loop_.unwatch(p.pidfd.get());
  p.terminal_output.reset();
  p.terminal_input.reset();
}

void Lifecycle::stop_watching(Container& c) {
  stop_watching(c.init);
  for (auto& [eid, p] : c.execs) stop_watching(*p);
  if (c.oom) loop_.unwatch(c.oom->fd());
}

void Lifecycle::watch_oom(Container& c) {
  if (!c.oom) return;
  (void)loop_.watch(c.oom->fd(), EPOLLIN, [this, id = c.id](uint32_t) {
    if (auto cc = container(id)) drain_oom(**cc);
  });
}

void Lifecycle::drain_oom(Container& c) {
  if (!c.oom) return;
  pollfd pfd{c.oom->fd(), POLLIN, 0};
  if (::poll(&pfd, 1, 0) <= 0) return;
  auto events = c.oom->consume();
  if (!events || *events == 0) return;
  events_.oom(c);
}

void Lifecycle::on_exit(const std::string& container_id, const std::string& exec_id) {
  auto found = process(container_id, exec_id);
  if (!found) return;
  auto [c, p] = *found;
  if (!p->pidfd) return;
  siginfo_t info{};
  if (::waitid(P_PIDFD, static_cast<id_t>(p->pidfd.get()), &info, WEXITED | WNOHANG) != 0) {
    // A dead daemon's process is the keeper's child: the keeper's word on it (keeper_exited)
    // comes through its pipe.
    if (errno == ECHILD && p->adopted) loop_.unwatch(p->pidfd.get());
    return;
  }
  if (info.si_pid == 0) return;  // not exited yet (spurious wakeup)
  reaped(*c, *p, info);
}

void Lifecycle::reaped(Container& c, Process& p, const siginfo_t& info) {
  loop_.unwatch(p.pidfd.get());
  p.pidfd.reset();  // reaped: its pid may be reused, by an orphan the reaper must take
  p.reaped = info;
  p.terminal_input.reset();
  // An init sharing its pid namespace leaves processes that hold its output FIFOs: they go now,
  // so clients reach EOF (Container::exited kills them again, harmlessly).
  if (p.is_init() && c.kill_all_on_exit && p.state != ProcessState::kPaused)
    (void)c.backend->kill(c.id, SIGKILL, true);
  auto drain = [this, container_id = c.id, exec_id = p.exec_id, info] {
    await_drained_output(container_id, exec_id, info, std::nullopt, {});
  };
  if (p.terminal_output) {
    // The exit goes out once the terminal's last output has reached the client: containerd
    // and ctr close their side on the exit event, and what is still in the pty then is lost.
    p.terminal_output->finish(kTerminalStall, std::move(drain));
    return;
  }
  drain();
}

void Lifecycle::await_drained_output(const std::string& container_id, const std::string& exec_id,
                                     const siginfo_t& info, std::optional<size_t> unread_before,
                                     std::chrono::milliseconds stalled) {
  auto found = process(container_id, exec_id);
  if (!found) return;
  auto [c, p] = *found;
  p->terminal_output.reset();  // the shim's writer (a terminal's) holds the clients' EOF back
  std::optional<size_t> unread;
  if (p->stdio.stdout_keepalive || p->stdio.stderr_keepalive) {
    // First the FIFOs are read dry. The shim's readers keep their contents alive for a client
    // that has not opened its end yet (ctr opens it in a goroutine that may run late): without
    // them, the last close would discard the output.
    unread = p->stdio.unread_output();
    if (*unread == 0 || stalled >= kDrainStall) {
      // Then each client reaches EOF and closes its end; the shim's readers would hide that.
      p->stdio.stdout_keepalive.reset();
      p->stdio.stderr_keepalive.reset();
      unread_before.reset();
      stalled = {};
      unread = unread_by_clients(p->uris);
    }
  } else {
    unread = unread_by_clients(p->uris);
  }
  if (unread && stalled < kDrainStall) {
    const bool progress = !unread_before || *unread < *unread_before;
    const bool fast = (*unread == 0 || !unread_before) && stalled < kDrainPollFastSpell;
    const auto delay = fast ? kDrainPollFast : kDrainPoll;
    stalled = progress ? std::chrono::milliseconds{0} : stalled + delay;
    loop_.after(delay, [this, container_id, exec_id, info, unread, stalled] {
      await_drained_output(container_id, exec_id, info, unread, stalled);
    });
    return;
  }
  if (unread) log::debug(p->name() + ": exit published with a client still reading its output");
  report_exit(*c, *p, info);
}

void Lifecycle::report_exit(Container& c, Process& p, const siginfo_t& info) {
  p.reaped.reset();
  p.terminal_output.reset();
  p.pty.reset();
  p.stdio = Stdio{};  // keep-alive fds closed: clients see EOF once the process's copies close
  if (p.is_init()) drain_oom(c);  // an OOM kill is reported before the exit it caused
  for (Process* q : c.exited(p, info)) {
    events_.exited(c, *q);
    auto waiters = std::move(q->waiters);
    q->waiters.clear();
    for (auto& w : waiters) w.done(*q);
  }
}

}  // namespace hippo::shim
