#include "runtime/runc/runc_backend.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/file_io.hpp"
#include "base/syscalls.hpp"
#include "oci-spec/config.hpp"
#include "oci-spec/schema.hpp"
#include "oci-spec/state.hpp"
#include "runtime/cdi/annotations.hpp"
#include "runtime/cgroups/proc_cgroup.hpp"
#include "runtime/linux/console.hpp"
#include "runtime/native/nesting.hpp"
#include "runtime/runc/runc_command.hpp"

namespace hippo::runtime {
namespace {

using os::UniqueFd;

std::string signal_arg(int sig) { return std::to_string(sig); }

// A listening unix socket for --console-socket when we receive the pty ourselves: runc
// connects and sends the master during create/exec; we accept after it returned.
struct ConsoleListener {
  std::string path;
  UniqueFd fd;
  ~ConsoleListener() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

Result<std::unique_ptr<ConsoleListener>> listen_console(const std::string& dir) {
  auto l = std::make_unique<ConsoleListener>();
  static int counter = 0;
  l->path =
      dir + "/console-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".sock";
  l->fd = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (l->path.size() >= sizeof addr.sun_path) return fail("console socket path too long");
  std::memcpy(addr.sun_path, l->path.c_str(), l->path.size() + 1);
  if (::bind(l->fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(l->fd.get(), 1) != 0) {
    return fail_errno("console socket " + l->path);
  }
  return l;
}

Result<UniqueFd> accept_pty(ConsoleListener& l) {
  UniqueFd conn(::accept4(l.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) return fail_errno("accept console socket");
  return os::receive_fd(conn.get());
}

class RuncBackend final : public Backend {
 public:
  explicit RuncBackend(RuncOptions o) : o_(std::move(o)) {
    (void)make_directories(o_.root, 0700);  // private like runc's own; runc names a failure
  }

  Result<void> create(const CreateOptions& options) override {
    auto h = create_process(options);
    if (!h) return std::unexpected(h.error());
    return {};
  }

  Result<ProcessHandle> create_process(const CreateOptions& o) override {
    if (auto ok = refuse_unsupported(o.bundle); !ok) return std::unexpected(ok.error());
    // runc writes the pid to a file of ours, removed once read; the caller's --pid-file gets
    // it as the native backend writes it.
    const auto pid_file = o_.root + "/" + o.id + ".pid";
    std::vector<std::string> args{"create", "--bundle", absolute_path(o.bundle).value_or(o.bundle),
                                  "--pid-file", pid_file};
    if (o.no_pivot) args.push_back("--no-pivot");
    if (o.no_new_keyring) args.push_back("--no-new-keyring");
    if (o.preserve_fds) args.insert(args.end(), {"--preserve-fds", std::to_string(o.preserve_fds)});
    std::unique_ptr<ConsoleListener> console;
    if (!o.console_socket.empty()) {
      args.insert(args.end(), {"--console-socket", o.console_socket});
    } else if (o.receive_pty) {
      auto spec = spec::load(o.bundle + "/config.json");
      if (spec && spec->process && spec->process->terminal.value_or(false)) {
        auto l = listen_console(o_.root);
        if (!l) return std::unexpected(l.error());
        console = std::move(*l);
        args.insert(args.end(), {"--console-socket", console->path});
      }
    }
    args.push_back(o.id);
    if (auto r = invoke({args, "", inherited(o.io), false}); !r) return std::unexpected(r.error());
    return handle_from_pid_file(pid_file, o.pid_file, console.get());
  }

  Result<void> start(const std::string& id) override { return simple({"start", id}); }

  // runc cannot run a nesting container (docs/nesting.md, section 2), nor does it read CDI
  // annotations (docs/devices.md): both refused before runc runs, rather than a container
  // without the mode or the devices it asked for.
  Result<void> refuse_unsupported(const std::string& bundle) const {
    auto spec = spec::load(bundle + "/config.json");
    if (!spec) return {};  // runc names what is wrong with it
    auto nesting = native::resolve_nesting(*spec, o_.nesting, {.runc_backend = true});
    if (!nesting) return std::unexpected(nesting.error());
    for (const auto& [key, value] : spec->annotations.value_or(spec::StringMap{})) {
      if (key.starts_with(cdi::kAnnotationPrefix)) {
        return fail(ErrorKind::invalid_argument,
                    "annotation \"" + key +
                        "\": CDI devices need hippo's native backend (backend: runc in "
                        "config.yaml cannot inject them)");
      }
    }
    return {};
  }

  Result<ProcessHandle> spawn_exec(const ExecOptions& o) override {
    std::string bundle;
    if (!o.process) {
      auto st = state(o.id);
      if (!st) return std::unexpected(st.error());
      bundle = st->bundle;
    }
    auto found = exec_process_spec(o, bundle);
    if (!found) return std::unexpected(found.error());
    const spec::Process& process = *found;
    // runc would say the same, after we made a console socket it never connects to.
    const bool terminal = process.terminal.value_or(false);
    if (terminal && !o.receive_pty && o.console_socket.empty()) {
      return fail(ErrorKind::invalid_argument,
                  "cannot allocate tty if hippo will detach without setting console socket");
    }
    const auto base = o_.root + "/" + o.id + "-exec-" + std::to_string(::getpid()) + "-" +
                      std::to_string(++exec_counter_);
    if (auto ok = write_text_file(base + ".json", spec::codec::write_value(process).dump()); !ok) {
      return std::unexpected(ok.error());
    }
    std::vector<std::string> args{"exec",     "--process",  base + ".json",
                                  "--detach", "--pid-file", base + ".pid"};
    if (o.ignore_paused) args.push_back("--ignore-paused");
    for (const auto& [controller, path] : o.sub_cgroups) {
      args.insert(args.end(), {"--cgroup", controller.empty() ? path : controller + ":" + path});
    }
    if (o.preserve_fds) args.insert(args.end(), {"--preserve-fds", std::to_string(o.preserve_fds)});
    std::unique_ptr<ConsoleListener> console;
    if (!o.console_socket.empty()) {
      args.insert(args.end(), {"--console-socket", o.console_socket});
    } else if (terminal) {
      auto l = listen_console(o_.root);
      if (!l) return std::unexpected(l.error());
      console = std::move(*l);
      args.insert(args.end(), {"--console-socket", console->path});
    }
    args.push_back(o.id);
    auto r = invoke({args, "", inherited(o.io), false});
    ::unlink((base + ".json").c_str());
    if (!r) {
      ::unlink((base + ".pid").c_str());
      return std::unexpected(r.error());
    }
    return handle_from_pid_file(base + ".pid", o.pid_file, console.get());
  }

  Result<spec::RuntimeState> state(const std::string& id) override {
    auto r = invoke({{"state", id}, "", {}, true});
    if (!r) return std::unexpected(not_found_if_missing(r.error(), id));
    return spec::parse_runtime_state(r->stdout_text, "runc state");
  }

  Result<std::vector<spec::RuntimeState>> list() override {
    auto r = invoke({{"list", "--format", "json"}, "", {}, true});
    if (!r) return std::unexpected(r.error());
    std::vector<spec::RuntimeState> out;
    auto j = nlohmann::json::parse(r->stdout_text, nullptr, false);
    if (!j.is_array()) return out;
    for (const auto& item : j) {
      if (auto s = spec::parse_runtime_state(item.dump(), "runc list")) out.push_back(*s);
    }
    return out;
  }

  Result<void> kill(const std::string& id, int sig, bool all) override {
    std::vector<std::string> args{"kill"};
    if (all) args.push_back("--all");
    args.insert(args.end(), {id, signal_arg(sig)});
    return simple(args);
  }

  Result<void> remove(const std::string& id, bool force) override {
    std::vector<std::string> args{"delete"};
    if (force) args.push_back("--force");
    args.push_back(id);
    auto r = simple(args);
    if (!r && force && r.error().code == ENOENT) return {};
    return r;
  }

  Result<void> pause(const std::string& id) override { return simple({"pause", id}); }
  Result<void> resume(const std::string& id) override { return simple({"resume", id}); }

  Result<void> update(const std::string& id, const spec::Resources& resources) override {
    auto r = invoke({{"update", "--resources", "-", id},
                     spec::codec::write_value(resources).dump(),
                     {},
                     false});
    if (!r) return std::unexpected(r.error());
    return {};
  }

  Result<spec::Stats> stats(const std::string& id) override {
    auto r = invoke({{"events", "--stats", id}, "", {}, true});
    if (!r) return std::unexpected(r.error());
    auto j = nlohmann::json::parse(r->stdout_text, nullptr, false);
    spec::Stats s;
    if (!j.is_object()) return fail("runc events --stats: unreadable output");
    const auto& d = j["data"];
    auto u64 = [](const nlohmann::json& v) { return v.is_number() ? v.get<uint64_t>() : 0; };
    s.cpu_usage_ns = u64(d["cpu"]["usage"]["total"]);
    s.memory.usage = u64(d["memory"]["usage"]["usage"]);
    s.memory.max_usage = u64(d["memory"]["usage"]["max"]);
    s.memory.limit = u64(d["memory"]["usage"]["limit"]);
    s.memory.failcnt = u64(d["memory"]["usage"]["failcnt"]);
    s.pids_current = u64(d["pids"]["current"]);
    s.pids_limit = u64(d["pids"]["limit"]);
    return s;
  }

  Result<std::vector<pid_t>> pids(const std::string& id) override {
    auto r = invoke({{"ps", "--format", "json", id}, "", {}, true});
    if (!r) return std::unexpected(r.error());
    auto j = nlohmann::json::parse(r->stdout_text, nullptr, false);
    std::vector<pid_t> out;
    if (j.is_array()) {
      for (const auto& p : j) out.push_back(p.get<pid_t>());
    }
    return out;
  }

  // runc made the cgroup: find it from the init's /proc/<pid>/cgroup, as containerd's runc
  // shim does, so the shim watches OOM kills the same way for both backends.
  Result<std::string> memory_cgroup_dir(const std::string& id) override {
    auto st = state(id);
    if (!st) return std::unexpected(st.error());
    if (st->pid <= 0) return fail("runc backend: container " + id + " has no init process");
    return cgroups::memory_dir_of_pid(st->pid);
  }

 private:
  Result<runc::Outcome> invoke(const runc::Command& command) {
    std::vector<std::string> global{"--root", o_.root};
    if (o_.systemd_cgroup) global.push_back("--systemd-cgroup");
    const auto log = o_.root + "/.log-" + std::to_string(::getpid()) + "-" +
                     std::to_string(++log_counter_) + ".json";
    auto r = runc::run(o_.binary, global, log, command);
    ::unlink(log.c_str());
    return r;
  }

  Result<void> simple(const std::vector<std::string>& args) {
    auto r = invoke({args, "", {}, false});
    if (!r) return std::unexpected(not_found_if_missing(r.error(), args.back()));
    return {};
  }

  // runc says "container does not exist": give it the errno callers (the shim) map to NotFound.
  static Error not_found_if_missing(Error e, const std::string& id) {
    if (e.message.find("does not exist") != std::string::npos ||
        e.message.find("not exist") != std::string::npos) {
      e.code = ENOENT;
      e.message = "container \"" + id + "\" does not exist";
    }
    return e;
  }

  // runc's init (and exec'd processes) are re-parented to us when we are a subreaper (the
  // shim, a foreground run or exec): from then on the pidfd reaps them. runc's pid file is
  // removed once read (nothing of ours stays in runc's root); `caller_pid_file` (--pid-file)
  // gets the pid atomically, as the native backend writes it.
  Result<ProcessHandle> handle_from_pid_file(const std::string& pid_file,
                                             const std::string& caller_pid_file,
                                             ConsoleListener* console) {
    auto text = read_text_file(pid_file);
    ::unlink(pid_file.c_str());
    pid_t pid = 0;
    if (text) std::from_chars(text->data(), text->data() + text->size(), pid);
    if (pid <= 0) return fail("runc wrote no pid to " + pid_file);
    ProcessHandle h{pid, UniqueFd(os::sys::pidfd_open(pid)), UniqueFd()};
    if (!h.pidfd) return fail_errno("pidfd_open " + std::to_string(pid));
    if (!caller_pid_file.empty()) {
      if (auto ok = replace_text_file(caller_pid_file, std::to_string(pid)); !ok)
        return forward(ok, "--pid-file");
    }
    if (console) {
      auto master = accept_pty(*console);
      if (!master) return std::unexpected(master.error());
      h.pty_master = std::move(*master);
    }
    return h;
  }

  // ProcessIo's -1 is the caller's own fd; runc::Command's stdin -1 is a pipe of `input`.
  static ProcessIo inherited(ProcessIo io) {
    if (io.stdin_fd < 0) io.stdin_fd = STDIN_FILENO;
    return io;
  }

  RuncOptions o_;
  int log_counter_ = 0;
  int exec_counter_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_runc_backend(const RuncOptions& options) {
  return std::make_unique<RuncBackend>(options);
}

}  // namespace hippo::runtime
