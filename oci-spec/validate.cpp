// Semantic rules of config.json beyond JSON types: what the runtime-spec requires and what runc
// rejects. Only the first problem is reported, with its JSON path.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "oci-spec/config.hpp"
#include "oci-spec/names.hpp"

namespace hippo::spec {
namespace {

using codec::index_path;
using codec::key_path;
using codec::member_path;

std::string json_quote(std::string_view s) { return Json(std::string(s)).dump(); }

bool absolute(std::string_view p) { return !p.empty() && p.front() == '/'; }

std::optional<uint64_t> to_number(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// "0-3,5,7-8": the kernel's list format for cpuset.cpus and cpuset.mems.
bool valid_cpu_list(std::string_view list) {
  if (list.empty()) return false;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    auto item = list.substr(start, comma - start);
    auto dash = item.find('-');
    if (dash == std::string_view::npos) {
      if (!to_number(item)) return false;
    } else {
      auto lo = to_number(item.substr(0, dash));
      auto hi = to_number(item.substr(dash + 1));
      if (!lo || !hi || *lo > *hi) return false;
    }
    start = comma + 1;
  }
  return true;
}

bool valid_page_size(std::string_view s) {
  static constexpr std::string_view kUnits[] = {"KB", "MB", "GB", "TB", "PB"};
  if (s.size() < 3) return false;
  auto unit = s.substr(s.size() - 2);
  if (std::ranges::find(kUnits, unit) == std::end(kUnits)) return false;
  auto digits = to_number(s.substr(0, s.size() - 2));
  return digits && *digits > 0;
}

bool valid_ifname(std::string_view s) {
  // IFNAMSIZ is 16 with the NUL; '/' and ':' and blanks are refused by the kernel (dev_valid_name).
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  return std::ranges::none_of(s, [](char c) {
    return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c));
  });
}

class Checker {
 public:
  bool failed() const { return !reason_.empty(); }
  void fail(std::string path, std::string reason) {
    if (failed()) return;
    path_ = std::move(path);
    reason_ = std::move(reason);
  }
  Result<void> result(std::string_view label) const {
    if (!failed()) return {};
    return hippo::fail(std::string(label) + ": " + path_ + ": " + reason_);
  }

  void absolute_path(const std::string& path, std::string_view value) {
    if (!absolute(value)) fail(path, "must be an absolute path, got " + json_quote(value));
  }
  void known_name(const std::string& path, std::span<const names::Entry> table,
                  std::string_view value, std::string_view what) {
    if (!names::known(table, value)) {
      fail(path, "unknown " + std::string(what) + " " + json_quote(value));
    }
  }
  template <class T>
  void in_range(const std::string& path, const std::optional<T>& v, long long lo, long long hi) {
    if (v && (static_cast<long long>(*v) < lo || static_cast<long long>(*v) > hi)) {
      fail(path, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
                     std::to_string(*v));
    }
  }

 private:
  std::string path_;
  std::string reason_;
};

struct NamespaceSet {
  std::set<std::string> types;
  bool has(std::string_view t) const { return types.contains(std::string(t)); }
};

NamespaceSet collect_namespaces(const Spec& s) {
  NamespaceSet set;
  if (s.linux && s.linux->namespaces) {
    for (const auto& ns : *s.linux->namespaces) set.types.insert(ns.type);
  }
  return set;
}

void check_version(Checker& c, const std::string& version) {
  // Semantic version "MAJOR.MINOR.PATCH[-pre][+build]"; only major 1 exists and is readable here.
  auto core = std::string_view(version).substr(0, version.find_first_of("-+"));
  auto dot1 = core.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : core.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || !to_number(core.substr(0, dot1)) ||
      !to_number(core.substr(dot1 + 1, dot2 - dot1 - 1)) || !to_number(core.substr(dot2 + 1))) {
    return c.fail("ociVersion", json_quote(version) + " is not a semantic version like \"1.2.0\"");
  }
  if (*to_number(core.substr(0, dot1)) != 1) {
    c.fail("ociVersion", "unsupported version " + json_quote(version) + " (hippo reads 1.x, " +
                             std::string(kOciVersionMin) + " to " + std::string(kOciVersionMax) +
                             ")");
  }
}

