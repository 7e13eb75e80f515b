#include "runtime/cgroups/systemd_bus.hpp"

#include <dlfcn.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <cstdlib>
#include <map>

namespace hippo::cgroups {
namespace {

constexpr const char* kService = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";

// The sd-bus functions we use, resolved from libsystemd.so.0 once per process.
struct SdBus {
// clang-format off
#define HIPPO_SD_BUS_FUNCTIONS(X)                                                    \
  X(sd_bus_open_system) X(sd_bus_flush_close_unref) X(sd_bus_call_method)            \
  X(sd_bus_message_new_method_call) X(sd_bus_message_unref) X(sd_bus_call)           \
  X(sd_bus_message_append) X(sd_bus_message_append_array) X(sd_bus_message_read)     \
  X(sd_bus_message_open_container) X(sd_bus_message_close_container)                 \
  X(sd_bus_error_free) X(sd_bus_match_signal) X(sd_bus_slot_unref) X(sd_bus_process) \
  X(sd_bus_wait) X(sd_bus_get_property_string)
// clang-format on
#define HIPPO_DECLARE(name) decltype(&::name) name = nullptr;
  HIPPO_SD_BUS_FUNCTIONS(HIPPO_DECLARE)
#undef HIPPO_DECLARE
  std::string error;  // why loading failed; empty when every function is there
};

const SdBus& sd() {
  static const SdBus loaded = [] {
    SdBus l;
    void* lib = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      l.error = std::string("load libsystemd.so.0 (package libsystemd0): ") + ::dlerror();
      return l;
    }
#define HIPPO_RESOLVE(name)                                         \
  l.name = reinterpret_cast<decltype(l.name)>(::dlsym(lib, #name)); \
  if (!l.name && l.error.empty()) l.error = "libsystemd.so.0 lacks " #name;
    HIPPO_SD_BUS_FUNCTIONS(HIPPO_RESOLVE)
#undef HIPPO_RESOLVE
    return l;  // the library stays loaded for the life of the process
  }();
  return loaded;
}

// An sd_bus_error freed on scope exit.
struct BusError {
  sd_bus_error e{};  // SD_BUS_ERROR_NULL, without its C99 compound literal
  ~BusError() { sd().sd_bus_error_free(&e); }
  bool is(const char* name) const { return e.name && std::string_view(e.name) == name; }
};

struct MessageDeleter {
  void operator()(sd_bus_message* m) const { sd().sd_bus_message_unref(m); }
};
using Message = std::unique_ptr<sd_bus_message, MessageDeleter>;

struct SlotDeleter {
  void operator()(sd_bus_slot* s) const { sd().sd_bus_slot_unref(s); }
};
using Slot = std::unique_ptr<sd_bus_slot, SlotDeleter>;

// "what: <D-Bus error message>" with an errno a caller can branch on.
Error bus_error(const std::string& what, const BusError& err, int r) {
  int code = r < 0 ? -r : EIO;
  if (err.is("org.freedesktop.systemd1.UnitExists")) code = EEXIST;
  if (err.is("org.freedesktop.systemd1.NoSuchUnit")) code = ENOENT;
  std::string detail = err.e.message ? err.e.message : std::strerror(code);
  return Error{code, what + ": " + detail};
}

Result<void> check(int r, const std::string& what) {
  if (r < 0) return fail_errno(what, -r);
  return {};
}

Result<void> append_value(sd_bus_message* m, const PropertyValue& value) {
  const auto& b = sd();
  const std::string sig(signature_of(value));
  int r = b.sd_bus_message_open_container(m, 'v', sig.c_str());
  if (r >= 0) {
    r = std::visit(
        [&](const auto& v) -> int {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, bool>) {
            return b.sd_bus_message_append(m, "b", static_cast<int>(v));
          } else if constexpr (std::is_same_v<T, std::string>) {
            return b.sd_bus_message_append(m, "s", v.c_str());
          } else if constexpr (std::is_same_v<T, std::vector<uint32_t>>) {
            return b.sd_bus_message_append_array(m, 'u', v.data(), v.size() * sizeof(uint32_t));
          } else if constexpr (std::is_same_v<T, std::vector<uint8_t>>) {
            return b.sd_bus_message_append_array(m, 'y', v.data(), v.size());
          } else if constexpr (std::is_same_v<T, std::vector<DeviceAllow>>) {
            int rr = b.sd_bus_message_open_container(m, 'a', "(ss)");
            for (size_t i = 0; rr >= 0 && i < v.size(); ++i) {
              rr = b.sd_bus_message_append(m, "(ss)", v[i].path.c_str(), v[i].access.c_str());
            }
            return rr < 0 ? rr : b.sd_bus_message_close_container(m);
          } else {
            return b.sd_bus_message_append(m, sig.c_str(), v);
          }
        },
        value);
  }
  if (r >= 0) r = b.sd_bus_message_close_container(m);
  return check(r, "encode a unit property");
}

// a(sv)
Result<void> append_properties(sd_bus_message* m, const std::vector<Property>& properties) {
  const auto& b = sd();
  if (auto ok = check(b.sd_bus_message_open_container(m, 'a', "(sv)"), "encode unit properties");
      !ok) {
    return ok;
  }
  for (const auto& p : properties) {
    int r = b.sd_bus_message_open_container(m, 'r', "sv");
    if (r >= 0) r = b.sd_bus_message_append(m, "s", p.name.c_str());
    if (auto ok = check(r, "encode unit property " + p.name); !ok) return ok;
    if (auto ok = append_value(m, p.value); !ok) return std::unexpected(ok.error().context(p.name));
    if (auto ok = check(b.sd_bus_message_close_container(m), "encode unit property " + p.name);
        !ok) {
      return ok;
    }
  }
  return check(b.sd_bus_message_close_container(m), "encode unit properties");
}

}  // namespace

struct SystemdConnection::State {
  sd_bus* bus = nullptr;
  Slot job_removed;
  std::map<std::string, std::string> finished_jobs;  // job object path -> result

