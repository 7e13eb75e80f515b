#include "runtime/cgroups/driver.hpp"

#include <string>

#include "runtime/cgroups/systemd_bus.hpp"

namespace hippo::cgroups {

Result<Driver> parse_driver(std::string_view name) {
  if (name == "cgroupfs") return Driver::cgroupfs;
  if (name == "systemd") return Driver::systemd;
  if (name == "auto") return Driver::automatic;
  return fail(ErrorKind::invalid_argument,
              "cgroup driver: must be one of \"auto\", \"systemd\", \"cgroupfs\", got \"" +
                  std::string(name) + "\"");
}

bool is_systemd_path(std::string_view cgroups_path) {
  return !cgroups_path.empty() && cgroups_path.front() != '/' &&
         cgroups_path.find(':') != std::string_view::npos;
}

Driver resolve_driver(Driver wanted, std::string_view cgroups_path) {
  if (wanted != Driver::automatic) return wanted;
  if (!cgroups_path.empty() && !is_systemd_path(cgroups_path)) return Driver::cgroupfs;
  return systemd_available() ? Driver::systemd : Driver::cgroupfs;
}

}  // namespace hippo::cgroups
