#include "runtime/cgroups/fs_v2.hpp"

#include <algorithm>
#include <limits>
#include <optional>

#include "base/logging.hpp"
#include "base/userns.hpp"
#include "runtime/cgroups/device_filter.hpp"
#include "runtime/cgroups/resources.hpp"

namespace hippo::cgroups {
namespace {

bool contains(std::span<const std::string> list, std::string_view item) {
  return std::ranges::find(list, item) != list.end();
}

// Reads cgroup.subtree_control; a stand-in's log of "+x" writes reads as the names.
Result<std::vector<std::string>> enabled_in(const std::string& dir, Tree tree) {
  auto text = read_file(join(dir, "cgroup.subtree_control"), tree);
  if (!text) return std::unexpected(text.error());
  auto names = words(*text);
  for (auto& n : names) {
    if (n.starts_with('+')) n.erase(0, 1);
  }
  return names;
}

// Enables `offer` in dir's cgroup.subtree_control; drops from `offer` what dir refuses.
Result<void> enable_in(const std::string& dir, std::vector<std::string>& offer, Tree tree) {
  auto on = enabled_in(dir, tree);
  if (!on) return std::unexpected(on.error());
  std::string request;
  for (const auto& c : offer) {
    if (!contains(*on, c)) request += (request.empty() ? "+" : " +") + c;
  }
  if (request.empty()) return {};
  const auto file = join(dir, "cgroup.subtree_control");
  if (write_file(file, request, tree)) return {};
  // One controller refused fails the whole write; enable the others one by one (runc too).
  std::erase_if(offer, [&](const std::string& c) {
    return !contains(*on, c) && !write_file(file, "+" + c, tree);
  });
  return {};
}

// A stats number: a file holding one number (`key` empty) or a "key value" line of one.
struct StatsField {
  const char* file;
  std::string_view key;
  uint64_t* out;
};

// Files a kernel may lack (memory.peak before 5.19, those of a controller not enabled here)
// leave their numbers at 0.
Result<void> read_if_present(const std::string& dir, const StatsField& field) {
  const auto path = join(dir, field.file);
  auto text = read_optional(path);
  if (!text) return std::unexpected(text.error());
  if (!*text) return {};
  auto v = field.key.empty() ? parse_uint(**text, path) : keyed_value(**text, field.key, path);
  if (!v) return std::unexpected(v.error());
  *field.out = *v;
  return {};
}

// What to tell a user whose write failed because its controller is not enabled for the leaf.
void explain_missing_controller(Error& error, const std::string& mount, const std::string& dir,
                                const FileWrite& w, Tree tree) {
  if (error.code != ENOENT || w.controller.empty() || w.controller == "cgroup") return;
  auto available = read_file(join(dir, "cgroup.controllers"), tree);
  if (!available || contains(words(*available), w.controller)) return;
  error.message += " (the " + w.controller + " controller is not enabled for " + dir;
  // The usual cause: the no-internal-process rule. A cgroup with processes of its own cannot
  // enable controllers for its children (EBUSY), so enable_controllers could not.
  const auto slash = dir.find_last_of('/');
  const auto parent = dir.substr(0, slash == std::string::npos ? 0 : slash);
  auto procs = read_optional(join(parent, "cgroup.procs"));
  // (the root is exempt from the rule)
  if (parent != mount && procs && *procs && !trim(**procs).empty()) {
    error.message += ": its parent " + parent +
                     " holds processes, and cgroup v2 gives controllers only to the children of a "
                     "cgroup without processes of its own";
  }
  error.message += ")";
}

class FsV2Manager final : public Manager {
 public:
  FsV2Manager(const CgroupConfig& config, std::string mount, Tree tree)
      : mount_(std::move(mount)), tree_(tree), levels_(cgroup_levels(config.path)) {}

