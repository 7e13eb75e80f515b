// Create, Start and Exec: rootfs mounts, stdio, the backend call, and the watches that
// report exits and relay terminals.

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
#include "runtime/bundle.hpp"
#include "base/syscalls.hpp"
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

void TaskService::create(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__CreateTaskRequest, containerd__task__v2__create_task_request__descriptor, req);
  const std::string id(view(req->id));
  // Before the rootfs mount or any file: the id names <state_root>/<id> and the cgroup.
  if (auto ok = runtime::validate_container_id(id); !ok) {
    return reply_error(reply, Code::kInvalidArgument, ok.error().message);
  }
  if (find(id)) return reply_error(reply, Code::kAlreadyExists, "container " + id + " already exists");
  auto c = std::make_unique<Container>();
  c->id = id;
  c->bundle = std::string(view(req->bundle));
  c->init.container_id = id;
  c->init.uris = {std::string(view(req->stdin)), std::string(view(req->stdout)),
                  std::string(view(req->stderr)), req->terminal != 0, id, ns_};

  std::vector<RootfsMount> mounts;
  for (size_t i = 0; i < req->n_rootfs; ++i) {
    const auto* m = req->rootfs[i];
    RootfsMount rm{std::string(view(m->type)), std::string(view(m->source)), std::string(view(m->target)), {}};
    for (size_t k = 0; k < m->n_options; ++k) rm.options.emplace_back(m->options[k]);
    mounts.push_back(std::move(rm));
  }
  const std::string rootfs = c->bundle + "/rootfs";
  if (!mounts.empty()) {
    if (auto ok = mount_rootfs(rootfs, mounts); !ok) return reply(error_status(ok.error()), "");
    c->rootfs_mounted = true;
  }
  auto undo_mounts = [&] {
    if (c->rootfs_mounted) (void)unmount_all(rootfs);
  };
  RuntimeOptions options;
  if (req->options) {
    options = decode_runtime_options(any_type_name(*req->options), view(req->options->value));
  }
  // containerd.runc.v1.Options.BinaryName (or config.yaml's backend: runc) selects an external
  // runc-compatible binary.
  runtime::Backend* backend = backend_.get();
  std::optional<runtime::RuncOptions> runc = default_runc_;
  if (!options.binary_name.empty()) {
    runc = runtime::RuncOptions{options.binary_name,
                                options.root.empty() ? "/run/hippo/runc/" + ns_ : options.root + "/" + ns_,
                                options.systemd_cgroup};
    auto& b = runc_backends_[options.binary_name];
    if (!b) b = runtime::make_runc_backend(*runc);
    backend = b.get();
  }
  if (runc) {
    // `delete` (run by containerd without options) must reach the same runc.
    const auto record = runc->binary + "\n" + runc->root + "\n" + (runc->systemd_cgroup ? "systemd" : "") + "\n";
    if (auto ok = write_text_file(c->bundle + "/hippo-runc", record, 0600); !ok) {
      undo_mounts();
      return reply(error_status(ok.error()), "");
    }
  }
  c->backend = backend;
  auto stdio = open_stdio(c->init.uris);
  if (!stdio) {
    undo_mounts();
    return reply(error_status(stdio.error()), "");
  }
  c->init.stdio = std::move(*stdio);

  runtime::CreateOptions o;
  o.id = id;
  o.bundle = c->bundle;
  o.no_pivot = options.no_pivot_root;
  o.no_new_keyring = options.no_new_keyring;
  // runc Options SystemdCgroup (what CRI sets for the systemd driver) chooses it for this
  // container; otherwise config.yaml's cgroup_driver decides.
  o.systemd_cgroup = options.systemd_cgroup;
  o.io = {c->init.stdio.process_stdin.get(), c->init.stdio.process_stdout.get(),
          c->init.stdio.process_stderr.get()};
  o.receive_pty = req->terminal != 0;
  auto handle = backend->create_process(o);
  c->init.stdio.close_process_copies();
  if (!handle) {
    undo_mounts();
    return reply(error_status(handle.error()), "");
  }
  c->init.pid = handle->pid;
  c->kill_all_on_exit = !is_pid_namespace_init(handle->pid);
  c->init.pidfd = std::move(handle->pidfd);
  c->init.pty = std::move(handle->pty_master);
  {
    if (auto watcher = runtime::OomWatch::open(*backend, id)) c->oom.emplace(std::move(*watcher));
  }
  Container& ref = *c;
  containers_[id] = std::move(c);
  watch_process(ref, ref.init);
  if (ref.oom) {
    (void)loop_.watch(ref.oom->fd(), EPOLLIN, [this, id](uint32_t) {
      if (auto* cc = find(id)) drain_oom(*cc);
    });
  }

  Containerd__Events__TaskIO io = CONTAINERD__EVENTS__TASK_IO__INIT;
  io.stdin = req->stdin;
  io.stdout = req->stdout;
  io.stderr = req->stderr;
  io.terminal = req->terminal;
  Containerd__Events__TaskCreate ev = CONTAINERD__EVENTS__TASK_CREATE__INIT;
  ev.container_id = req->id;
  ev.bundle = req->bundle;
  ev.n_rootfs = req->n_rootfs;
  ev.rootfs = req->rootfs;
  ev.io = &io;
  ev.checkpoint = req->checkpoint;
  ev.pid = static_cast<uint32_t>(ref.init.pid);
  publish("/tasks/create", "containerd.events.TaskCreate", pack(ev));

  Containerd__Task__V2__CreateTaskResponse resp = CONTAINERD__TASK__V2__CREATE_TASK_RESPONSE__INIT;
  resp.pid = static_cast<uint32_t>(ref.init.pid);
  reply_message(reply, &resp.base);
}