void check_id_mappings(Checker& c, const std::string& path,
                       const std::optional<std::vector<IdMapping>>& maps) {
  if (!maps) return;
  for (size_t i = 0; i < maps->size(); ++i) {
    const auto& m = (*maps)[i];
    const auto at = index_path(path, i);
    if (m.size == 0) c.fail(member_path(at, "size"), "must be > 0");
    if (uint64_t{m.hostID} + m.size > (uint64_t{1} << 32)) {
      c.fail(at, "hostID + size exceeds the 32-bit id range");
    }
    if (uint64_t{m.containerID} + m.size > (uint64_t{1} << 32)) {
      c.fail(at, "containerID + size exceeds the 32-bit id range");
    }
  }
  // The kernel refuses a map whose lines overlap on either side (EINVAL on writing uid_map):
  // say which lines do, before anything is created.
  auto range = [](uint64_t first, uint64_t size) {
    return std::to_string(first) + "-" + std::to_string(first + size - 1);
  };
  for (size_t j = 1; j < maps->size(); ++j) {
    const auto& b = (*maps)[j];
    for (size_t i = 0; i < j; ++i) {
      const auto& a = (*maps)[i];
      if (a.size == 0 || b.size == 0) continue;
      auto overlap = [](uint64_t x, uint64_t xs, uint64_t y, uint64_t ys) {
        return x < y + ys && y < x + xs;
      };
      if (overlap(a.containerID, a.size, b.containerID, b.size)) {
        c.fail(index_path(path, j), "container ids " + range(b.containerID, b.size) +
                                        " overlap those of " + index_path(path, i) + " (" +
                                        range(a.containerID, a.size) + ")");
      } else if (overlap(a.hostID, a.size, b.hostID, b.size)) {
        c.fail(index_path(path, j), "host ids " + range(b.hostID, b.size) + " overlap those of " +
                                        index_path(path, i) + " (" + range(a.hostID, a.size) + ")");
      }
    }
  }
}

void check_env(Checker& c, const std::string& path, const std::optional<Strings>& env) {
  if (!env) return;
  for (size_t i = 0; i < env->size(); ++i) {
    const auto& kv = (*env)[i];
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      c.fail(index_path(path, i), json_quote(kv) + " is not of the form KEY=VALUE");
    } else if (eq == 0) {
      c.fail(index_path(path, i), json_quote(kv) + " has an empty variable name");
    }
  }
}

void check_process(Checker& c, const Process& p) {
  if (!p.args || p.args->empty()) c.fail("process.args", "must contain at least the program");
  c.absolute_path("process.cwd", p.cwd);
  check_env(c, "process.env", p.env);
  if (p.user.umask && *p.user.umask > 0777) {
    c.fail("process.user.umask", "must be at most 0777, got " + std::to_string(*p.user.umask));
  }
  if (p.capabilities) {
    const auto& caps = *p.capabilities;
    const std::pair<const char*, const std::optional<Strings>*> sets[] = {
        {"bounding", &caps.bounding},
        {"effective", &caps.effective},
        {"inheritable", &caps.inheritable},
        {"permitted", &caps.permitted},
        {"ambient", &caps.ambient}};
    for (const auto& [name, set] : sets) {
      if (!*set) continue;
      for (size_t i = 0; i < (*set)->size(); ++i) {
        c.known_name(index_path(member_path("process.capabilities", name), i),
                     names::capabilities(), (**set)[i], "capability");
      }
    }
  }
  if (p.rlimits) {
    std::set<std::string> seen;
    for (size_t i = 0; i < p.rlimits->size(); ++i) {
      const auto& r = (*p.rlimits)[i];
      const auto at = index_path("process.rlimits", i);
      c.known_name(member_path(at, "type"), names::rlimits(), r.type, "rlimit");
      if (!seen.insert(r.type).second) {
        c.fail(member_path(at, "type"), "duplicate rlimit " + json_quote(r.type));
      }
      if (r.soft > r.hard) {
        c.fail(at, "soft limit " + std::to_string(r.soft) + " exceeds hard limit " +
                       std::to_string(r.hard));
      }
    }
  }
  c.in_range("process.oomScoreAdj", p.oomScoreAdj, -1000, 1000);
  if (p.scheduler) {
    const auto& s = *p.scheduler;
    c.known_name("process.scheduler.policy", names::scheduler_policies(), s.policy,
                 "scheduler policy");
    c.in_range("process.scheduler.nice", s.nice, -20, 19);
    if (s.flags) {
      for (size_t i = 0; i < s.flags->size(); ++i) {
        c.known_name(index_path("process.scheduler.flags", i), names::scheduler_flags(),
                     (*s.flags)[i], "scheduler flag");
      }
    }
    const bool realtime = s.policy == "SCHED_FIFO" || s.policy == "SCHED_RR";
    if (realtime) {
      c.in_range("process.scheduler.priority", s.priority, 1, 99);
    } else if (s.priority && *s.priority != 0) {
      c.fail("process.scheduler.priority", "can only be set for SCHED_FIFO and SCHED_RR");
    }
  }
  if (p.ioPriority) {
    c.known_name("process.ioPriority.class", names::ioprio_classes(), p.ioPriority->ioClass,
                 "I/O priority class");
    c.in_range("process.ioPriority.priority", p.ioPriority->priority, 0, 7);
  }
  if (p.execCPUAffinity) {
    for (const auto& [name, v] : {std::pair{"initial", &p.execCPUAffinity->initial},
                                  std::pair{"final", &p.execCPUAffinity->final}}) {
      if (*v && !valid_cpu_list(**v)) {
        c.fail(member_path("process.execCPUAffinity", name), "invalid CPU list " + json_quote(**v));
      }
    }
  }
}

