#include "runtime/cgroups/fs_v1.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>

#include "base/mountinfo.hpp"
#include "base/userns.hpp"
#include "runtime/cgroups/cpuset_narrow.hpp"
#include "runtime/cgroups/fs_v2.hpp"
#include "runtime/cgroups/resources.hpp"

namespace hippo::cgroups {
namespace {

constexpr std::string_view kV1Controllers[] = {
    "blkio",  "cpu",  "cpuacct", "cpuset",   "devices",    "freezer", "hugetlb",
    "memory", "misc", "net_cls", "net_prio", "perf_event", "pids",    "rdma"};

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

std::string without_trailing_slash(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return std::string(path);
}

bool is_under(std::string_view path, std::string_view root) {
  if (root == "/") return path.size() > 1 && path.front() == '/';
  return path.size() > root.size() && path.starts_with(root) && path[root.size()] == '/';
}

bool has(const Hierarchy& h, std::string_view controller) {
  return std::ranges::find(h.controllers, controller) != h.controllers.end();
}

class FsV1Manager final : public Manager {
 public:
  FsV1Manager(const CgroupConfig& config, Result<V1Layout> layout, Tree tree)
      : layout_(std::move(layout)), tree_(tree), levels_(cgroup_levels(config.path)) {}

  Result<void> create(const spec::Resources& resources) override {
    if (auto ok = ready(); !ok) return ok;
    spec::Resources r = resources;
    if (!r.devices) r.devices.emplace();  // no rules still means runc's default device policy
    auto plan = plan_for(r);              // refuse a bad request before making anything
    if (!plan) return std::unexpected(plan.error());
    MadeDirs made(tree_);
    for (const auto& h : layout_->hierarchies) {
      if (auto ok = made.make(h.mount, *levels_); !ok) return std::unexpected(ok.error());
      if (has(h, "cpuset")) {
        if (auto ok = inherit_cpuset(h.mount); !ok) return ok;
      }
    }
    if (!layout_->unified.empty()) {
      if (auto ok = made.make(layout_->unified, *levels_); !ok) return std::unexpected(ok.error());
    }
    if (auto ok = apply(*plan); !ok) return ok;
    made_ = made.commit();
    return {};
  }

  Result<void> attach(pid_t pid) override {
    if (auto ok = ready(); !ok) return ok;
    for (const auto& dir : placements()) {
      if (auto ok = write_file(join(dir, "cgroup.procs"), std::to_string(pid), tree_); !ok) {
        return ok;
      }
    }
    return {};
  }

  std::vector<std::string> self_join_files() const override {
    std::vector<std::string> files;
    if (!ready() || tree_ != Tree::kernel) return files;
    for (const auto& h : layout_->hierarchies) files.push_back(join(leaf_in(h.mount), "tasks"));
    return files;
  }

  Result<void> attach_rest(pid_t pid, bool in_unified) override {
    if (auto ok = ready(); !ok) return ok;
    if (in_unified || layout_->unified.empty()) return {};
    return write_file(join(leaf_in(layout_->unified), "cgroup.procs"), std::to_string(pid), tree_);
  }

  Result<void> update(const spec::Resources& resources) override {
    if (auto ok = ready(); !ok) return ok;
    auto plan = plan_for(resources);
    if (!plan) return std::unexpected(plan.error());
    // Cgroups below (an inner runtime's) must fit in a narrower cpuset first.
    for (const auto& w : plan->v1) {
      if (w.controller != "cpuset") continue;
      auto dir = dir_for(w.controller, w.file);
      if (!dir) return std::unexpected(dir.error());
      if (auto ok = narrow_cpuset_children(*dir, w.file, w.value, tree_); !ok) {
        return forward(ok, w.field);
      }
    }
    return apply(*plan, /*freeze_for_devices=*/true);
  }

