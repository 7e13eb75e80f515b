#include "runtime/native/cgroup_placement.hpp"

#include <fcntl.h>

#include <algorithm>

#include "runtime/cgroups/cgroup_files.hpp"
#include "runtime/cgroups/systemd_manager.hpp"
#include "runtime/cgroups/systemd_properties.hpp"

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
