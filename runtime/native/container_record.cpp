#include "runtime/native/container_record.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "base/file_io.hpp"
#include "base/syscalls.hpp"
#include "oci-spec/config.hpp"
#include "runtime/native/cgroup_placement.hpp"

namespace hippo::runtime::native {
namespace {

using os::UniqueFd;
using spec::Status;

Status status_of(const ContainerDir& dir, const StoredState& st, const cgroups::Manager& cg) {
  if (!init_alive(st)) return Status::stopped;
  if (::access(dir.fifo_path().c_str(), F_OK) == 0) return Status::created;
  if (auto frozen = cg.frozen(); frozen && *frozen) return Status::paused;
  return Status::running;
}

// Waits up to `timeout` for a process that may not be our child to exit.
bool wait_gone(const StoredState& st, std::chrono::milliseconds timeout) {
  UniqueFd pidfd(os::sys::pidfd_open(st.pid));
  if (!pidfd || !init_alive(st)) return true;
  pollfd p{pidfd.get(), POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

// The record's cgroup, unless it names none or the root: delete -f would then kill every
// process on the host. The problem is set when it is not a container's cgroup.
void judge_cgroup(Inspected& out) {
  const auto& cg = out.state->cgroup_path;
  if (cg.empty() || cg.front() != '/' || normalize_path(cg) != cg || cg == "/") {
    if (out.problem.empty()) {
      out.status = Status::corrupt;
      out.problem = "container \"" + out.dir.id() + "\": " + out.dir.path() +
                    "/state.json: cgroup_path: \"" + cg + "\" is not a container's cgroup";
    }
    return;
  }
  out.cgroup = stored_cgroup(*out.state);
}

// state.json, or cleanup.json when state.json is missing or unreadable (then corrupt).
void read_record(Inspected& out) {
  const std::string& id = out.dir.id();
  auto st = out.dir.read();
  if (st) {
    out.state = std::move(*st);
  } else if (st.error().code == ENOENT) {
    if (auto cleanup = out.dir.read_cleanup(); cleanup || cleanup.error().code != ENOENT) {
      out.status = Status::corrupt;
      out.problem = "container \"" + id + "\": " + out.dir.path() + "/state.json is missing";
      if (cleanup) out.state = std::move(*cleanup);
    }
  } else {
    out.status = Status::corrupt;
    out.problem = "container \"" + id + "\": " + st.error().message;
    if (auto cleanup = out.dir.read_cleanup()) out.state = std::move(*cleanup);
  }
}

}  // namespace

Result<Inspected> inspect_dir(ContainerDir dir) {
  Inspected out{std::move(dir), std::nullopt, nullptr, Status::incomplete, ""};
  read_record(out);
  if (out.state) judge_cgroup(out);
  if (!out.problem.empty()) return out;
  if (out.state && out.state->pid > 0) {
    out.status = status_of(out.dir, *out.state, *out.cgroup);
  } else if (!out.dir.locked()) {
    out.status = Status::creating;
  } else {
    out.status = Status::incomplete;
    out.problem = "container \"" + out.dir.id() + "\": its create did not finish (was it killed?)";
  }
  return out;
}

std::string with_hint(const Inspected& c) {
  return c.problem + "; `hippo delete -f " + c.dir.id() + "` removes what it left";
}

spec::RuntimeState to_runtime_state(const StoredState& st, Status status) {
  spec::RuntimeState out;
  out.ociVersion = std::string(spec::kOciVersion);
  out.id = st.id;
  out.pid = init_alive(st) ? st.pid : 0;
  out.status = status;
  out.bundle = st.bundle;
  out.rootfs = st.rootfs;
  out.created = st.created;
  if (!st.annotations.empty()) out.annotations = st.annotations;
  out.owner = st.owner;
  return out;
}

Result<void> end_processes(Inspected& c, std::chrono::milliseconds timeout) {
  if (c.cgroup) {
    // Every process in the cgroup's subtree in every hierarchy: an inner runtime's cgroups
    // below it, the ones it froze too (a frozen process takes SIGKILL only once thawed).
    if (auto ok = c.cgroup->kill_all(); !ok) {
      return forward(ok, "container \"" + c.dir.id() + "\"");
    }
  }
  if (!c.state || !init_alive(*c.state)) return {};
  UniqueFd pidfd(os::sys::pidfd_open(c.state->pid));
  if (pidfd && init_alive(*c.state)) os::sys::pidfd_send_signal(pidfd.get(), SIGKILL);
  if (!wait_gone(*c.state, timeout)) {
    return fail("container \"" + c.dir.id() + "\": init " + std::to_string(c.state->pid) +
                " did not exit after SIGKILL");
  }
  return {};
}

}  // namespace hippo::runtime::native