  Result<void> freeze() override {
    auto dir = dir_for("freezer", "freezer.state");
    if (!dir) return std::unexpected(dir.error());
    const auto state_file = join(*dir, "freezer.state");
    int attempt = 0;
    auto frozen = poll_until(kSettleTimeout, [&]() -> Result<bool> {
      // A freeze can stall on a task that does not stop (vfork, some sleeps in the kernel);
      // thawing and freezing again gets it moving, as runc does.
      if (++attempt % 10 == 0) (void)write_file(state_file, "THAWED", tree_);
      if (auto ok = write_file(state_file, "FROZEN", tree_); !ok) {
        return std::unexpected(ok.error());
      }
      auto state = read_file(state_file, tree_);
      if (!state) return std::unexpected(state.error());
      const auto s = last_line(*state);
      if (s == "FROZEN") return true;
      if (s == "FREEZING") return false;
      return fail(ErrorKind::internal,
                  "freeze " + *dir + ": unexpected freezer.state \"" + s + "\"");
    });
    if (frozen && *frozen) return {};
    (void)write_file(state_file, "THAWED", tree_);  // never leave it half frozen
    if (!frozen) return std::unexpected(frozen.error());
    return fail("freeze " + *dir + ": still FREEZING after " +
                    std::to_string(kSettleTimeout.count() / 1000) + " s",
                ETIMEDOUT);
  }

  Result<void> thaw() override {
    auto dir = dir_for("freezer", "freezer.state");
    if (!dir) return std::unexpected(dir.error());
    const auto state_file = join(*dir, "freezer.state");
    if (auto ok = write_file(state_file, "THAWED", tree_); !ok) return ok;
    auto thawed = poll_until(kSettleTimeout, [&]() -> Result<bool> {
      auto state = read_file(state_file, tree_);
      if (!state) return std::unexpected(state.error());
      return last_line(*state) == "THAWED";
    });
    if (!thawed) return std::unexpected(thawed.error());
    if (!*thawed) return fail("thaw " + *dir + ": freezer.state is not THAWED", ETIMEDOUT);
    return {};
  }

  Result<bool> frozen() const override {
    if (auto ok = ready(); !ok) return std::unexpected(ok.error());
    const Hierarchy* h = find("freezer");
    if (!h) return false;  // nothing can have frozen it
    const auto dir = leaf_in(h->mount);
    std::string state;
    auto settled = poll_until(kSettleTimeout, [&]() -> Result<bool> {
      auto text = read_file(join(dir, "freezer.state"), tree_);
      if (!text) return std::unexpected(text.error());
      state = last_line(*text);
      return state != "FREEZING";
    });
    if (!settled) return std::unexpected(settled.error());
    if (state != "FROZEN") return false;
    // FROZEN because an ancestor is frozen is not this container being paused (runc).
    auto self = read_optional(join(dir, "freezer.self_freezing"));
    if (!self) return std::unexpected(self.error());
    return !*self || trim(**self) != "0";
  }

  Result<std::vector<pid_t>> pids() const override {
    if (auto ok = ready(); !ok) return std::unexpected(ok.error());
    const Hierarchy* h = nullptr;
    for (auto c : {"pids", "freezer", "memory", "cpu"}) {
      if ((h = find(c))) break;
    }
    if (!h) h = &layout_->hierarchies.front();
    return read_procs_recursive(leaf_in(h->mount), tree_);
  }