void check_mounts(Checker& c, const std::vector<Mount>& mounts) {
  for (size_t i = 0; i < mounts.size(); ++i) {
    const auto& m = mounts[i];
    const auto at = index_path("mounts", i);
    c.absolute_path(member_path(at, "destination"), m.destination);
    if (m.uidMappings.has_value() != m.gidMappings.has_value()) {
      c.fail(at, "an idmapped mount needs both uidMappings and gidMappings");
    }
    check_id_mappings(c, member_path(at, "uidMappings"), m.uidMappings);
    check_id_mappings(c, member_path(at, "gidMappings"), m.gidMappings);
  }
}

void check_hooks(Checker& c, const Hooks& hooks) {
  const std::pair<const char*, const std::optional<std::vector<Hook>>*> kinds[] = {
      {"prestart", &hooks.prestart},
      {"createRuntime", &hooks.createRuntime},
      {"createContainer", &hooks.createContainer},
      {"startContainer", &hooks.startContainer},
      {"poststart", &hooks.poststart},
      {"poststop", &hooks.poststop}};
  for (const auto& [kind, list] : kinds) {
    if (!*list) continue;
    for (size_t i = 0; i < (*list)->size(); ++i) {
      const auto& h = (**list)[i];
      const auto at = index_path(member_path("hooks", kind), i);
      c.absolute_path(member_path(at, "path"), h.path);
      check_env(c, member_path(at, "env"), h.env);
      if (h.timeout && *h.timeout <= 0) {
        c.fail(member_path(at, "timeout"),
               "must be > 0 seconds, got " + std::to_string(*h.timeout));
      }
    }
  }
}

void check_namespaces(Checker& c, const Linux& l) {
  if (!l.namespaces) return;
  std::set<std::string> seen;
  for (size_t i = 0; i < l.namespaces->size(); ++i) {
    const auto& ns = (*l.namespaces)[i];
    const auto at = index_path("linux.namespaces", i);
    c.known_name(member_path(at, "type"), names::namespaces(), ns.type, "namespace");
    if (!seen.insert(ns.type).second) {
      c.fail(member_path(at, "type"), "duplicate namespace " + json_quote(ns.type));
    }
    if (ns.path) c.absolute_path(member_path(at, "path"), *ns.path);
  }
}

void check_user_namespace(Checker& c, const Linux& l, const NamespaceSet& ns) {
  check_id_mappings(c, "linux.uidMappings", l.uidMappings);
  check_id_mappings(c, "linux.gidMappings", l.gidMappings);
  const bool maps =
      (l.uidMappings && !l.uidMappings->empty()) || (l.gidMappings && !l.gidMappings->empty());
  if (maps && !ns.has("user")) {
    c.fail(l.uidMappings ? "linux.uidMappings" : "linux.gidMappings",
           "id mappings need a user namespace in linux.namespaces");
  }
  if (!ns.has("user") || !l.namespaces) return;
  auto user = std::ranges::find(*l.namespaces, std::string("user"), &Namespace::type);
  if (user->path) return;  // joining an existing user namespace: its maps are already written
  if (!l.uidMappings || l.uidMappings->empty()) {
    c.fail("linux.uidMappings", "a new user namespace needs at least one uid mapping");
  } else if (!l.gidMappings || l.gidMappings->empty()) {
    c.fail("linux.gidMappings", "a new user namespace needs at least one gid mapping");
  }
}