  ~State() {
    job_removed.reset();
    if (bus) sd().sd_bus_flush_close_unref(bus);
  }

  static int on_job_removed(sd_bus_message* m, void* self, sd_bus_error*) {
    uint32_t id = 0;
    const char *job = nullptr, *unit = nullptr, *result = nullptr;
    if (sd().sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) >= 0 && job && result) {
      static_cast<State*>(self)->finished_jobs[job] = result;
    }
    return 0;
  }

  Result<Message> new_call(const char* method) {
    sd_bus_message* m = nullptr;
    const int r = sd().sd_bus_message_new_method_call(bus, &m, kService, kPath, kManager, method);
    if (r < 0) return fail_errno(std::string("systemd ") + method + ": new message", -r);
    return Message(m);
  }

  Result<Message> call(sd_bus_message* m, const std::string& what) {
    BusError err;
    sd_bus_message* reply = nullptr;
    const int r = sd().sd_bus_call(bus, m, 0, &err.e, &reply);
    if (r < 0) return std::unexpected(bus_error(what, err, r));
    return Message(reply);
  }

  // A reply carrying the job's object path; waits for that job to be removed.
  Result<void> wait_job(Message reply, const std::string& what, std::chrono::milliseconds timeout) {
    const char* path = nullptr;
    if (auto ok = check(sd().sd_bus_message_read(reply.get(), "o", &path), what + ": read job");
        !ok) {
      return ok;
    }
    const std::string job = path;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto it = finished_jobs.find(job); it != finished_jobs.end()) {
        const std::string result = it->second;
        finished_jobs.erase(it);
        if (result == "done") return {};
        return fail(what + ": systemd job " + job + " ended with result \"" + result + "\"", EIO);
      }
      const int r = sd().sd_bus_process(bus, nullptr);
      if (r < 0) return fail_errno(what + ": read from the system bus", -r);
      if (r > 0) continue;  // more may be queued
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) {
        return fail(what + ": no result for systemd job " + job + " within " +
                        std::to_string(timeout.count() / 1000) + " s",
                    ETIMEDOUT);
      }
      const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(left).count();
      if (const int w = sd().sd_bus_wait(bus, static_cast<uint64_t>(usec)); w < 0 && w != -EINTR) {
        return fail_errno(what + ": wait on the system bus", -w);
      }
    }
  }
};

SystemdConnection::SystemdConnection(std::unique_ptr<State> state) : s_(std::move(state)) {}
SystemdConnection::SystemdConnection(SystemdConnection&&) noexcept = default;
SystemdConnection& SystemdConnection::operator=(SystemdConnection&&) noexcept = default;
SystemdConnection::~SystemdConnection() = default;