  Result<Stats> stats() const override {
    if (auto ok = ready(); !ok) return std::unexpected(ok.error());
    Stats s;
    auto number = [&](const std::string& dir, const char* file, uint64_t& out) -> Result<void> {
      auto v = read_uint(join(dir, file), tree_);
      if (!v) return std::unexpected(v.error());
      out = *v;
      return {};
    };
    // Files a kernel or configuration may lack (memsw without swap accounting, cpuacct.usage_user
    // before 4.7) leave their numbers at 0.
    auto optional = [](const std::string& dir, const char* file) {
      return read_optional(join(dir, file));
    };
    if (const Hierarchy* h = find("memory")) {
      const auto dir = leaf_in(h->mount);
      auto& m = s.memory;
      for (auto [file, out] : {std::pair{"memory.usage_in_bytes", &m.usage},
                               std::pair{"memory.max_usage_in_bytes", &m.max_usage},
                               std::pair{"memory.limit_in_bytes", &m.limit},
                               std::pair{"memory.failcnt", &m.failcnt}}) {
        if (auto ok = number(dir, file, *out); !ok) return std::unexpected(ok.error());
      }
      for (auto [file, out] : {std::pair{"memory.memsw.usage_in_bytes", &m.swap_usage},
                               std::pair{"memory.memsw.max_usage_in_bytes", &m.swap_max_usage},
                               std::pair{"memory.memsw.limit_in_bytes", &m.swap_limit},
                               std::pair{"memory.memsw.failcnt", &m.swap_failcnt}}) {
        auto v = read_optional_uint(join(dir, file));
        if (!v) return std::unexpected(v.error());
        *out = v->value_or(0);
      }
      // "oom_kill N" appeared in memory.oom_control with kernel 4.13; absent reads as 0.
      auto kills = read_keyed(join(dir, "memory.oom_control"), "oom_kill", tree_);
      if (!kills) return std::unexpected(kills.error());
      m.oom_kills = *kills;
      auto text = optional(dir, "memory.stat");
      if (!text) return std::unexpected(text.error());
      if (*text) {
        auto stat = keyed_values(**text, join(dir, "memory.stat"));
        if (!stat) return std::unexpected(stat.error());
        m.stat = std::move(*stat);
      }
    }
    if (const Hierarchy* h = find("cpuacct")) {
      const auto dir = leaf_in(h->mount);
      if (auto ok = number(dir, "cpuacct.usage", s.cpu_usage_ns); !ok) {
        return std::unexpected(ok.error());
      }
      if (auto ok = cpu_user_system(dir, s); !ok) return std::unexpected(ok.error());
      auto percpu = optional(dir, "cpuacct.usage_percpu");
      if (!percpu) return std::unexpected(percpu.error());
      for (const auto& w : words(percpu->value_or(""))) {
        auto v = parse_uint(w, join(dir, "cpuacct.usage_percpu"));
        if (!v) return std::unexpected(v.error());
        s.cpu_per_cpu_ns.push_back(*v);
      }
    }
    if (const Hierarchy* h = find("cpu")) {
      const auto path = join(leaf_in(h->mount), "cpu.stat");
      auto text = read_optional(path);
      if (!text) return std::unexpected(text.error());
      if (*text) {
        auto stat = keyed_values(**text, path);
        if (!stat) return std::unexpected(stat.error());
        s.cpu_periods = value_or_zero(*stat, "nr_periods");
        s.cpu_throttled_periods = value_or_zero(*stat, "nr_throttled");
        s.cpu_throttled_ns = value_or_zero(*stat, "throttled_time");
      }
    }
    if (const Hierarchy* h = find("pids")) {
      const auto dir = leaf_in(h->mount);
      if (auto ok = number(dir, "pids.current", s.pids_current); !ok) {
        return std::unexpected(ok.error());
      }
      if (auto ok = number(dir, "pids.max", s.pids_limit); !ok) return std::unexpected(ok.error());
      if (s.pids_limit == std::numeric_limits<uint64_t>::max()) s.pids_limit = 0;
    }
    if (const Hierarchy* h = find("blkio")) {
      // The throttle layer sees every bio whatever the I/O scheduler (CFQ's files are gone).
      const auto dir = leaf_in(h->mount);
      for (auto [file, bytes] : {std::pair{"blkio.throttle.io_service_bytes_recursive", true},
                                 std::pair{"blkio.throttle.io_serviced_recursive", false}}) {
        auto text = optional(dir, file);
        if (!text) return std::unexpected(text.error());
        if (!*text) continue;
        if (auto ok = add_blkio_stat(**text, bytes, s.io, join(dir, file)); !ok) {
          return std::unexpected(ok.error());
        }
      }
    }
    return s;
  }

  Result<void> destroy() override {
    if (auto ok = ready(); !ok) return ok;
    // The leaf is the container's own whoever made it (`delete` runs in another process than
    // `create`); ancestors go only if this manager made them and nothing else uses them.
    Result<void> result;
    for (const auto& dir : placements()) {
      if (auto ok = remove_cgroup(dir, tree_); !ok && result) result = ok;
    }
    if (!result) return result;
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
      if (auto ok = remove_if_unused(*it, tree_); !ok) return ok;
    }
    made_.clear();
    return {};
  }

  bool remove_if_empty() override {
    if (!ready() || !made_.empty()) return false;  // ancestors it made go through destroy()
    return remove_empty_leaves(placements(), tree_);
  }