void check_devices(Checker& c, const std::vector<Device>& devices) {
  for (size_t i = 0; i < devices.size(); ++i) {
    const auto& d = devices[i];
    const auto at = index_path("linux.devices", i);
    if (d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p") {
      c.fail(member_path(at, "type"), "unknown device type " + json_quote(d.type) +
                                          " (expected \"c\", \"b\", \"u\" or \"p\")");
    }
    c.absolute_path(member_path(at, "path"), d.path);
    if (d.type != "p" && (!d.major || !d.minor)) {
      c.fail(at, "a " + json_quote(d.type) + " device needs major and minor numbers");
    }
    if (d.fileMode && *d.fileMode > 07777) {
      c.fail(member_path(at, "fileMode"), "permission bits must be at most 07777");
    }
  }
}

void check_memory(Checker& c, const Memory& m) {
  const std::string base = "linux.resources.memory";
  // -1 is "unlimited"; 0 means "leave unset", as runc treats it.
  for (const auto& [name, v] :
       {std::pair{"limit", &m.limit}, std::pair{"reservation", &m.reservation},
        std::pair{"swap", &m.swap}, std::pair{"kernel", &m.kernel},
        std::pair{"kernelTCP", &m.kernelTCP}}) {
    if (*v && **v < -1) {
      c.fail(member_path(base, name),
             "must be -1 (unlimited) or a number of bytes, got " + std::to_string(**v));
    }
  }
  if (m.limit && m.swap && *m.limit > 0 && *m.swap > 0 && *m.swap < *m.limit) {
    c.fail(member_path(base, "swap"), "memory+swap limit " + std::to_string(*m.swap) +
                                          " is below the memory limit " + std::to_string(*m.limit));
  }
  c.in_range(member_path(base, "swappiness"), m.swappiness, 0, 100);
}

void check_cpu(Checker& c, const Cpu& cpu) {
  const std::string base = "linux.resources.cpu";
  if (cpu.shares && *cpu.shares != 0)
    c.in_range(member_path(base, "shares"), cpu.shares, 2, 262144);
  if (cpu.period && *cpu.period != 0) {
    c.in_range(member_path(base, "period"), cpu.period, 1000, 1000000);  // CFS: 1 ms to 1 s
  }
  if (cpu.quota && (*cpu.quota < -1 || (*cpu.quota > 0 && *cpu.quota < 1000))) {
    c.fail(
        member_path(base, "quota"),
        "must be -1 (unlimited) or at least 1000 microseconds, got " + std::to_string(*cpu.quota));
  }
  if (cpu.cpus && !cpu.cpus->empty() && !valid_cpu_list(*cpu.cpus)) {
    c.fail(member_path(base, "cpus"), "invalid CPU list " + json_quote(*cpu.cpus));
  }
  if (cpu.mems && !cpu.mems->empty() && !valid_cpu_list(*cpu.mems)) {
    c.fail(member_path(base, "mems"), "invalid memory node list " + json_quote(*cpu.mems));
  }
  c.in_range(member_path(base, "idle"), cpu.idle, 0, 1);
}

void check_block_io(Checker& c, const BlockIO& b) {
  const std::string base = "linux.resources.blockIO";
  auto weight = [&](const std::string& path, const std::optional<uint16_t>& w) {
    if (w && *w != 0) c.in_range(path, w, 10, 1000);
  };
  weight(member_path(base, "weight"), b.weight);
  weight(member_path(base, "leafWeight"), b.leafWeight);
  if (b.weightDevice) {
    for (size_t i = 0; i < b.weightDevice->size(); ++i) {
      const auto at = index_path(member_path(base, "weightDevice"), i);
      weight(member_path(at, "weight"), (*b.weightDevice)[i].weight);
      weight(member_path(at, "leafWeight"), (*b.weightDevice)[i].leafWeight);
    }
  }
}

