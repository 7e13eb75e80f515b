#include "runtime/cdi/registry.hpp"

#include <algorithm>
#include <cerrno>
#include <set>

#include "base/file_io.hpp"

namespace hippo::cdi {

const std::vector<std::string>& default_spec_dirs() {
  static const std::vector<std::string> dirs = {"/etc/cdi", "/var/run/cdi"};
  return dirs;
}

std::vector<std::string> Registry::device_names() const {
  std::vector<std::string> out;
  for (const auto& [name, ref] : devices) out.push_back(name);
  return out;  // std::map keeps them sorted
}

std::vector<std::string> Registry::errors_for(const std::string& path) const {
  std::vector<std::string> out;
  for (const auto& e : errors) {
    if (e.path == path) out.push_back(e.message);
  }
  return out;
}

namespace {

std::string conflict_message(const std::string& path, const std::string& qualified,
                             const std::vector<std::string>& others) {
  std::string list;
  for (const auto& o : others) list += (list.empty() ? "" : ", ") + o;
  return path + ": device \"" + qualified + "\" is also defined in " + list +
         " (same priority): none of them is used";
}

}  // namespace

Registry load_registry(const std::vector<std::string>& dirs) {
  Registry r;
  r.dirs = dirs;
  std::map<std::string, int> conflict_priority;
  for (size_t priority = 0; priority < dirs.size(); ++priority) {
    const std::string& dir = dirs[priority];
    auto names = list_directory(dir);
    if (!names) {
      if (names.error().code != ENOENT) r.errors.push_back({dir, names.error().message});
      continue;
    }
    std::ranges::sort(*names);
    for (const auto& name : *names) {
      const std::string path = dir + "/" + name;
      // Directories are skipped, whatever they are called.
      if (!is_spec_file_name(name) || is_directory(path)) continue;
      auto file = read_spec_file(path, static_cast<int>(priority));
      if (!file) {
        r.errors.push_back({path, file.error().message});
        continue;
      }
      const size_t index = r.specs.size();
      r.specs.push_back(std::move(*file));
      const SpecFile& spec = r.specs.back();
      for (size_t d = 0; d < spec.spec.devices.size(); ++d) {
        const std::string qualified =
            spec.vendor + "/" + spec.klass + "=" + spec.spec.devices[d].name;
        auto& in_conflict = r.conflicts[qualified];
        if (auto c = conflict_priority.find(qualified);
            c != conflict_priority.end() && c->second == spec.priority) {
          // A third (fourth...) file of the conflicting priority.
          r.errors.push_back({path, conflict_message(path, qualified, in_conflict), false});
          in_conflict.push_back(path);
          continue;
        }
        auto it = r.devices.find(qualified);
        if (it != r.devices.end() && r.specs[it->second.spec].priority == spec.priority) {
          const std::string& other = r.specs[it->second.spec].path;
          r.errors.push_back({path, conflict_message(path, qualified, {other}), false});
          r.errors.push_back({other, conflict_message(other, qualified, {path}), false});
          in_conflict = {other, path};
          conflict_priority[qualified] = spec.priority;
          r.devices.erase(it);
          continue;
        }
        // New, or overriding a lower priority's definition (or conflict).
        r.devices[qualified] = DeviceRef{index, d};
        conflict_priority.erase(qualified);
        r.conflicts.erase(qualified);
      }
    }
  }
  return r;
}

}  // namespace hippo::cdi
