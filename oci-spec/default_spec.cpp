#include <algorithm>

#include "oci-spec/config.hpp"

namespace hippo::spec {
namespace {

Mount mount(std::string dest, std::string type, std::string source, Strings options = {}) {
  Mount m;
  m.destination = std::move(dest);
  m.type = std::move(type);
  m.source = std::move(source);
  if (!options.empty()) m.options = std::move(options);
  return m;
}

}  // namespace

// The same content as `runc spec` (and `runc spec --rootless`), so that scripts written against
// runc's default keep working; only ociVersion and the hostname differ.
Spec default_spec(bool rootless, uint32_t host_uid, uint32_t host_gid) {
  Spec s;
  s.ociVersion = std::string(kOciVersion);

  Process p;
  p.terminal = true;
  p.user = User{};
  p.args = Strings{"sh"};
  p.env =
      Strings{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
  p.cwd = "/";
  const Strings caps{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  p.capabilities = Capabilities{caps, caps, std::nullopt, caps, caps};
  p.rlimits = std::vector<Rlimit>{{"RLIMIT_NOFILE", 1024, 1024}};
  p.noNewPrivileges = true;
  s.process = std::move(p);

  s.root = Root{"rootfs", true};
  s.hostname = "hippo";

  Strings devpts{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
  if (!rootless) devpts.push_back("gid=5");  // gid 5 (tty) is unmapped in a rootless userns
  std::vector<Mount> mounts{
      mount("/proc", "proc", "proc"),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts", devpts),
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      rootless ? mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"})
               : mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
  };
  s.mounts = std::move(mounts);

  Linux l;
  std::vector<Namespace> ns{{"pid", {}}, {"network", {}}, {"ipc", {}}, {"uts", {}}, {"mount", {}}};
  if (rootless) {
    // An unprivileged user cannot configure a network namespace, and needs its own user one.
    std::erase_if(ns, [](const Namespace& n) { return n.type == "network"; });
    ns.push_back({"user", {}});
    l.uidMappings = std::vector<IdMapping>{{0, host_uid, 1}};
    l.gidMappings = std::vector<IdMapping>{{0, host_gid, 1}};
  } else {
    Resources r;
    r.devices = std::vector<DeviceRule>{{false, std::nullopt, std::nullopt, std::nullopt, "rwm"}};
    l.resources = std::move(r);
  }
  l.namespaces = std::move(ns);
  l.maskedPaths =
      Strings{"/proc/acpi",          "/proc/asound",     "/proc/kcore",       "/proc/keys",
              "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
              "/sys/firmware",       "/proc/scsi"};
  l.readonlyPaths =
      Strings{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  s.linux = std::move(l);
  return s;
}

}  // namespace hippo::spec