void check_resources(Checker& c, const Resources& r) {
  if (r.devices) {
    for (size_t i = 0; i < r.devices->size(); ++i) {
      const auto& d = (*r.devices)[i];
      const auto at = index_path("linux.resources.devices", i);
      if (d.type && *d.type != "a" && *d.type != "c" && *d.type != "b") {
        c.fail(member_path(at, "type"),
               "unknown device type " + json_quote(*d.type) + " (expected \"a\", \"c\" or \"b\")");
      }
      // runc's rule: r, w, m in any order, repeats allowed, never empty (absent is empty).
      if (!d.access || d.access->empty()) {
        c.fail(member_path(at, "access"), "must not be empty (letters r, w, m)");
      } else if (!std::ranges::all_of(
                     *d.access, [](char ch) { return ch == 'r' || ch == 'w' || ch == 'm'; })) {
        c.fail(member_path(at, "access"),
               "invalid access " + json_quote(*d.access) + " (letters r, w, m only)");
      }
    }
  }
  if (r.memory) check_memory(c, *r.memory);
  if (r.cpu) check_cpu(c, *r.cpu);
  if (r.pids && r.pids->limit < -1) {
    c.fail("linux.resources.pids.limit",
           "must be -1 (unlimited) or a number of tasks, got " + std::to_string(r.pids->limit));
  }
  if (r.blockIO) check_block_io(c, *r.blockIO);
  if (r.hugepageLimits) {
    for (size_t i = 0; i < r.hugepageLimits->size(); ++i) {
      const auto& page = (*r.hugepageLimits)[i].pageSize;
      if (!valid_page_size(page)) {
        c.fail(
            member_path(index_path("linux.resources.hugepageLimits", i), "pageSize"),
            "invalid page size " + json_quote(page) + " (expected a size like \"2MB\" or \"1GB\")");
      }
    }
  }
  if (r.unified) {
    for (const auto& [key, value] : *r.unified) {
      auto dot = key.find('.');
      if (key.find('/') != std::string::npos || dot == std::string::npos || dot == 0 ||
          dot + 1 == key.size()) {
        c.fail(key_path("linux.resources.unified", key),
               "not a cgroup v2 interface file name like \"memory.high\"");
      }
    }
  }
}

