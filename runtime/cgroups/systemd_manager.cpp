#include "runtime/cgroups/systemd_manager.hpp"

#include <unistd.h>

#include <array>
#include <charconv>
#include <optional>

#include "runtime/cgroups/cgroup_files.hpp"
#include "runtime/cgroups/fs_manager.hpp"
#include "runtime/cgroups/systemd_bus.hpp"

namespace hippo::cgroups {
namespace {

class SystemdManager final : public Manager {
 public:
  SystemdManager(SystemdScope scope, const std::string& root)
      : scope_(std::move(scope)),
        version_(detect_fs_version(root)),
        fs_(make_fs_manager({scope_.cgroup}, root, version_)) {}

  Result<void> create(const spec::Resources& resources) override {
    // Everything that can be refused is refused here, before the init exists.
    auto features = connect();
    if (!features) return std::unexpected(features.error());
    auto properties = resource_properties(resources, *features, true, &proc_devices_name);
    if (!properties) return std::unexpected(properties.error());
    const auto files = file_resources(resources);
    auto checked = version_ == FsVersion::v2 ? v2_writes(files) : v1_writes(files);
    if (!checked) return std::unexpected(checked.error());
    resources_ = resources;
    start_properties_ = std::move(*properties);
    return {};
  }

  Result<void> attach(pid_t pid) override {
    if (!resources_ || started_) return fs_->attach(pid);  // an exec joins the running unit
    if (auto ok = start_unit(pid); !ok) return ok;
    started_ = true;
    if (version_ == FsVersion::v2) {
      // systemd placed the pid; the files carry what its properties do not.
      return fs_->update(file_resources(*resources_));
    }
    // v1: systemd made the cgroups of the controllers it manages; freezer, cpuset, hugetlb …
    // are made here under the same path, and the pid joins them before it may exec.
    if (auto ok = fs_->create(file_resources(*resources_)); !ok) return ok;
    return fs_->attach(pid);
  }

  Result<void> update(const spec::Resources& resources) override {
    auto features = connect();
    if (!features) return std::unexpected(features.error());
    spec::Resources r = resources;
    if (auto ok = complete_cpu_quota(r); !ok) return ok;
    auto properties = resource_properties(r, *features, false, &proc_devices_name);
    if (!properties) return std::unexpected(properties.error());
    // systemd rewrites a device list whole (v1: "deny a", then its allows; v2: a new program):
    // frozen meanwhile, as runc does, so that no task meets a moment without a device it
    // keeps. The files' update below then finds it frozen and leaves the state alone.
    bool froze = false;
    if (r.devices && started_for_update()) {
      auto paused = fs_->frozen();
      if (!paused) return std::unexpected(paused.error());
      if (!*paused) {
        if (auto ok = fs_->freeze(); !ok) return ok;
        froze = true;
      }
    }
    auto ok = set_and_write(resources, *properties);
    if (!froze) return ok;
    auto thawed = fs_->thaw();
    if (!ok) return ok;
    return thawed;
  }

  Result<void> freeze() override { return fs_->freeze(); }
  Result<void> thaw() override { return fs_->thaw(); }
  Result<bool> frozen() const override { return fs_->frozen(); }
  Result<std::vector<pid_t>> pids() const override { return fs_->pids(); }
  Result<Stats> stats() const override { return fs_->stats(); }

  Result<void> destroy() override {
    // A unit this manager was to start but did not is not ours: a same-named unit that made
    // the start fail belongs to another container.
    if (resources_ && !started_) return {};
    auto features = connect();
    if (!features) return std::unexpected(features.error());
    // A scope whose processes all exited may already be gone (garbage-collected): fine. One
    // that failed (an OOM kill on v2) stays loaded as failed until reset.
    auto stopped = bus_->stop_unit(scope_.unit);
    auto reset = bus_->reset_failed_unit(scope_.unit);
    // systemd removes the cgroups it made; the ones of controllers it does not manage are ours.
    auto removed = fs_->destroy();
    if (!stopped) return stopped;
    if (!reset) return reset;
    return removed;
  }

  // Only in a unit this manager started or one a record names (as destroy()): a same-named
  // unit that made our start fail holds another container's processes. On v1 this also reaches
  // the hierarchies systemd does not manage (freezer, cpuset …), which hippo made.
  Result<void> kill_all() override {
    if (resources_ && !started_) return {};
    return Manager::kill_all();
  }
  Result<void> delegate(uid_t uid, gid_t gid) override {
    if (resources_ && !started_) {
      return fail(ErrorKind::failed_precondition,
                  "delegate unit " + scope_.unit + ": the unit has not been started");
    }
    return Manager::delegate(uid, gid);
  }

  std::string path_of(std::string_view controller) const override {
    return fs_->path_of(controller);
  }

 private:
  Result<void> set_and_write(const spec::Resources& resources,
                             const std::vector<Property>& properties) {
    if (!properties.empty()) {
      if (auto ok = bus_->set_unit_properties(scope_.unit, properties); !ok) return ok;
    }
    // And the files, so that the running cgroup has the values now, whatever systemd applied.
    return fs_->update(file_resources(resources));
  }

  // Whether the unit's cgroup exists to be frozen (an update reaches a started unit; one this
  // manager has not started yet has no tasks to protect).
  bool started_for_update() const { return !resources_ || started_; }