  std::string path_of(std::string_view controller) const override {
    if (!layout_ || !levels_) return "";
    if (controller.empty()) return layout_->unified.empty() ? "" : leaf_in(layout_->unified);
    const Hierarchy* h = find(controller);
    return h ? leaf_in(h->mount) : "";
  }

 private:
  struct Plan {
    std::vector<FileWrite> v1;
    std::vector<FileWrite> unified_hugetlb;  // hugetlb of a hybrid host that has it on v2 only
  };

  Result<void> ready() const {
    if (!layout_) return std::unexpected(layout_.error());
    if (!levels_) return std::unexpected(levels_.error());
    if (layout_->hierarchies.empty()) {
      return fail("no cgroup v1 hierarchy is mounted under " + layout_->root, ENOENT);
    }
    return {};
  }

  const Hierarchy* find(std::string_view controller) const {
    for (const auto& h : layout_->hierarchies) {
      if (has(h, controller) || (!h.name.empty() && controller == "name=" + h.name)) return &h;
    }
    return nullptr;
  }

  std::string leaf_in(const std::string& mount) const {
    std::string dir = mount;
    for (const auto& level : *levels_) dir = join(dir, level);
    return dir;
  }

  std::vector<std::string> placements() const {
    std::vector<std::string> dirs;
    for (const auto& h : layout_->hierarchies) dirs.push_back(leaf_in(h.mount));
    if (!layout_->unified.empty()) dirs.push_back(leaf_in(layout_->unified));
    return dirs;
  }

  Result<std::string> dir_for(std::string_view controller, std::string_view file) const {
    if (auto ok = ready(); !ok) return std::unexpected(ok.error());
    const Hierarchy* h = find(controller);
    if (!h) {
      // Not ENOENT: IfMissing rules are about files of a mounted controller.
      return fail(std::string(file) + ": the cgroup v1 " + std::string(controller) +
                      " controller is not mounted under " + layout_->root,
                  ENODEV);
    }
    return leaf_in(h->mount);
  }

  Result<Plan> plan_for(const spec::Resources& r) const {
    auto writes = v1_writes(r);
    if (!writes) return std::unexpected(writes.error());
    // In a user namespace devices.allow/deny need host CAP_SYS_ADMIN: skipped, as runc skips
    // them. The outer container's list still binds: a new v1 cgroup starts with its parent's.
    if (os::running_in_user_namespace()) {
      std::erase_if(*writes, [](const FileWrite& w) { return w.controller == "devices"; });
    }
    Plan plan;
    if (!find("hugetlb") && r.hugepageLimits && !r.hugepageLimits->empty()) {
      if (layout_->unified.empty()) {
        return fail("linux.resources.hugepageLimits: the hugetlb controller is not mounted under " +
                        layout_->root,
                    ENODEV);
      }
      std::erase_if(*writes, [](const FileWrite& w) { return w.controller == "hugetlb"; });
      auto huge = hugetlb_writes(*r.hugepageLimits, Version::v2);
      if (!huge) return std::unexpected(huge.error());
      plan.unified_hugetlb = std::move(*huge);
    }
    plan.v1 = std::move(*writes);
    return plan;
  }

  // The device writes (contiguous, runc's order) are the whole new list: "deny a", then the
  // allows. On a running container an update makes them with the cgroup frozen, so that no
  // task meets the moment between the deny and the allow of a device it keeps (runc does the
  // same); a paused container stays paused, and an error thaws what the update froze.
  Result<void> apply(const Plan& plan, bool freeze_for_devices = false) {
    const auto write = [&](const FileWrite& w) -> Result<void> {
      auto dir = dir_for(w.controller, w.file);
      if (!dir) return std::unexpected(dir.error());
      return write_file(join(*dir, w.file), w.value, tree_);
    };
    const auto is_device = [](const FileWrite& w) { return w.controller == "devices"; };
    const std::span<const FileWrite> all = plan.v1;
    const auto first = std::ranges::find_if(all, is_device);
    const auto last = std::find_if_not(first, all.end(), is_device);
    auto ok = apply_writes({all.begin(), first}, write);
    if (ok && first != last) ok = apply_devices({first, last}, write, freeze_for_devices);
    if (ok) ok = apply_writes({last, all.end()}, write);
    if (!ok || plan.unified_hugetlb.empty()) return ok;
    const std::string hugetlb = "hugetlb";
    auto enabled = enable_controllers(layout_->unified, *levels_, {&hugetlb, 1}, tree_);
    if (!enabled) return std::unexpected(enabled.error());
    if (enabled->empty()) {
      return fail(
          "linux.resources.hugepageLimits: hugetlb is neither a cgroup v1 hierarchy under " +
              layout_->root + " nor a controller the cgroup2 hierarchy " + layout_->unified +
              " can enable",
          ENODEV);
    }
    const auto dir = leaf_in(layout_->unified);
    return apply_writes(plan.unified_hugetlb, [&](const FileWrite& w) {
      return write_file(join(dir, w.file), w.value, tree_);
    });
  }

