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

#include <spdlog/spdlog.h>

#include "containerd/events/task.pb-c.h"
#include "containerd/runc/options.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "oci-spec/schema.hpp"
#include "runtime/linux/syscalls.hpp"
#include "runtime/runc/runc_backend.hpp"
#include "shim/proto_util.hpp"
#include "oci-spec/file_io.hpp"
#include "runtime/cgroups/cgroup_files.hpp"
#include "shim/metrics.hpp"
#include "shim/rootfs.hpp"
#include "shim/runtime_options.hpp"

namespace hippo::shim {
namespace {

using ttrpc::Code;
using ttrpc::Status;

constexpr const char* kSpecProcessUrl = "types.containerd.io/opencontainers/runtime-spec/1/Process";
constexpr const char* kResourcesUrl = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";

Status error_status(const Error& e, Code fallback = Code::kUnknown) {
  if (e.code == ENOENT) return {Code::kNotFound, e.message};
  if (e.code == EEXIST) return {Code::kAlreadyExists, e.message};
  return {fallback, e.message};
}

// Whether `pid` is 1 in its innermost pid namespace (the last NSpid field): then the kernel
// ends every other process of that namespace when it exits. Unknown counts as "no".
bool is_pid_namespace_init(pid_t pid) {
  auto status = cgroups::read_file("/proc/" + std::to_string(pid) + "/status", cgroups::Tree::kernel);
  if (!status) return false;
  const auto at = status->find("\nNSpid:");
  if (at == std::string::npos) return false;
  const auto end = status->find('\n', at + 1);
  const auto line = std::string_view(*status).substr(at + 1, end - at - 1);
  const auto last = line.find_last_of(" \t");
  return last != std::string_view::npos && line.substr(last + 1) == "1";
}

void reply_message(ttrpc::Reply& reply, const ProtobufCMessage* m) { reply(Status::Ok(), pack(m)); }
void reply_empty(ttrpc::Reply& reply) { reply(Status::Ok(), ""); }
void reply_error(ttrpc::Reply& reply, Code code, std::string message) {
  reply(Status{code, std::move(message)}, "");
}

Containerd__V1__Types__Status proto_status(ProcessState s) {
  switch (s) {
    case ProcessState::kCreated:
      return CONTAINERD__V1__TYPES__STATUS__CREATED;
    case ProcessState::kRunning:
      return CONTAINERD__V1__TYPES__STATUS__RUNNING;
    case ProcessState::kPaused:
      return CONTAINERD__V1__TYPES__STATUS__PAUSED;
    case ProcessState::kStopped:
    case ProcessState::kDeleted:
      return CONTAINERD__V1__TYPES__STATUS__STOPPED;
  }
  return CONTAINERD__V1__TYPES__STATUS__UNKNOWN;
}

uint32_t exit_code(const siginfo_t& info) {
  return info.si_code == CLD_EXITED ? static_cast<uint32_t>(info.si_status)
                                    : 128u + static_cast<uint32_t>(info.si_status);
}

// Copies what is available from `in` to `out` without blocking; false at EOF or on error.
bool relay_once(int in, int out) {
  char buf[8192];
  const ssize_t n = ::read(in, buf, sizeof buf);
  if (n <= 0) return n < 0 && errno == EAGAIN;
  if (out >= 0) [[maybe_unused]] auto w = ::write(out, buf, static_cast<size_t>(n));
  return true;
}

}  // namespace

#define DECODE(Type, descriptor, var)                                              \
  auto var = unpack<Type>(descriptor, payload);                                   \
  if (!var) return reply_error(reply, Code::kInvalidArgument, "malformed " #Type)

TaskService::TaskService(ttrpc::EventLoop& loop, Publisher& publisher,
                         std::unique_ptr<runtime::Backend> backend, std::string ns,
                         std::function<void()> request_exit,
                         std::optional<runtime::RuncOptions> runc)
    : loop_(loop), publisher_(publisher), backend_(std::move(backend)), ns_(std::move(ns)),
      request_exit_(std::move(request_exit)), default_runc_(std::move(runc)) {
  if (default_runc_) backend_ = runtime::make_runc_backend(*default_runc_);
}

TaskService::~TaskService() = default;

void TaskService::register_with(ttrpc::Server& server) {
  using Method = void (TaskService::*)(std::string_view, Reply);
  const std::pair<const char*, Method> methods[] = {
      {"Create", &TaskService::create},     {"Start", &TaskService::start},
      {"Delete", &TaskService::remove},     {"Exec", &TaskService::exec},
      {"State", &TaskService::state},       {"Kill", &TaskService::kill},
      {"Wait", &TaskService::wait},         {"Pids", &TaskService::pids},
      {"CloseIO", &TaskService::close_io},  {"ResizePty", &TaskService::resize_pty},
      {"Update", &TaskService::update},     {"Connect", &TaskService::connect},
      {"Shutdown", &TaskService::shutdown},
  };
  for (const char* service : {"containerd.task.v2.Task", "containerd.task.v3.Task"}) {
    for (const auto& [name, method] : methods) {
      server.register_method(service, name, [this, method](const ttrpc::CallContext&,
                                                           std::string_view payload, Reply reply) {
        (this->*method)(payload, std::move(reply));
      });
    }
    server.register_method(service, "Pause", [this](const auto&, std::string_view p, Reply r) {
      pause(p, std::move(r), false);
    });
    server.register_method(service, "Resume", [this](const auto&, std::string_view p, Reply r) {
      pause(p, std::move(r), true);
    });
    server.register_method(service, "Stats", [this](const auto&, std::string_view p, Reply r) {
      stats(p, std::move(r));
    });
    for (const char* name : {"Checkpoint"}) {
      server.register_method(service, name, [name](const auto&, std::string_view, Reply r) {
        reply_error(r, Code::kUnimplemented, std::string(name) + " is not implemented by hippo yet");
      });
    }
  }
}

bool TaskService::owns(pid_t pid) const {
  for (const auto& [id, c] : containers_) {
    if (c->init.pid == pid) return true;
    for (const auto& [eid, p] : c->execs) {
      if (p->pid == pid) return true;
    }
  }
  return false;
}

Container* TaskService::find(std::string_view id) {
  auto it = containers_.find(id);
  return it == containers_.end() ? nullptr : it->second.get();
}

Container* TaskService::lookup(std::string_view id, Reply& reply) {
  Container* c = find(id);
  if (!c) reply_error(reply, Code::kNotFound, "container " + std::string(id) + " not found");
  return c;
}

std::pair<Container*, Process*> TaskService::lookup(std::string_view id, std::string_view exec_id,
                                                    Reply& reply) {
  Container* c = lookup(id, reply);
  if (!c) return {nullptr, nullptr};
  Process* p = find_process(*c, exec_id);
  if (!p) reply_error(reply, Code::kNotFound, "process " + std::string(exec_id) + " not found");
  return {c, p};
}

Process* TaskService::find_process(Container& c, std::string_view exec_id) {
  if (exec_id.empty()) return &c.init;
  auto it = c.execs.find(std::string(exec_id));
  return it == c.execs.end() ? nullptr : it->second.get();
}

void TaskService::publish(std::string topic, std::string type_url, std::string bytes) {
  publisher_.publish(std::move(topic), std::move(type_url), std::move(bytes));
}

void TaskService::create(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__CreateTaskRequest, containerd__task__v2__create_task_request__descriptor, req);
  const std::string id(view(req->id));
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
    if (auto ok = write_text_file(c->bundle + "/hippo-runc", record); !ok) {
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
  if (auto dir = backend->memory_cgroup_dir(id)) {
    if (auto watcher = cgroups::OomWatcher::open(*dir)) c->oom.emplace(std::move(*watcher));
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

void TaskService::state(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__StateRequest, containerd__task__v2__state_request__descriptor, req);
  auto [c, p] = lookup(view(req->id), view(req->exec_id), reply);
  if (!p) return;
  ProcessState shown = p->state;
  if (p->exec_id.empty() && shown == ProcessState::kRunning) {
    if (auto st = c->backend->state(c->id); st && st->status == "paused") shown = ProcessState::kPaused;
  }
  Timestamp at(p->exited_at);
  Containerd__Task__V2__StateResponse resp = CONTAINERD__TASK__V2__STATE_RESPONSE__INIT;
  const std::string id = p->exec_id.empty() ? c->id : p->exec_id;
  resp.id = const_cast<char*>(id.c_str());
  resp.bundle = c->bundle.data();
  resp.pid = static_cast<uint32_t>(p->pid);
  resp.status = proto_status(shown);
  resp.stdin = p->uris.stdin_uri.data();
  resp.stdout = p->uris.stdout_uri.data();
  resp.stderr = p->uris.stderr_uri.data();
  resp.terminal = p->uris.terminal;
  resp.exit_status = p->exit_status;
  if (p->state == ProcessState::kStopped) resp.exited_at = &at.ts;
  resp.exec_id = p->exec_id.data();
  reply_message(reply, &resp.base);
}

void TaskService::kill(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__KillRequest, containerd__task__v2__kill_request__descriptor, req);
  auto [c, p] = lookup(view(req->id), view(req->exec_id), reply);
  if (!p) return;
  if (p->state == ProcessState::kStopped || p->state == ProcessState::kDeleted || !p->pidfd) {
    return reply_error(reply, Code::kNotFound, "process already finished: not found");
  }
  const int sig = static_cast<int>(req->signal);
  if (p->exec_id.empty() && req->all) {
    if (auto ok = c->backend->kill(c->id, sig, true); !ok) return reply(error_status(ok.error()), "");
  } else if (linux::sys::pidfd_send_signal(p->pidfd.get(), sig) != 0) {
    return reply_error(reply, errno == ESRCH ? Code::kNotFound : Code::kUnknown,
                       std::string("kill: ") + std::strerror(errno));
  }
  reply_empty(reply);
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
      linux::sys::pidfd_send_signal(p->pidfd.get(), SIGKILL);
      siginfo_t info{};
      ::waitid(P_PIDFD, static_cast<id_t>(p->pidfd.get()), &info, WEXITED);
      p->pidfd.reset();
    }
    if (auto ok = c->backend->remove(c->id, true); !ok) {
      spdlog::warn("delete {}: {}", c->id, ok.error().message);
    }
    if (c->rootfs_mounted) {
      if (auto ok = unmount_all(c->bundle + "/rootfs"); !ok) spdlog::warn("delete {}: {}", c->id, ok.error().message);
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

void TaskService::pids(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__PidsRequest, containerd__task__v2__pids_request__descriptor, req);
  Container* c = lookup(view(req->id), reply);
  if (!c) return;
  auto pids = c->backend->pids(c->id);
  if (!pids) return reply(error_status(pids.error()), "");
  std::vector<Containerd__V1__Types__ProcessInfo> infos(pids->size());
  std::vector<Containerd__V1__Types__ProcessInfo*> ptrs;
  std::vector<std::unique_ptr<OwnedAny>> details;
  for (size_t i = 0; i < pids->size(); ++i) {
    containerd__v1__types__process_info__init(&infos[i]);
    infos[i].pid = static_cast<uint32_t>((*pids)[i]);
    for (const auto& [eid, p] : c->execs) {
      if (p->pid == (*pids)[i]) {
        Containerd__Runc__V1__ProcessDetails d = CONTAINERD__RUNC__V1__PROCESS_DETAILS__INIT;
        d.exec_id = const_cast<char*>(eid.c_str());
        details.push_back(std::make_unique<OwnedAny>("containerd.runc.v1.ProcessDetails", pack(d)));
        infos[i].info = &details.back()->any;
      }
    }
    ptrs.push_back(&infos[i]);
  }
  Containerd__Task__V2__PidsResponse resp = CONTAINERD__TASK__V2__PIDS_RESPONSE__INIT;
  resp.n_processes = ptrs.size();
  resp.processes = ptrs.data();
  reply_message(reply, &resp.base);
}

void TaskService::pause(std::string_view payload, Reply reply, bool resume) {
  DECODE(Containerd__Task__V2__PauseRequest, containerd__task__v2__pause_request__descriptor, req);
  Container* c = lookup(view(req->id), reply);
  if (!c) return;
  auto ok = resume ? c->backend->resume(c->id) : c->backend->pause(c->id);
  if (!ok) return reply(error_status(ok.error(), Code::kFailedPrecondition), "");
  Containerd__Events__TaskPaused ev = CONTAINERD__EVENTS__TASK_PAUSED__INIT;  // same shape as TaskResumed
  ev.container_id = req->id;
  publish(resume ? "/tasks/resumed" : "/tasks/paused",
          resume ? "containerd.events.TaskResumed" : "containerd.events.TaskPaused", pack(ev));
  reply_empty(reply);
}

void TaskService::close_io(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__CloseIORequest, containerd__task__v2__close_iorequest__descriptor, req);
  auto [c, p] = lookup(view(req->id), view(req->exec_id), reply);
  if (!p) return;
  if (req->stdin) p->stdio.stdin_keepalive.reset();
  reply_empty(reply);
}

void TaskService::resize_pty(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__ResizePtyRequest, containerd__task__v2__resize_pty_request__descriptor, req);
  auto [c, p] = lookup(view(req->id), view(req->exec_id), reply);
  if (!p) return;
  if (p->pty) {
    winsize ws{};
    ws.ws_col = static_cast<unsigned short>(req->width);
    ws.ws_row = static_cast<unsigned short>(req->height);
    ::ioctl(p->pty.get(), TIOCSWINSZ, &ws);
  }
  reply_empty(reply);
}

