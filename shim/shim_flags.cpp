#include "shim/shim_flags.hpp"

#include "base/flags.hpp"
#include "runtime/bundle.hpp"

namespace hippo::shim {
namespace {

constexpr FlagSpec kFlags[] = {
    {"namespace", 0, true, false, "namespace that owns the shim"},
    {"address", 0, true, false, "grpc address back to main containerd"},
    {"publish-binary", 0, true, false, "path to publish binary (used for publishing events)"},
    {"id", 0, true, false, "id of the task"},
    {"bundle", 0, true, false, "path to the bundle if not workdir"},
    {"socket", 0, true, false, "socket path to serve"},
    {"debug-socket", 0, true, false, "debug socket path to serve (ignored)"},
    {"debug", 0, false, false, "enable debug output in logs"},
    {"version", 'v', false, false, "show the shim version and exit"},
    {"info", 0, false, false,
     "get the option protobuf from stdin, print the shim info protobuf to stdout, and exit"},
};

}  // namespace

Result<ShimFlags> parse_shim_flags(const std::vector<std::string>& argv) {
  auto parsed = parse_flags(kFlags, argv, /*stop_at_first_arg=*/true);
  if (!parsed) return std::unexpected(parsed.error());
  ShimFlags f;
  f.ns = parsed->value_or("namespace", "");
  f.address = parsed->value_or("address", "");
  f.publish_binary = parsed->value_or("publish-binary", "");
  f.id = parsed->value_or("id", "");
  f.bundle = parsed->value_or("bundle", "");
  f.socket = parsed->value_or("socket", "");
  f.debug = parsed->enabled("debug");
  f.version = parsed->enabled("version");
  f.info = parsed->enabled("info");
  if (!parsed->args.empty()) f.action = parsed->args.front();
  if (f.action != "" && f.action != "start" && f.action != "delete") {
    return fail("unknown action \"" + f.action + "\" (start, delete)");
  }
  if (f.version || f.info) return f;
  if (f.ns.empty()) return fail("shim namespace cannot be empty");
  // Both become path components (<state_root>/containerd/<ns>/<id>): checked before `start` or
  // `delete` touches anything. containerd's own rules for both are narrower than runc's id rule.
  if (auto ok = runtime::validate_container_id(f.ns); !ok) {
    return fail(ErrorKind::invalid_argument, "invalid namespace \"" + f.ns + "\"");
  }
  if (!f.action.empty() || !f.id.empty()) {
    if (auto ok = runtime::validate_container_id(f.id); !ok) return std::unexpected(ok.error());
  }
  return f;
}

}  // namespace hippo::shim