  template <class Write>
  Result<void> apply_devices(std::span<const FileWrite> writes, const Write& write, bool freeze) {
    std::vector<FileWrite> list(writes.begin(), writes.end());
    if (freeze && tree_ == Tree::kernel) {
      if (auto ok = deny_listed_instead_of_all(list); !ok) return ok;
    }
    bool froze = false;
    if (freeze && find("freezer") && tree_ == Tree::kernel) {
      auto paused = frozen();
      if (!paused) return std::unexpected(paused.error());
      if (!*paused) {
        if (auto ok = this->freeze(); !ok) return ok;
        froze = true;
      }
    }
    auto ok = apply_writes(list, write);
    if (!froze) return ok;
    auto thawed = thaw();
    if (!ok) return ok;
    return thawed;
  }

  // The kernel refuses "a" in devices.deny (EINVAL) while the cgroup has children, as a nesting
  // container's inner runtime makes them. When the list already denies by default, denying
  // each entry devices.list shows empties it the same way, and that a parent may do.
  Result<void> deny_listed_instead_of_all(std::vector<FileWrite>& list) const {
    if (list.empty() || list.front().file != "devices.deny" || list.front().value != "a") return {};
    auto dir = dir_for("devices", "devices.list");
    if (!dir) return std::unexpected(dir.error());
    auto current = read_file(join(*dir, "devices.list"), tree_);
    if (!current) return std::unexpected(current.error());
    // A spec that starts with its own deny-all (runc's and Docker's do) repeats the emptying.
    const auto deny_all = [](const FileWrite& w) {
      return w.file == "devices.deny" && (w.value == "a" || w.value.starts_with("a "));
    };
    const auto kept = std::ranges::find_if_not(list, deny_all);
    std::vector<FileWrite> denies;
    for (const auto raw : split(*current, '\n')) {
      std::string line = trim(raw);
      if (line.empty()) continue;
      if (line.starts_with("a ")) return {};  // allows all: only "a" makes it deny by default
      FileWrite w = list.front();
      w.value = std::move(line);
      denies.push_back(std::move(w));
    }
    list.erase(list.begin(), kept);
    list.insert(list.begin(), denies.begin(), denies.end());
    return {};
  }

  // A new v1 cpuset cgroup starts with empty cpus and mems, and a task cannot join it until
  // both are set: copy them down from the parent wherever a level is still empty.
  Result<void> inherit_cpuset(const std::string& mount) {
    std::string dir = mount;
    for (const auto& level : *levels_) {
      const std::string parent = dir;
      dir = join(dir, level);
      for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
        auto mine = read_file(join(dir, file), tree_);
        if (!mine) return std::unexpected(mine.error());
        if (!trim(*mine).empty()) continue;
        auto theirs = read_file(join(parent, file), tree_);
        if (!theirs) return std::unexpected(theirs.error());
        if (auto ok = write_file(join(dir, file), last_line(*theirs), tree_); !ok) return ok;
      }
    }
    return {};
  }

  static uint64_t value_or_zero(const std::map<std::string, uint64_t, std::less<>>& values,
                                std::string_view key) {
    const auto it = values.find(key);
    return it == values.end() ? 0 : it->second;
  }