void TaskService::update(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__UpdateTaskRequest, containerd__task__v2__update_task_request__descriptor, req);
  Container* c = lookup(view(req->id), reply);
  if (!c) return;
  if (!req->resources || any_type_name(*req->resources) != kResourcesUrl) {
    return reply_error(reply, Code::kInvalidArgument, "update: resources must be LinuxResources JSON");
  }
  auto resources = spec::read_document<spec::Resources>(view(req->resources->value), "resources");
  if (!resources) return reply_error(reply, Code::kInvalidArgument, resources.error().message);
  if (auto ok = c->backend->update(c->id, *resources); !ok) return reply(error_status(ok.error()), "");
  reply_empty(reply);
}

void TaskService::stats(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__StatsRequest, containerd__task__v2__stats_request__descriptor, req);
  Container* c = lookup(view(req->id), reply);
  if (!c) return;
  auto st = c->backend->stats(c->id);
  if (!st) return reply(error_status(st.error(), Code::kNotFound), "");
  auto metrics = encode_metrics(*st, metrics_version_);
  OwnedAny any(std::move(metrics.type_url), std::move(metrics.bytes));
  Containerd__Task__V2__StatsResponse resp = CONTAINERD__TASK__V2__STATS_RESPONSE__INIT;
  resp.stats = &any.any;
  reply_message(reply, &resp.base);
}

void TaskService::connect(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__ConnectRequest, containerd__task__v2__connect_request__descriptor, req);
  Containerd__Task__V2__ConnectResponse resp = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
  resp.shim_pid = static_cast<uint32_t>(::getpid());
  if (Container* c = find(view(req->id))) resp.task_pid = static_cast<uint32_t>(c->init.pid);
  reply_message(reply, &resp.base);
}

void TaskService::shutdown(std::string_view payload, Reply reply) {
  DECODE(Containerd__Task__V2__ShutdownRequest, containerd__task__v2__shutdown_request__descriptor, req);
  reply_empty(reply);
  // A grouped daemon goes on while it hosts other containers.
  if (containers_.empty()) request_exit_();
}

}  // namespace hippo::shim