// runc's rule: a sysctl may be set only if its kernel namespace is the container's own.
void check_sysctl(Checker& c, const StringMap& sysctl, const NamespaceSet& ns) {
  static constexpr std::string_view kIpc[] = {
      "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
      "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
  for (const auto& [key, value] : sysctl) {
    const auto at = key_path("linux.sysctl", key);
    const bool ipc =
        std::ranges::find(kIpc, key) != std::end(kIpc) || key.starts_with("fs.mqueue.");
    if (ipc) {
      if (!ns.has("ipc")) c.fail(at, "needs an ipc namespace of the container's own");
    } else if (key.starts_with("net.")) {
      if (!ns.has("network")) c.fail(at, "needs a network namespace of the container's own");
    } else if (key == "kernel.hostname" || key == "kernel.domainname") {
      if (!ns.has("uts")) c.fail(at, "needs a uts namespace of the container's own");
    } else {
      c.fail(at, "not a namespaced sysctl: setting it would change the host");
    }
  }
}

void check_seccomp(Checker& c, const Seccomp& s) {
  const std::string base = "linux.seccomp";
  c.known_name(member_path(base, "defaultAction"), names::seccomp_actions(), s.defaultAction,
               "seccomp action");
  if (s.defaultAction == "SCMP_ACT_NOTIFY") {
    c.fail(member_path(base, "defaultAction"), "SCMP_ACT_NOTIFY cannot be the default action");
  }
  bool notify = false;
  if (s.architectures) {
    for (size_t i = 0; i < s.architectures->size(); ++i) {
      c.known_name(index_path(member_path(base, "architectures"), i), names::seccomp_archs(),
                   (*s.architectures)[i], "seccomp architecture");
    }
  }
  if (s.flags) {
    for (size_t i = 0; i < s.flags->size(); ++i) {
      c.known_name(index_path(member_path(base, "flags"), i), names::seccomp_flags(), (*s.flags)[i],
                   "seccomp flag");
    }
  }
  if (s.syscalls) {
    for (size_t i = 0; i < s.syscalls->size(); ++i) {
      const auto& sc = (*s.syscalls)[i];
      const auto at = index_path(member_path(base, "syscalls"), i);
      if (sc.names.empty()) c.fail(member_path(at, "names"), "must name at least one syscall");
      for (size_t n = 0; n < sc.names.size(); ++n) {
        if (sc.names[n].empty())
          c.fail(index_path(member_path(at, "names"), n), "empty syscall name");
      }
      c.known_name(member_path(at, "action"), names::seccomp_actions(), sc.action,
                   "seccomp action");
      notify = notify || sc.action == "SCMP_ACT_NOTIFY";
      // runc refuses it too: init hands the listener over by a write, and an agent that logs
      // through notified writes would wait on itself.
      if (sc.action == "SCMP_ACT_NOTIFY" && std::ranges::count(sc.names, "write") > 0)
        c.fail(member_path(at, "names"), "SCMP_ACT_NOTIFY cannot be used for the write syscall");
      if (!sc.args) continue;
      for (size_t a = 0; a < sc.args->size(); ++a) {
        const auto& arg = (*sc.args)[a];
        const auto arg_at = index_path(member_path(at, "args"), a);
        if (arg.index > 5) {
          c.fail(member_path(arg_at, "index"),
                 "a syscall has arguments 0 to 5, got " + std::to_string(arg.index));
        }
        c.known_name(member_path(arg_at, "op"), names::seccomp_operators(), arg.op,
                     "seccomp operator");
      }
    }
  }
  if (notify && (!s.listenerPath || s.listenerPath->empty())) {
    c.fail(member_path(base, "listenerPath"), "SCMP_ACT_NOTIFY needs a listenerPath");
  }
  if (s.listenerPath && !s.listenerPath->empty()) {
    c.absolute_path(member_path(base, "listenerPath"), *s.listenerPath);
  }
}

void check_linux(Checker& c, const Linux& l, const NamespaceSet& ns) {
  check_namespaces(c, l);
  check_user_namespace(c, l, ns);
  if (l.timeOffsets) {
    if (!ns.has("time")) c.fail("linux.timeOffsets", "needs a time namespace in linux.namespaces");
    for (const auto& [clock, offset] : *l.timeOffsets) {
      const auto at = key_path("linux.timeOffsets", clock);
      c.known_name(at, names::time_clocks(), clock,
                   "clock (expected \"monotonic\" or \"boottime\")");
      if (offset.nanosecs && *offset.nanosecs >= 1000000000u) {
        c.fail(member_path(at, "nanosecs"), "must be below 1000000000");
      }
    }
  }
  if (l.devices) check_devices(c, *l.devices);
  if (l.resources) check_resources(c, *l.resources);
  if (l.rootfsPropagation && !l.rootfsPropagation->empty()) {
    c.known_name("linux.rootfsPropagation", names::rootfs_propagations(), *l.rootfsPropagation,
                 "propagation");
  }
  if (l.seccomp) check_seccomp(c, *l.seccomp);
  if (l.sysctl) check_sysctl(c, *l.sysctl, ns);
  for (const auto& [name, list] : {std::pair{"linux.maskedPaths", &l.maskedPaths},
                                   std::pair{"linux.readonlyPaths", &l.readonlyPaths}}) {
    if (!*list) continue;
    for (size_t i = 0; i < (*list)->size(); ++i) c.absolute_path(index_path(name, i), (**list)[i]);
  }
  if (l.intelRdt && l.intelRdt->closID) {
    const auto& id = *l.intelRdt->closID;
    if (id.empty() || id == "." || id == ".." || id.find('/') != std::string::npos) {
      c.fail("linux.intelRdt.closID", "invalid resctrl group name " + json_quote(id));
    }
  }
  if (l.personality) {
    c.known_name("linux.personality.domain", names::personality_domains(), l.personality->domain,
                 "personality domain");
  }
  if (l.netDevices) {
    for (const auto& [host_name, dev] : *l.netDevices) {
      const auto at = key_path("linux.netDevices", host_name);
      if (!valid_ifname(host_name))
        c.fail(at, "invalid network interface name " + json_quote(host_name));
      if (dev.name && !valid_ifname(*dev.name)) {
        c.fail(member_path(at, "name"), "invalid network interface name " + json_quote(*dev.name));
      }
    }
  }
}

}  // namespace

Result<void> validate(const Spec& s, std::string_view label) {
  Checker c;
  check_version(c, s.ociVersion);
  if (!s.root) {
    c.fail("root", "required on Linux: the container's root filesystem");
  } else if (s.root->path.empty()) {
    c.fail("root.path", "must not be empty");
  }
  if (s.process) check_process(c, *s.process);
  const auto ns = collect_namespaces(s);
  if (s.hostname && !s.hostname->empty() && !ns.has("uts")) {
    c.fail("hostname", "setting a hostname needs a uts namespace in linux.namespaces");
  }
  if (s.domainname && !s.domainname->empty() && !ns.has("uts")) {
    c.fail("domainname", "setting a domainname needs a uts namespace in linux.namespaces");
  }
  if (s.mounts) check_mounts(c, *s.mounts);
  if (s.hooks) check_hooks(c, *s.hooks);
  if (s.linux) check_linux(c, *s.linux, ns);
  return c.result(label);
}

}  // namespace hippo::spec
