#include "runtime/cdi/host_node.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace hippo::cdi {

Result<HostNode> stat_host_node(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return fail_errno("host node \"" + path + "\"");
  HostNode out;
  switch (st.st_mode & S_IFMT) {
    case S_IFBLK:
      out.type = "b";
      break;
    case S_IFCHR:
      out.type = "c";
      break;
    case S_IFIFO:
      out.type = "p";
      break;
    default:
      return fail(ErrorKind::invalid_argument, "host node \"" + path + "\" is not a device node");
  }
  out.major = static_cast<int64_t>(major(st.st_rdev));
  out.minor = static_cast<int64_t>(minor(st.st_rdev));
  out.mode = static_cast<uint32_t>(st.st_mode & ~S_IFMT);
  return out;
}

Result<DeviceNode> complete_node(const DeviceNode& node) {
  DeviceNode n = node;
  if (n.hostPath.value_or("").empty()) n.hostPath = n.path;
  const std::string type = n.type.value_or("");
  // The reference treats major 0 as "not given" (Go's zero value).
  const bool fully_given = !type.empty() && (n.major.value_or(0) != 0 || type == "p");
  auto host = stat_host_node(*n.hostPath);
  if (!host) {
    if (fully_given) return n;
    return std::unexpected(host.error());
  }
  if (!n.fileMode) n.fileMode = host->mode;
  if (fully_given) return n;
  // "u" (unbuffered char) is a char node on the host.
  if (type.empty()) {
    n.type = host->type;
  } else if (!(type == host->type || (type == "u" && host->type == "c"))) {
    return fail(ErrorKind::invalid_argument, "type \"" + type + "\" but host node \"" +
                                                 *n.hostPath + "\" is of type \"" + host->type +
                                                 "\"");
  }
  if (*n.type != "p" && n.major.value_or(0) == 0) {
    n.major = host->major;
    n.minor = host->minor;
  }
  return n;
}

}  // namespace hippo::cdi