  // User and system time: cpuacct.usage_user/usage_sys in ns (4.7+), else cpuacct.stat in
  // USER_HZ ticks.
  static Result<void> cpu_user_system(const std::string& dir, Stats& s) {
    auto user = read_optional_uint(join(dir, "cpuacct.usage_user"));
    if (!user) return std::unexpected(user.error());
    auto sys = read_optional_uint(join(dir, "cpuacct.usage_sys"));
    if (!sys) return std::unexpected(sys.error());
    if (*user && *sys) {
      s.cpu_user_ns = **user;
      s.cpu_system_ns = **sys;
      return {};
    }
    const auto path = join(dir, "cpuacct.stat");
    auto text = read_optional(path);
    if (!text) return std::unexpected(text.error());
    if (!*text) return {};
    auto ticks = keyed_values(**text, path);
    if (!ticks) return std::unexpected(ticks.error());
    const long hz = ::sysconf(_SC_CLK_TCK);
    const uint64_t ns_per_tick = hz > 0 ? 1000000000ULL / static_cast<uint64_t>(hz) : 10000000ULL;
    s.cpu_user_ns = value_or_zero(*ticks, "user") * ns_per_tick;
    s.cpu_system_ns = value_or_zero(*ticks, "system") * ns_per_tick;
    return {};
  }

  // The current value of a file; on a stand-in tree, whose files log every write, the last.
  static std::string last_line(std::string_view text) {
    const auto t = trim(text);
    const auto nl = t.find_last_of('\n');
    return nl == std::string::npos ? t : t.substr(nl + 1);
  }

  Result<V1Layout> layout_;
  Tree tree_;
  Result<std::vector<std::string>> levels_;
  std::vector<std::string> made_;  // directories create() made, in creation order
};

}  // namespace

V1Layout parse_v1_layout(std::string_view mountinfo, std::string_view root_in) {
  V1Layout layout;
  layout.root = without_trailing_slash(root_in);
  for (auto line : split(mountinfo, '\n')) {
    const auto fields = split(line, ' ');
    // id parent dev root mountpoint options [optional…] - fstype source superoptions
    const auto dash = std::ranges::find(fields, std::string_view("-"));
    if (fields.size() < 7 || dash == fields.end() || fields.end() - dash < 4) continue;
    const std::string mount = os::unescape_mountinfo(fields[4]);
    if (!is_under(mount, layout.root)) continue;
    const auto fstype = *(dash + 1);
    if (fstype == "cgroup2") {
      if (layout.unified.empty()) layout.unified = mount;
      continue;
    }
    if (fstype != "cgroup") continue;
    Hierarchy h{mount, {}, {}};
    for (auto option : split(*(dash + 3), ',')) {
      if (option.starts_with("name=")) {
        h.name = std::string(option.substr(5));
      } else if (std::ranges::find(kV1Controllers, option) != std::end(kV1Controllers)) {
        h.controllers.emplace_back(option);
      }
    }
    if (h.controllers.empty() && h.name != "systemd") continue;
    if (!h.controllers.empty()) h.name.clear();
    // The same hierarchy mounted twice (a bind mount) is one place to create the cgroup in.
    const bool seen = std::ranges::any_of(layout.hierarchies, [&](const Hierarchy& other) {
      return other.controllers == h.controllers && other.name == h.name;
    });
    if (!seen) layout.hierarchies.push_back(std::move(h));
  }
  return layout;
}

Result<V1Layout> read_v1_layout(const std::string& root) {
  // Every operation on a container builds a manager, and a node shim's mountinfo has a line
  // per rootfs it mounted (hundreds of long overlay lines: the kernel formats them all at each
  // read). Cgroup hierarchies are mounted at boot: a layout read less than a second ago is
  // taken again (a remount under a running daemon is seen at most a second late).
  struct Cached {
    std::string root;
    V1Layout layout;
    std::chrono::steady_clock::time_point read_at;
  };
  thread_local std::optional<Cached> cached;
  const auto now = std::chrono::steady_clock::now();
  if (cached && cached->root == root && now - cached->read_at < std::chrono::seconds(1))
    return cached->layout;
  auto text = read_file("/proc/self/mountinfo", Tree::kernel);
  if (!text) return std::unexpected(text.error());
  auto layout = parse_v1_layout(*text, root);
  cached = Cached{root, layout, now};
  return layout;
}

std::unique_ptr<Manager> make_fs_v1_manager(const CgroupConfig& config, Result<V1Layout> layout,
                                            Tree tree) {
  return std::make_unique<FsV1Manager>(config, std::move(layout), tree);
}

}  // namespace hippo::cgroups