  Result<void> create(const spec::Resources& resources) override {
    if (!levels_) return std::unexpected(levels_.error());
    auto writes = v2_writes(resources);  // refuse what v2 cannot do before making anything
    if (!writes) return std::unexpected(writes.error());
    // No rules still means runc's default device policy, as on v1.
    auto devices =
        device_filter_program(resources.devices.value_or(std::vector<spec::DeviceRule>{}));
    if (!devices) return std::unexpected(devices.error());
    MadeDirs made(tree_);
    if (auto ok = made.make(mount_, *levels_); !ok) return std::unexpected(ok.error());
    // Every available controller, as runc and crun do: an update or stats call may need one
    // the create did not, and a leaf that holds tasks cannot have them enabled later.
    if (auto ok = enable_controllers(mount_, *levels_, {}, tree_); !ok) {
      return std::unexpected(ok.error());
    }
    if (auto ok = apply(*writes); !ok) return ok;
    if (auto ok = attach_devices(*devices); !ok) return ok;
    made_ = made.commit();
    return {};
  }

  Result<void> attach(pid_t pid) override {
    auto dir = leaf();
    if (!dir) return std::unexpected(dir.error());
    return write_file(join(*dir, "cgroup.procs"), std::to_string(pid), tree_);
  }

  Result<void> update(const spec::Resources& resources) override {
    auto dir = leaf();
    if (!dir) return std::unexpected(dir.error());
    spec::Resources r = resources;
    if (auto ok = keep_other_cpu_max_half(*dir, r); !ok) return ok;
    if (auto ok = check_memory_usage(*dir, r); !ok) return ok;
    auto writes = v2_writes(r);
    if (!writes) return std::unexpected(writes.error());
    std::optional<std::vector<bpf_insn>> devices;
    if (r.devices) {  // update leaves the device policy alone unless given, as on v1
      auto program = device_filter_program(*r.devices);
      if (!program) return std::unexpected(program.error());
      devices = std::move(*program);
    }
    if (auto ok = apply(*writes); !ok) return ok;
    return devices ? attach_devices(*devices) : Result<void>{};
  }

  Result<void> freeze() override { return set_frozen(true); }
  Result<void> thaw() override { return set_frozen(false); }

  Result<bool> frozen() const override {
    auto dir = leaf();
    if (!dir) return std::unexpected(dir.error());
    auto wanted = read_optional(join(*dir, "cgroup.freeze"));
    if (!wanted) return std::unexpected(wanted.error());
    if (!*wanted || trim(**wanted) != "1") return false;
    // Asked to freeze; frozen once every task has stopped.
    return poll_until(kSettleTimeout, [&] { return events_frozen(*dir, true); });
  }

  Result<std::vector<pid_t>> pids() const override {
    auto dir = leaf();
    if (!dir) return std::unexpected(dir.error());
    return read_procs_recursive(*dir, tree_);
  }

  Result<Stats> stats() const override {
    auto dir = leaf();
    if (!dir) return std::unexpected(dir.error());
    Stats s;
    auto& m = s.memory;
    uint64_t usage_usec = 0, user_usec = 0, system_usec = 0, throttled_usec = 0;
    const StatsField fields[] = {
        {"memory.current", "", &m.usage},
        {"memory.peak", "", &m.max_usage},
        {"memory.max", "", &m.limit},
        // "max": how often usage hit memory.max, the v2 form of v1's failcnt.
        {"memory.events", "max", &m.failcnt},
        {"memory.events", "oom_kill", &m.oom_kills},
        {"memory.events", "low", &m.low_events},
        {"memory.events", "high", &m.high_events},
        {"memory.events", "oom", &m.oom_events},
        {"memory.swap.current", "", &m.swap_usage},
        {"memory.swap.max", "", &m.swap_limit},
        {"memory.swap.peak", "", &m.swap_max_usage},  // 6.5+
        {"memory.swap.events", "max", &m.swap_failcnt},
        {"cpu.stat", "usage_usec", &usage_usec},
        {"cpu.stat", "user_usec", &user_usec},
        {"cpu.stat", "system_usec", &system_usec},
        // the cpu controller's: absent where it is not enabled
        {"cpu.stat", "nr_periods", &s.cpu_periods},
        {"cpu.stat", "nr_throttled", &s.cpu_throttled_periods},
        {"cpu.stat", "throttled_usec", &throttled_usec},
        {"pids.max", "", &s.pids_limit},
    };
    for (const auto& field : fields) {
      if (auto ok = read_if_present(*dir, field); !ok) return std::unexpected(ok.error());
    }
    s.cpu_usage_ns = usage_usec * 1000;
    s.cpu_user_ns = user_usec * 1000;
    s.cpu_system_ns = system_usec * 1000;
    s.cpu_throttled_ns = throttled_usec * 1000;
    if (s.pids_limit == std::numeric_limits<uint64_t>::max()) s.pids_limit = 0;
    auto current = read_optional_uint(join(*dir, "pids.current"));
    if (!current) return std::unexpected(current.error());
    if (*current) {
      s.pids_current = **current;
    } else {  // no pids controller here: count the tasks instead, as runc does
      auto procs = read_procs_recursive(*dir, tree_);
      if (!procs) return std::unexpected(procs.error());
      s.pids_current = procs->size();
    }
    for (const char* file : {"memory.stat", "io.stat"}) {
      const auto path = join(*dir, file);
      auto text = read_optional(path);
      if (!text) return std::unexpected(text.error());
      if (!*text) continue;
      if (file == std::string_view("memory.stat")) {
        auto stat = keyed_values(**text, path);
        if (!stat) return std::unexpected(stat.error());
        m.stat = std::move(*stat);
      } else {
        auto io = parse_io_stat(**text, path);
        if (!io) return std::unexpected(io.error());
        s.io = std::move(*io);
      }
    }
    return s;
  }

