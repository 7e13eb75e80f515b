// create, run, start, state, kill, delete, list, pause, resume: runc's lifecycle commands
// over the native backend, with runc's outputs.

#include <algorithm>
#include <array>
#include <charconv>
#include <iostream>

#include "runtime/backend.hpp"
#include "runtime/backend_choice.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/signals.hpp"
#include "runtime/foreground.hpp"
#include "runtime/runc/runc_backend.hpp"

namespace hippo::cli {
namespace {

std::unique_ptr<runtime::Backend> backend(const Context& ctx) { return make_backend(ctx); }

Result<runtime::CreateOptions> create_options(const ParsedFlags& flags) {
  runtime::CreateOptions o;
  o.id = flags.args.at(0);
  o.bundle = flags.value_or("bundle", ".");
  o.pid_file = flags.value_or("pid-file", "");
  o.console_socket = flags.value_or("console-socket", "");
  o.no_pivot = flags.enabled("no-pivot");
  o.no_new_keyring = flags.enabled("no-new-keyring");
  const auto fds = flags.value_or("preserve-fds", "0");
  auto [end, ec] = std::from_chars(fds.data(), fds.data() + fds.size(), o.preserve_fds);
  if (ec != std::errc() || end != fds.data() + fds.size() || o.preserve_fds < 0) {
    return fail("--preserve-fds: not a number of file descriptors: \"" + fds + "\"");
  }
  if (!o.pid_file.empty() && o.pid_file.front() != '/') {
    o.pid_file = (std::filesystem::current_path() / o.pid_file).string();
  }
  return o;
}

Result<int> done(Result<void> r) {
  if (!r) return std::unexpected(r.error());
  return 0;
}

std::string pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace

std::unique_ptr<runtime::Backend> make_backend(const Context& ctx) {
  auto choice = runtime::choose_backend(ctx.config, ctx.global.root);
  // --systemd-cgroup wins over config.yaml's cgroup_driver.
  if (ctx.global.systemd_cgroup) {
    choice.native.cgroup_driver = "systemd";
    choice.runc.systemd_cgroup = true;
  }
  return runtime::make_backend(choice);
}

Result<int> run_create(const Context& ctx, const ParsedFlags& flags) {
  auto o = create_options(flags);
  if (!o) return std::unexpected(o.error());
  return done(backend(ctx)->create(*o));
}

Result<int> run_run(const Context& ctx, const ParsedFlags& flags) {
  auto o = create_options(flags);
  if (!o) return std::unexpected(o.error());
  runtime::RunOptions r;
  r.detach = flags.enabled("detach");
  r.keep = flags.enabled("keep");
  return runtime::run_container(*backend(ctx), *o, r);
}

Result<int> run_start(const Context& ctx, const ParsedFlags& flags) {
  return done(backend(ctx)->start(flags.args.at(0)));
}

Result<int> run_state(const Context& ctx, const ParsedFlags& flags) {
  auto s = backend(ctx)->state(flags.args.at(0));
  if (!s) return std::unexpected(s.error());
  std::cout << spec::to_json(*s).dump(2) << "\n";
  return 0;
}

Result<int> run_kill(const Context& ctx, const ParsedFlags& flags) {
  const std::string name = flags.args.size() > 1 ? flags.args[1] : "SIGTERM";
  auto sig = parse_signal(name);
  if (!sig) return fail("unknown signal \"" + name + "\"");
  return done(backend(ctx)->kill(flags.args.at(0), *sig, flags.enabled("all")));
}

Result<int> run_delete(const Context& ctx, const ParsedFlags& flags) {
  return done(backend(ctx)->remove(flags.args.at(0), flags.enabled("force")));
}

Result<int> run_pause(const Context& ctx, const ParsedFlags& flags) {
  return done(backend(ctx)->pause(flags.args.at(0)));
}

Result<int> run_resume(const Context& ctx, const ParsedFlags& flags) {
  return done(backend(ctx)->resume(flags.args.at(0)));
}

Result<int> run_list(const Context& ctx, const ParsedFlags& flags) {
  auto all = backend(ctx)->list();
  if (!all) return std::unexpected(all.error());
  const auto format = flags.value_or("format", "table");
  if (flags.enabled("quiet")) {
    for (const auto& s : *all) std::cout << s.id << "\n";
    return 0;
  }
  if (format == "json") {
    spec::Json array = spec::Json::array();
    for (const auto& s : *all) array.push_back(spec::to_json(s));
    std::cout << array.dump() << "\n";
    return 0;
  }
  if (format != "table") return fail("invalid format option \"" + format + "\": use table or json");
  // runc's tabwriter (minimum width 12, padding 3): a column is as wide as its longest cell.
  std::vector<std::array<std::string, 6>> rows{
      {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  for (const auto& s : *all) {
    rows.push_back({s.id, std::to_string(s.pid), std::string(spec::to_string(s.status)), s.bundle,
                    s.created, s.owner});
  }
  std::array<size_t, 6> width{};
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i)
      width[i] = std::max({width[i], size_t{12}, row[i].size() + 3});
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i + 1 < row.size(); ++i) line += pad(row[i], width[i]);
    std::cout << line << row.back() << "\n";
  }
  return 0;
}

}  // namespace hippo::cli
