// Exits: the one place processes are reaped (through their pidfds), OOM and exit events in
// order, Wait replies, and Delete.

#include "shim/task_service.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "containerd/events/task.pb-c.h"
#include "containerd/runc/options.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "oci-spec/schema.hpp"
#include "base/syscalls.hpp"
#include "base/logging.hpp"
#include "runtime/runc/runc_backend.hpp"
#include "shim/proto_util.hpp"
#include "base/file_io.hpp"
#include "shim/metrics.hpp"
#include "shim/rootfs.hpp"
#include "shim/runtime_options.hpp"
#include "shim/task_support.hpp"

namespace hippo::shim {

using ttrpc::Code;
using ttrpc::Status;

void TaskService::drain_oom(Container& c) {
  if (!c.oom) return;
  pollfd pfd{c.oom->fd(), POLLIN, 0};
  if (::poll(&pfd, 1, 0) <= 0) return;
  auto events = c.oom->consume();
  if (!events || *events == 0) return;
  Containerd__Events__TaskOOM ev = CONTAINERD__EVENTS__TASK_OOM__INIT;
  ev.container_id = c.id.data();
  publish("/tasks/oom", "containerd.events.TaskOOM", pack(ev));
}

void TaskService::on_exit(const std::string& container_id, const std::string& exec_id) {
  Container* c = find(container_id);
  if (!c) return;
  Process* p = find_process(*c, exec_id);
  if (!p || !p->pidfd) return;
  siginfo_t info{};
  if (::waitid(P_PIDFD, static_cast<id_t>(p->pidfd.get()), &info, WEXITED | WNOHANG) != 0 || info.si_pid == 0) {
    return;  // not exited yet (spurious wakeup)
  }
  loop_.unwatch(p->pidfd.get());
  p->exit_status = exit_code(info);
  p->exited_at = std::chrono::system_clock::now();
  p->state = ProcessState::kStopped;
  if (p->pty) {
    while (relay_once(p->pty.get(), p->stdio.terminal_out.get())) {
    }
    loop_.unwatch(p->pty.get());
    p->pty.reset();
  }
  if (p->stdio.terminal_in) loop_.unwatch(p->stdio.terminal_in.get());
  p->stdio = Stdio{};  // keep-alive fds closed: clients see EOF once the process's copies close
  if (exec_id.empty()) {
    // An init sharing its pid namespace leaves processes behind: they go with it (as runc's
    // shim does), and their exits go out before init's.
    if (c->kill_all_on_exit) (void)c->backend->kill(c->id, SIGKILL, true);
    drain_oom(*c);
    const bool execs_running = std::ranges::any_of(c->execs, [](const auto& e) {
      return e.second->state == ProcessState::kRunning || e.second->state == ProcessState::kPaused;
    });
    if (execs_running) {
      c->init_exit_deferred = true;
      return;
    }
  }
  publish_exit(*c, *p);
  if (!exec_id.empty() && c->init_exit_deferred) {
    const bool execs_running = std::ranges::any_of(c->execs, [](const auto& e) {
      return e.second->state == ProcessState::kRunning || e.second->state == ProcessState::kPaused;
    });
    if (!execs_running) {
      c->init_exit_deferred = false;
      publish_exit(*c, c->init);
    }
  }
}

void TaskService::publish_exit(Container& c, Process& p) {
  Timestamp at(p.exited_at);
  Containerd__Events__TaskExit ev = CONTAINERD__EVENTS__TASK_EXIT__INIT;
  ev.container_id = c.id.data();
  // Consumers (Docker) take id == container_id as "the container died".
  const std::string id = p.exec_id.empty() ? c.id : p.exec_id;
  ev.id = const_cast<char*>(id.c_str());
  ev.pid = static_cast<uint32_t>(p.pid);
  ev.exit_status = p.exit_status;
  ev.exited_at = &at.ts;
  publish("/tasks/exit", "containerd.events.TaskExit", pack(ev));
  Containerd__Task__V2__WaitResponse resp = CONTAINERD__TASK__V2__WAIT_RESPONSE__INIT;
  resp.exit_status = p.exit_status;
  resp.exited_at = &at.ts;
  const std::string bytes = pack(resp);
  auto waiters = std::move(p.waiters);
  p.waiters.clear();
  for (auto& w : waiters) w(Status::Ok(), bytes);
}

void TaskService::wait(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__WaitRequest, containerd__task__v2__wait_request__descriptor, req);
  auto [c, p] = lookup(view(req->id), view(req->exec_id), reply);
  if (!p) return;
  const bool deferred_init = p->exec_id.empty() && c->init_exit_deferred;
  if (p->state == ProcessState::kStopped && !deferred_init) {
    Timestamp at(p->exited_at);
    Containerd__Task__V2__WaitResponse resp = CONTAINERD__TASK__V2__WAIT_RESPONSE__INIT;
    resp.exit_status = p->exit_status;
    resp.exited_at = &at.ts;
    return reply_message(reply, &resp.base);
  }
  p->waiters.push_back(std::move(reply));  // a pending Wait is state, not a blocked thread
}

void TaskService::remove(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__DeleteRequest, containerd__task__v2__delete_request__descriptor, req);
  auto [c, p] = lookup(view(req->id), view(req->exec_id), reply);
  if (!p) return;
  if (auto ok = check_transition(p->state, ProcessState::kDeleted, "delete"); !ok) {
    return reply_error(reply, Code::kFailedPrecondition, ok.error().message);
  }
  Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
  const uint32_t pid = static_cast<uint32_t>(p->pid);
  const uint32_t status = p->exit_status;
  const auto at_time = p->state == ProcessState::kStopped ? p->exited_at : std::chrono::system_clock::now();
  if (!p->exec_id.empty()) {
    c->execs.erase(p->exec_id);
  } else {
    if (p->pidfd) {
      // Created, never started: init waits on its fifo; end it and reap it here.
      loop_.unwatch(p->pidfd.get());
      os::sys::pidfd_send_signal(p->pidfd.get(), SIGKILL);
      siginfo_t info{};
      ::waitid(P_PIDFD, static_cast<id_t>(p->pidfd.get()), &info, WEXITED);
      p->pidfd.reset();
    }
    if (auto ok = c->backend->remove(c->id, true); !ok) {
      log::warn("delete " + c->id + ": " + ok.error().message);
    }
    if (c->rootfs_mounted) {
      if (auto ok = unmount_all(c->bundle + "/rootfs"); !ok) log::warn("delete " + c->id + ": " + ok.error().message);
    }
    if (c->oom) loop_.unwatch(c->oom->fd());
    Timestamp at(at_time);
    Containerd__Events__TaskDelete ev = CONTAINERD__EVENTS__TASK_DELETE__INIT;
    ev.container_id = c->id.data();
    ev.pid = pid;
    ev.exit_status = status;
    ev.exited_at = &at.ts;
    publish("/tasks/delete", "containerd.events.TaskDelete", pack(ev));
    containers_.erase(c->id);
  }
  Timestamp at(at_time);
  resp.pid = pid;
  resp.exit_status = status;
  resp.exited_at = &at.ts;
  reply_message(reply, &resp.base);
}

}  // namespace hippo::shim