  Result<void> destroy() override {
    auto dir = leaf();
    if (!dir) return std::unexpected(dir.error());
    // The leaf is the container's own whoever made it (`delete` runs in another process than
    // `create`); ancestors go only if this manager made them and nothing else uses them.
    if (auto ok = remove_cgroup(*dir, tree_); !ok) return ok;
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
      if (auto ok = remove_if_unused(*it, tree_); !ok) return ok;
    }
    made_.clear();
    return {};
  }

  bool remove_if_empty() override {
    auto dir = leaf();
    if (!dir || !made_.empty()) return false;  // ancestors it made go through destroy()
    return remove_empty_leaves({*dir}, tree_);
  }

  std::string path_of(std::string_view) const override {
    auto dir = leaf();
    return dir ? *dir : std::string();
  }

 private:
  Result<std::string> leaf() const {
    if (!levels_) return std::unexpected(levels_.error());
    std::string dir = mount_;
    for (const auto& level : *levels_) dir = join(dir, level);
    return dir;
  }

  Result<void> apply(const std::vector<FileWrite>& writes) {
    auto dir = leaf();
    if (!dir) return std::unexpected(dir.error());
    return apply_writes(writes, [&](const FileWrite& w) -> Result<void> {
      auto done = write_file(join(*dir, w.file), w.value, tree_);
      if (!done) explain_missing_controller(done.error(), mount_, *dir, w, tree_);
      return done;
    });
  }

  Result<void> attach_devices(const std::vector<bpf_insn>& program) {
    if (tree_ == Tree::stand_in) return {};  // a plain directory takes no eBPF program
    auto dir = leaf();
    if (!dir) return std::unexpected(dir.error());
    auto attached = attach_device_filter(*dir, program);
    // In a user namespace loading a device program needs host privileges. The outer
    // container's program still runs for this cgroup (an ancestor's programs run for
    // descendants), so a refusal here only costs this container's own, narrower list.
    if (!attached && os::running_in_user_namespace()) {
      log::warn("cgroup " + *dir + ": no device filter of its own in a user namespace (" +
                attached.error().message + ")");
      return {};
    }
    return attached;
  }