  Result<SystemdFeatures> connect() {
    if (!bus_) {
      auto c = SystemdConnection::open();
      if (!c) return std::unexpected(c.error());
      auto v = c->version();
      if (!v) return std::unexpected(v.error());
      bus_.emplace(std::move(*c));
      systemd_version_ = *v;
    }
    return SystemdFeatures{version_ == FsVersion::v2 ? UnitHierarchy::v2 : UnitHierarchy::v1,
                           systemd_version_};
  }

  // What goes to the files. On v2 devices are systemd's (an eBPF program it attaches to the
  // unit), not files. The blkio weight is systemd's property (BlockIOWeight/IOWeight) and goes
  // to a file too only where the unit's cgroup has one: a kernel whose disks no scheduler with
  // weights serves has none, and systemd then holds the value alone.
  spec::Resources file_resources(const spec::Resources& r) const {
    spec::Resources out = r;
    if (version_ == FsVersion::v2) out.devices.reset();
    if (out.blockIO && out.blockIO->weight.value_or(0) != 0 && !has_weight_file()) {
      out.blockIO->weight.reset();
    }
    return out;
  }

  // Whether the unit's cgroup has a file for the blkio weight. Before the unit exists (create's
  // checks) it has none, which is fine: the weight needs no check beyond systemd's.
  bool has_weight_file() const {
    const bool v2 = version_ == FsVersion::v2;
    const auto dir = fs_->path_of(v2 ? "" : "blkio");
    if (dir.empty()) return true;  // no blkio hierarchy: the cgroupfs code says so
    for (const char* file : v2 ? std::array{"io.bfq.weight", "io.weight"}
                               : std::array{"blkio.weight", "blkio.bfq.weight"}) {
      if (::access(join(dir, file).c_str(), F_OK) == 0) return true;
    }
    return false;
  }

  Result<void> start_unit(pid_t pid) {
    std::vector<Property> properties = {
        {"Description", scope_.description},
        {"Slice", scope_.slice},
        {"Delegate", true},
        {"DefaultDependencies", false},
        {"PIDs", std::vector<uint32_t>{static_cast<uint32_t>(pid)}},
    };
    properties.insert(properties.end(), start_properties_.begin(), start_properties_.end());
    // Annotations last: systemd applies properties in order, so they win.
    properties.insert(properties.end(), scope_.extra.begin(), scope_.extra.end());
    auto started = bus_->start_transient_unit(scope_.unit, properties);
    if (!started && started.error().code == EEXIST) {
      // A unit of that name left failed (or stopping) by an earlier container: clear it and
      // try once more (runc#3780). A live one is another container's: no second try helps.
      if (auto ok = bus_->reset_failed_unit(scope_.unit); !ok) return ok;
      started = bus_->start_transient_unit(scope_.unit, properties);
      if (!started && started.error().code == EEXIST) {
        return fail("systemd unit " + scope_.unit +
                        " already exists and is active: another container or service uses it",
                    EEXIST);
      }
    }
    // A start whose job failed leaves the unit loaded as failed: it was ours, unload it.
    if (!started) (void)bus_->reset_failed_unit(scope_.unit);
    return started;
  }

  // systemd takes a quota per second; an update naming only the quota or only the period
  // needs the other one the cgroup has now.
  Result<void> complete_cpu_quota(spec::Resources& r) const {
    if (!r.cpu) return {};
    auto& cpu = *r.cpu;
    const bool quota = cpu.quota.value_or(0) != 0, period = cpu.period.value_or(0) != 0;
    if (quota == period) return {};
    if (version_ == FsVersion::v2) {
      auto text = read_file(join(fs_->path_of(""), "cpu.max"), Tree::kernel);
      if (!text) return std::unexpected(text.error());
      const auto live = words(*text);
      if (live.size() != 2) return {};
      if (!quota) {
        if (live[0] == "max") {
          cpu.quota = -1;
        } else if (auto q = parse_uint(live[0], "cpu.max")) {
          cpu.quota = static_cast<int64_t>(*q);
        }
      } else if (auto p = parse_uint(live[1], "cpu.max")) {
        cpu.period = *p;
      }
      return {};
    }
    const auto dir = fs_->path_of("cpu");
    if (!quota) {
      const auto file = join(dir, "cpu.cfs_quota_us");
      auto text = read_file(file, Tree::kernel);
      if (!text) return std::unexpected(text.error());
      const auto live = trim(*text);
      int64_t q = 0;
      auto [end, ec] = std::from_chars(live.data(), live.data() + live.size(), q);
      if (ec != std::errc() || end != live.data() + live.size()) {
        return fail(ErrorKind::internal, "read " + file + ": unexpected \"" + live + "\"");
      }
      cpu.quota = q;
    } else {
      auto p = read_uint(join(dir, "cpu.cfs_period_us"), Tree::kernel);
      if (!p) return std::unexpected(p.error());
      cpu.period = *p;
    }
    return {};
  }

  SystemdScope scope_;
  FsVersion version_;
  std::unique_ptr<Manager> fs_;  // the unit's cgroup directories
  std::optional<SystemdConnection> bus_;
  int systemd_version_ = 0;
  std::optional<spec::Resources> resources_;  // set by create(): the unit is ours to start
  std::vector<Property> start_properties_;
  bool started_ = false;
};

}  // namespace

std::unique_ptr<Manager> make_systemd_manager(SystemdScope scope, const std::string& root) {
  return std::make_unique<SystemdManager>(std::move(scope), root);
}

}  // namespace hippo::cgroups