void TaskService::watch_process(Container& c, Process& p) {
  const std::string cid = c.id, eid = p.exec_id;
  (void)loop_.watch(p.pidfd.get(), EPOLLIN, [this, cid, eid](uint32_t) { on_exit(cid, eid); });
  if (p.pty) watch_terminal(p);
}

void TaskService::watch_terminal(Process& p) {
  const int master = p.pty.get();
  const int out = p.stdio.terminal_out.get();
  ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
  (void)loop_.watch(master, EPOLLIN, [this, master, out](uint32_t) {
    if (!relay_once(master, out)) loop_.unwatch(master);
  });
  if (p.stdio.terminal_in) {
    const int in = p.stdio.terminal_in.get();
    (void)loop_.watch(in, EPOLLIN, [this, in, master](uint32_t) {
      if (!relay_once(in, master)) loop_.unwatch(in);
    });
  }
}

void TaskService::start(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__StartRequest, containerd__task__v2__start_request__descriptor, req);
  auto [c, p] = lookup(view(req->id), view(req->exec_id), reply);
  if (!p) return;
  if (p->state != ProcessState::kCreated) {
    return reply_error(reply, Code::kFailedPrecondition,
                       "cannot start a " + std::string(state_name(p->state)) + " process");
  }
  if (p->exec_id.empty()) {
    if (auto ok = c->backend->start(c->id); !ok) return reply(error_status(ok.error(), Code::kFailedPrecondition), "");
    p->state = ProcessState::kRunning;
    Containerd__Events__TaskStart ev = CONTAINERD__EVENTS__TASK_START__INIT;
    ev.container_id = req->id;
    ev.pid = static_cast<uint32_t>(p->pid);
    publish("/tasks/start", "containerd.events.TaskStart", pack(ev));
  } else {
    if (c->init.state != ProcessState::kRunning && c->init.state != ProcessState::kPaused) {
      return reply_error(reply, Code::kFailedPrecondition, "container " + c->id + " is not running");
    }
    runtime::ExecOptions o;
    o.id = c->id;
    o.process = p->exec_spec;
    o.io = {p->stdio.process_stdin.get(), p->stdio.process_stdout.get(), p->stdio.process_stderr.get()};
    o.receive_pty = p->uris.terminal;
    o.ignore_paused = false;
    auto handle = c->backend->spawn_exec(o);
    p->stdio.close_process_copies();
    if (!handle) return reply(error_status(handle.error(), Code::kFailedPrecondition), "");
    p->pid = handle->pid;
    p->pidfd = std::move(handle->pidfd);
    p->pty = std::move(handle->pty_master);
    p->state = ProcessState::kRunning;
    watch_process(*c, *p);
    Containerd__Events__TaskExecStarted ev = CONTAINERD__EVENTS__TASK_EXEC_STARTED__INIT;
    ev.container_id = req->id;
    ev.exec_id = req->exec_id;
    ev.pid = static_cast<uint32_t>(p->pid);
    publish("/tasks/exec-started", "containerd.events.TaskExecStarted", pack(ev));
  }
  Containerd__Task__V2__StartResponse resp = CONTAINERD__TASK__V2__START_RESPONSE__INIT;
  resp.pid = static_cast<uint32_t>(p->pid);
  reply_message(reply, &resp.base);
}

void TaskService::exec(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__ExecProcessRequest, containerd__task__v2__exec_process_request__descriptor, req);
  Container* c = lookup(view(req->id), reply);
  if (!c) return;
  const std::string exec_id(view(req->exec_id));
  if (c->execs.contains(exec_id)) {
    return reply_error(reply, Code::kAlreadyExists, "id " + exec_id + ": already exists");
  }
  if (c->init.state == ProcessState::kStopped) {
    return reply_error(reply, Code::kFailedPrecondition, "container " + c->id + " is stopped");
  }
  if (!req->spec || any_type_name(*req->spec) != kSpecProcessUrl) {
    return reply_error(reply, Code::kInvalidArgument, "exec: spec must be an OCI Process (" + std::string(kSpecProcessUrl) + ")");
  }
  auto spec = spec::read_document<spec::Process>(view(req->spec->value), "exec process");
  if (!spec) return reply_error(reply, Code::kInvalidArgument, spec.error().message);
  auto p = std::make_unique<Process>();
  p->container_id = c->id;
  p->exec_id = exec_id;
  p->uris = {std::string(view(req->stdin)), std::string(view(req->stdout)),
             std::string(view(req->stderr)), req->terminal != 0, c->id, ns_};
  spec->terminal = req->terminal != 0;
  p->exec_spec = std::move(*spec);
  auto stdio = open_stdio(p->uris);
  if (!stdio) return reply(error_status(stdio.error()), "");
  p->stdio = std::move(*stdio);
  c->execs[exec_id] = std::move(p);
  Containerd__Events__TaskExecAdded ev = CONTAINERD__EVENTS__TASK_EXEC_ADDED__INIT;
  ev.container_id = req->id;
  ev.exec_id = req->exec_id;
  publish("/tasks/exec-added", "containerd.events.TaskExecAdded", pack(ev));
  reply_empty(reply);
}

}  // namespace hippo::shim