  // cpu.max holds quota and period together; an update of one keeps the live other one
  // instead of resetting it to runc's defaults ("max", 100000).
  Result<void> keep_other_cpu_max_half(const std::string& dir, spec::Resources& r) const {
    if (!r.cpu) return {};
    auto& cpu = *r.cpu;
    const bool quota = cpu.quota.value_or(0) != 0, period = cpu.period.value_or(0) != 0;
    if (quota == period) return {};
    const auto path = join(dir, "cpu.max");
    auto text = read_optional(path);
    if (!text) return std::unexpected(text.error());
    if (!*text) return {};
    const auto live = words(**text);
    if (live.size() != 2) {
      return fail(ErrorKind::internal, "read " + path + ": unexpected \"" + trim(**text) + "\"");
    }
    if (!quota) {
      if (live[0] == "max") {
        cpu.quota = -1;
      } else {
        auto q = parse_uint(live[0], path);
        if (!q) return std::unexpected(q.error());
        cpu.quota = static_cast<int64_t>(*q);
      }
    } else {
      auto p = parse_uint(live[1], path);
      if (!p) return std::unexpected(p.error());
      cpu.period = *p;
    }
    return {};
  }

  // memory.checkBeforeUpdate: refuse a limit at or below what the cgroup already uses, rather
  // than let the kernel reclaim or OOM-kill to fit it (runc's CheckMemoryUsage).
  Result<void> check_memory_usage(const std::string& dir, const spec::Resources& r) const {
    if (!r.memory || !r.memory->checkBeforeUpdate.value_or(false)) return {};
    const int64_t limit = r.memory->limit.value_or(0), swap = r.memory->swap.value_or(0);
    if (limit <= 0 && swap <= 0) return {};
    auto usage = read_uint(join(dir, "memory.current"), tree_);
    if (!usage) return std::unexpected(usage.error());
    for (auto [name, value] :
         {std::pair{"memory+swap limit", swap}, std::pair{"memory limit", limit}}) {
      if (value > 0 && static_cast<uint64_t>(value) <= *usage) {
        return fail(std::string("linux.resources.memory: rejecting ") + name + " " +
                        std::to_string(value) + " <= usage " + std::to_string(*usage) + " of " +
                        dir,
                    EBUSY);
      }
    }
    return {};
  }

  Result<bool> events_frozen(const std::string& dir, bool want) const {
    auto frozen = read_keyed(join(dir, "cgroup.events"), "frozen", tree_);
    if (!frozen) return std::unexpected(frozen.error());
    return (*frozen == 1) == want;
  }

  Result<void> set_frozen(bool freeze) {
    auto dir = leaf();
    if (!dir) return std::unexpected(dir.error());
    if (auto ok = write_file(join(*dir, "cgroup.freeze"), freeze ? "1" : "0", tree_); !ok) {
      return ok;
    }
    auto settled = poll_until(kSettleTimeout, [&] { return events_frozen(*dir, freeze); });
    if (settled && *settled) return {};
    if (freeze) (void)write_file(join(*dir, "cgroup.freeze"), "0", tree_);  // not half frozen
    if (!settled) return std::unexpected(settled.error());
    return fail(std::string(freeze ? "freeze " : "thaw ") + *dir +
                    ": cgroup.events did not show \"frozen " + (freeze ? "1" : "0") + "\" within " +
                    std::to_string(kSettleTimeout.count() / 1000) + " s",
                ETIMEDOUT);
  }

  std::string mount_;
  Tree tree_;
  Result<std::vector<std::string>> levels_;
  std::vector<std::string> made_;  // directories create() made, in creation order
};

}  // namespace

Result<std::vector<std::string>> enable_controllers(const std::string& mount,
                                                    std::span<const std::string> levels,
                                                    std::span<const std::string> wanted,
                                                    Tree tree) {
  auto root = read_file(join(mount, "cgroup.controllers"), tree);
  if (!root) return std::unexpected(root.error());
  std::vector<std::string> offer;
  for (auto& c : words(*root)) {
    if (wanted.empty() || contains(wanted, c)) offer.push_back(std::move(c));
  }
  std::string dir = mount;
  for (size_t i = 0; i < levels.size() && !offer.empty(); ++i) {
    if (auto ok = enable_in(dir, offer, tree); !ok) return std::unexpected(ok.error());
    dir = join(dir, levels[i]);  // the next ancestor; the loop stops before the leaf
  }
  return offer;
}

std::unique_ptr<Manager> make_fs_v2_manager(const CgroupConfig& config, const std::string& mount,
                                            Tree tree) {
  return std::make_unique<FsV2Manager>(config, mount, tree);
}

}  // namespace hippo::cgroups