Result<SystemdConnection> SystemdConnection::open() {
  const auto& b = sd();
  if (!b.error.empty()) return fail(ErrorKind::unavailable, "systemd cgroup driver: " + b.error);
  auto state = std::make_unique<State>();
  if (const int r = b.sd_bus_open_system(&state->bus); r < 0) {
    return fail_errno("systemd cgroup driver: connect to the system bus", -r);
  }
  // The match goes in before any job is started, so that no JobRemoved can be missed.
  sd_bus_slot* slot = nullptr;
  if (const int r = b.sd_bus_match_signal(state->bus, &slot, kService, kPath, kManager,
                                          "JobRemoved", &State::on_job_removed, state.get());
      r < 0) {
    return fail_errno("systemd cgroup driver: watch JobRemoved", -r);
  }
  state->job_removed.reset(slot);
  BusError err;
  sd_bus_message* reply = nullptr;
  if (const int r = b.sd_bus_call_method(state->bus, kService, kPath, kManager, "Subscribe", &err.e,
                                         &reply, "");
      r < 0) {
    return std::unexpected(bus_error("systemd cgroup driver: subscribe to systemd", err, r));
  }
  Message(reply).reset();
  return SystemdConnection(std::move(state));
}

Result<int> SystemdConnection::version() {
  BusError err;
  char* text = nullptr;
  const int r =
      sd().sd_bus_get_property_string(s_->bus, kService, kPath, kManager, "Version", &err.e, &text);
  if (r < 0) return std::unexpected(bus_error("systemd: read Version", err, r));
  const std::unique_ptr<char, decltype(&std::free)> owned(text, &std::free);
  return std::atoi(text);  // "252.39-1~deb12u2" -> 252; "v253" would read 0: oldest features
}

Result<void> SystemdConnection::start_transient_unit(const std::string& name,
                                                     const std::vector<Property>& properties,
                                                     std::chrono::milliseconds timeout) {
  const std::string what = "systemd: start " + name;
  auto m = s_->new_call("StartTransientUnit");
  if (!m) return std::unexpected(m.error());
  if (auto ok = check(sd().sd_bus_message_append(m->get(), "ss", name.c_str(), "replace"), what);
      !ok) {
    return ok;
  }
  if (auto ok = append_properties(m->get(), properties); !ok) {
    return std::unexpected(ok.error().context(what));
  }
  // No auxiliary units: a(sa(sv)) empty.
  if (auto ok = check(sd().sd_bus_message_append(m->get(), "a(sa(sv))", 0), what); !ok) return ok;
  auto reply = s_->call(m->get(), what);
  if (!reply) return std::unexpected(reply.error());
  return s_->wait_job(std::move(*reply), what, timeout);
}

Result<void> SystemdConnection::set_unit_properties(const std::string& name,
                                                    const std::vector<Property>& properties) {
  const std::string what = "systemd: set properties of " + name;
  auto m = s_->new_call("SetUnitProperties");
  if (!m) return std::unexpected(m.error());
  if (auto ok = check(sd().sd_bus_message_append(m->get(), "sb", name.c_str(), 1), what); !ok) {
    return ok;
  }
  if (auto ok = append_properties(m->get(), properties); !ok) {
    return std::unexpected(ok.error().context(what));
  }
  auto reply = s_->call(m->get(), what);
  if (!reply) return std::unexpected(reply.error());
  return {};
}

Result<void> SystemdConnection::stop_unit(const std::string& name,
                                          std::chrono::milliseconds timeout) {
  const std::string what = "systemd: stop " + name;
  auto m = s_->new_call("StopUnit");
  if (!m) return std::unexpected(m.error());
  if (auto ok = check(sd().sd_bus_message_append(m->get(), "ss", name.c_str(), "replace"), what);
      !ok) {
    return ok;
  }
  auto reply = s_->call(m->get(), what);
  if (!reply) {
    if (reply.error().code == ENOENT) return {};
    return std::unexpected(reply.error());
  }
  return s_->wait_job(std::move(*reply), what, timeout);
}

Result<void> SystemdConnection::reset_failed_unit(const std::string& name) {
  const std::string what = "systemd: reset-failed " + name;
  auto m = s_->new_call("ResetFailedUnit");
  if (!m) return std::unexpected(m.error());
  if (auto ok = check(sd().sd_bus_message_append(m->get(), "s", name.c_str()), what); !ok)
    return ok;
  auto reply = s_->call(m->get(), what);
  if (!reply && reply.error().code != ENOENT) return std::unexpected(reply.error());
  return {};
}

bool systemd_available() {
  if (::access("/run/systemd/system", F_OK) != 0) return false;
  auto c = SystemdConnection::open();
  return c && c->version().has_value();
}

}  // namespace hippo::cgroups
