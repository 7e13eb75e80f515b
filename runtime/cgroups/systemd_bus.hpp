#pragma once
// A connection to systemd's manager (org.freedesktop.systemd1) over the system bus, through
// sd-bus. libsystemd is loaded with dlopen the first time a connection is opened: hippo's
// binaries link only libc dynamically, and a shim that never meets the systemd driver should
// not map libsystemd and its dependencies (about 0.9 MB of RSS per shim).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "runtime/cgroups/systemd_properties.hpp"

namespace hippo::cgroups {

// How long a start or stop job of a unit may take before we give up on it.
inline constexpr std::chrono::milliseconds kJobTimeout{30000};

class SystemdConnection {
 public:
  // Connects to the system bus and subscribes to the manager's signals (JobRemoved).
  static Result<SystemdConnection> open();

  SystemdConnection(SystemdConnection&&) noexcept;
  SystemdConnection& operator=(SystemdConnection&&) noexcept;
  ~SystemdConnection();

  // systemd's major version, from the manager's Version property ("252.39-1" -> 252).
  Result<int> version();

  // StartTransientUnit(name, "replace", properties) and waits for the job's JobRemoved.
  // A unit of that name that already exists is an error with code EEXIST; a job that ends
  // in anything but "done" is an error naming its result.
  Result<void> start_transient_unit(const std::string& name,
                                    const std::vector<Property>& properties,
                                    std::chrono::milliseconds timeout = kJobTimeout);
  // SetUnitProperties(name, runtime=true, properties): the change lasts until reboot and is
  // re-applied by systemd on every daemon-reload.
  Result<void> set_unit_properties(const std::string& name,
                                   const std::vector<Property>& properties);
  // StopUnit(name, "replace") and waits for its job; a unit that does not exist is success.
  Result<void> stop_unit(const std::string& name, std::chrono::milliseconds timeout = kJobTimeout);
  // ResetFailedUnit(name); a unit that does not exist is success.
  Result<void> reset_failed_unit(const std::string& name);

 private:
  struct State;
  explicit SystemdConnection(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

// The systemd driver can be used here: /run/systemd/system exists (systemd is PID 1 of this
// mount namespace) and its manager answers on the system bus.
bool systemd_available();

}  // namespace hippo::cgroups
