// exec: a new process in a running container, with runc's flags.

#include <charconv>
#include <map>
#include <string_view>
#include <vector>

#include "oci-spec/schema.hpp"
#include "runtime/backend.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/foreground.hpp"

namespace hippo::cli {
namespace {

Result<uint32_t> parse_id(const std::string& what, const std::string& text) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return fail(what + ": \"" + text + "\" is not a numeric id");
  }
  return v;
}

// A process.json as runc reads it: Go's decoder leaves a missing `user` at its zero value, so
// such a process runs as uid 0, gid 0 (the runtime-spec requires the member in config.json
// only).
Result<spec::Process> read_process_file(const std::string& file) {
  auto text = spec::read_json_file(file, file);
  if (!text) return std::unexpected(text.error());
  std::string syntax_error;
  auto json = spec::parse_json_text(*text, file, syntax_error);
  if (!json) return fail(syntax_error);
  if (json->is_object() && !json->contains("user")) {
    (*json)["user"] = spec::Json{{"uid", 0}, {"gid", 0}};
    return spec::read_document<spec::Process>(json->dump(), file);
  }
  return spec::read_document<spec::Process>(*text, file);
}

// --cgroup values, by runc exec's rules: one bare path (for every controller), or any number of
// `controller[,controller]:path`; a later value for a controller replaces an earlier one.
Result<std::map<std::string, std::string>> parse_sub_cgroups(
    const std::vector<std::string>& values) {
  std::map<std::string, std::string> out;
  for (const auto& v : values) {
    const auto colon = v.find(':');
    if (colon == std::string::npos) {
      if (values.size() != 1) {
        return fail("--cgroup: \"" + v +
                    "\" needs a <controller>: prefix (with more than one --cgroup)");
      }
      out[""] = v;
      continue;
    }
    const auto path = v.substr(colon + 1);
    if (path.find(':') != std::string::npos) {
      return fail("--cgroup: \"" + v + "\" is not of the form [<controller>:]<cgroup>");
    }
    std::string_view controllers(v.data(), colon);
    for (size_t start = 0;;) {
      const auto comma = controllers.find(',', start);
      out[std::string(controllers.substr(start, comma - start))] = path;
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

}  // namespace

Result<int> run_exec(const Context& ctx, const ParsedFlags& flags) {
  runtime::ExecOptions o;
  o.id = flags.args.at(0);
  if (auto file = flags.value("process")) {
    auto p = read_process_file(*file);
    if (!p) return std::unexpected(p.error());
    o.process = std::move(*p);
  } else {
    o.args.assign(flags.args.begin() + 1, flags.args.end());
    if (o.args.empty()) return fail("exec: needs a command to run (or --process)");
  }
  o.env = flags.all("env");
  for (const auto& kv : o.env) {
    if (kv.find('=') == std::string::npos || kv.front() == '=') {
      return fail("--env: \"" + kv + "\" is not of the form KEY=VALUE");
    }
  }
  o.cwd = flags.value_or("cwd", "");
  if (!o.cwd.empty() && o.cwd.front() != '/') return fail("--cwd: must be an absolute path");
  if (auto user = flags.value("user")) {
    const auto colon = user->find(':');
    auto uid = parse_id("--user", user->substr(0, colon));
    if (!uid) return std::unexpected(uid.error());
    o.uid = *uid;
    if (colon != std::string::npos) {
      auto gid = parse_id("--user", user->substr(colon + 1));
      if (!gid) return std::unexpected(gid.error());
      o.gid = *gid;
    }
  }
  for (const auto& g : flags.all("additional-gids")) {
    auto gid = parse_id("--additional-gids", g);
    if (!gid) return std::unexpected(gid.error());
    o.additional_gids.push_back(*gid);
  }
  o.tty = flags.enabled("tty");
  o.detach = flags.enabled("detach");
  o.no_new_privs = flags.enabled("no-new-privs");
  o.ignore_paused = flags.enabled("ignore-paused");
  o.pid_file = flags.value_or("pid-file", "");
  o.console_socket = flags.value_or("console-socket", "");
  {
    const auto fds = flags.value_or("preserve-fds", "0");
    auto [end, ec] = std::from_chars(fds.data(), fds.data() + fds.size(), o.preserve_fds);
    if (ec != std::errc() || end != fds.data() + fds.size() || o.preserve_fds < 0) {
      return fail("--preserve-fds: not a number of file descriptors: \"" + fds + "\"");
    }
  }
  auto sub_cgroups = parse_sub_cgroups(flags.all("cgroup"));
  if (!sub_cgroups) return std::unexpected(sub_cgroups.error());
  o.sub_cgroups = std::move(*sub_cgroups);
  if (flags.has("apparmor")) o.apparmor_profile = flags.value_or("apparmor", "");
  if (flags.has("process-label")) o.process_label = flags.value_or("process-label", "");
  o.caps = flags.all("cap");
  return runtime::exec_in_container(*make_backend(ctx), o);
}

}  // namespace hippo::cli
