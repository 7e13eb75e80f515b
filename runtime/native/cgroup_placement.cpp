#include "runtime/native/cgroup_placement.hpp"

#include <fcntl.h>

#include <algorithm>

#include "base/file_io.hpp"
#include "base/logging.hpp"
#include "runtime/cgroups/cgroup_files.hpp"
#include "runtime/cgroups/systemd_manager.hpp"
#include "runtime/cgroups/systemd_properties.hpp"
#include "runtime/features.hpp"

namespace hippo::runtime::native {

std::string PlacedCgroup::shown() const {
  if (systemd_unit) return "unit " + *systemd_unit;
  const auto dir = manager ? manager->path_of("") : std::string();
  return "cgroup " + (dir.empty() ? path : dir);
}

Result<PlacedCgroup> cgroup_for(const spec::Spec& s, const std::string& id, cgroups::Driver wanted,
                                const std::string& default_slice) {
  std::string path = s.linux && s.linux->cgroupsPath ? *s.linux->cgroupsPath : "";
  if (cgroups::resolve_driver(wanted, path) == cgroups::Driver::systemd) {
    auto scope = cgroups::parse_scope_name(path, id, default_slice);
    if (!scope) return forward(scope);
    auto extra = cgroups::annotation_properties(s.annotations.value_or(spec::StringMap{}));
    if (!extra) return forward(extra);
    auto manager = cgroups::make_systemd_manager(
        {scope->unit, scope->slice, scope->cgroup, "hippo container " + id, std::move(*extra)});
    return PlacedCgroup{std::move(manager), scope->cgroup, scope->unit};
  }
  if (path.empty()) path = "/" + id;  // runc's default for the cgroupfs driver
  if (cgroups::is_systemd_path(path)) {
    // A kubelet with cgroupDriver: systemd makes CRI pass "slice:prefix:name" whatever the
    // runtime's driver is. cgroupfs then lays the tree out as systemd would (slices nested by
    // their dashes, the container in <prefix>-<name>.scope), so the pod hierarchy stays the
    // kubelet's, where runc would make a directory literally named "slice:prefix:name".
    auto scope = cgroups::parse_scope_name(path, id, default_slice);
    if (!scope) return forward(scope);
    path = scope->cgroup;
  }
  if (path.front() != '/') path = "/" + path;
  return PlacedCgroup{cgroups::make_fs_manager({path}), path, std::nullopt};
}

std::unique_ptr<cgroups::Manager> stored_cgroup(const StoredState& st) {
  if (st.systemd_unit) {
    return cgroups::make_systemd_manager({*st.systemd_unit, "", st.cgroup_path, "", {}});
  }
  return cgroups::make_fs_manager({st.cgroup_path});
}

os::UniqueFd open_cgroup2_dir(const cgroups::Manager& cgroup) {
  const auto dir = cgroup.path_of("");
  if (dir.empty()) return os::UniqueFd();
  return os::UniqueFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

std::vector<os::UniqueFd> open_self_joins(const cgroups::Manager& cgroup, os::InitPlan& plan) {
  std::vector<os::UniqueFd> fds;
  plan.cgroup_joins = 0;
  const auto files = cgroup.self_join_files();
  if (files.size() > os::InitPlan::kMaxCgroupJoins) return fds;
  for (const auto& file : files) {
    os::UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return {};
    fds.push_back(std::move(fd));
  }
  for (const auto& fd : fds) plan.cgroup_join_fds[plan.cgroup_joins++] = fd.get();
  return fds;
}

std::string nesting_leaf_dir(const cgroups::Manager& cgroup) {
  const auto unified = cgroup.path_of("");
  if (unified.empty() || !unified_cgroup_host()) return "";
  return cgroups::join(unified, kNestingLeaf);
}

void enable_nesting_controllers(const cgroups::Manager& cgroup) {
  const auto dir = cgroup.path_of("");
  auto controllers =
      cgroups::read_file(cgroups::join(dir, "cgroup.controllers"), cgroups::Tree::kernel);
  if (!controllers) {
    log::warn("nesting: " + controllers.error().message);
    return;
  }
  const auto file = cgroups::join(dir, "cgroup.subtree_control");
  for (const auto& c : cgroups::words(*controllers)) {
    if (auto ok = cgroups::write_file(file, "+" + c, cgroups::Tree::kernel); !ok) {
      log::warn("nesting: cannot enable controller " + c +
                " for the container's cgroups: " + ok.error().message);
    }
  }
}

Result<bool> check_cgroup_before_create(const cgroups::Manager& cg) {
  const auto pids = cgroup_processes(cg);
  if (!pids.empty()) {
    log::warn("container's cgroup is not empty: " + std::to_string(pids.size()) +
              " process(es) found");
  }
  // A cgroup that does not exist yet (the usual case) cannot be frozen: read errors say no.
  if (auto frozen = cg.frozen(); frozen && *frozen) {
    return fail(ErrorKind::failed_precondition, "container's cgroup unexpectedly frozen");
  }
  return pids.empty();
}

namespace {

// `base`/`sub`, which must stay at or below `base` and exist.
Result<std::string> sub_cgroup_dir(const std::string& base, const std::string& sub) {
  const auto dir = normalize_path(base + "/" + sub);
  if (dir != base && !dir.starts_with(base + "/")) {
    return fail(ErrorKind::invalid_argument,
                "--cgroup: \"" + sub + "\" is not a sub-cgroup of the container's cgroup");
  }
  if (!is_directory(dir)) {
    return fail(ErrorKind::not_found, "--cgroup: sub-cgroup " + dir +
                                          " does not exist (it must be made below the "
                                          "container's cgroup before the exec)");
  }
  return dir;
}

}  // namespace

Result<ExecPlacement> exec_placement(const cgroups::Manager& cg,
                                     const std::map<std::string, std::string>& sub_cgroups) {
  ExecPlacement out;
  const auto unified = cg.path_of("");
  out.clone_into = unified;
  if (sub_cgroups.empty()) return out;
  // The v2 manager has one directory for every controller; a v1 one a directory for each.
  const bool pure_v2 = !unified.empty() && cg.path_of("memory") == unified;
  std::vector<std::pair<std::string, std::string>> targets;  // container's dir, sub path
  for (const auto& [controller, sub] : sub_cgroups) {
    if (!controller.empty()) {
      const auto base = pure_v2 ? std::string() : cg.path_of(controller);
      if (base.empty()) {
        return fail(
            ErrorKind::invalid_argument,
            "--cgroup: unknown controller \"" + controller + "\"" +
                (pure_v2 ? " (on cgroup v2 give the sub-cgroup without a controller)" : ""));
      }
      targets.emplace_back(base, sub);
      continue;
    }
    std::vector<std::string> bases{unified};
    for (const char* h : kV1Hierarchies) bases.push_back(cg.path_of(h));
    bases.push_back(cg.path_of("name=systemd"));  // runc moves it there too
    std::ranges::sort(bases);
    bases.erase(std::unique(bases.begin(), bases.end()), bases.end());
    for (const auto& base : bases) {
      if (!base.empty() && (!pure_v2 || base == unified)) targets.emplace_back(base, sub);
    }
  }
  for (const auto& [base, sub] : targets) {
    auto dir = sub_cgroup_dir(base, sub);
    if (!dir) return forward(dir);
    if (base == unified) out.clone_into = *dir;
    if (std::ranges::find(out.sub_dirs, *dir) == out.sub_dirs.end()) out.sub_dirs.push_back(*dir);
  }
  out.container = !pure_v2;
  return out;
}

Result<void> join_exec_cgroups(cgroups::Manager& cg, const ExecPlacement& placement, pid_t pid) {
  if (placement.container) {
    if (auto ok = cg.attach(pid); !ok) return ok;
  }
  for (const auto& dir : placement.sub_dirs) {
    auto ok = cgroups::write_file(cgroups::join(dir, "cgroup.procs"), std::to_string(pid),
                                  cgroups::Tree::kernel);
    if (!ok) return forward(ok, "--cgroup");
  }
  return {};
}

std::vector<pid_t> cgroup_processes(const cgroups::Manager& cg) {
  std::vector<pid_t> out = cg.pids().value_or(std::vector<pid_t>{});
  std::vector<std::string> dirs{cg.path_of("")};
  for (const char* h : kV1Hierarchies) dirs.push_back(cg.path_of(h));
  for (const auto& dir : dirs) {
    if (dir.empty()) continue;
    auto pids = cgroups::read_procs_recursive(dir, cgroups::Tree::kernel);
    if (pids) out.insert(out.end(), pids->begin(), pids->end());
  }
  std::ranges::sort(out);
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace hippo::runtime::native
