#include "runtime/backend_choice.hpp"

#include <cerrno>
#include <utility>
#include <vector>

#include "base/file_io.hpp"

namespace hippo::runtime {
namespace {

std::string under_namespace(std::string root, std::string_view ns) {
  if (ns.empty()) return root;
  return root + "/" + std::string(ns);
}

// key=value lines; values are paths and names, which must not hold a newline.
std::string encode(const BackendChoice& c) {
  std::string out =
      std::string("backend=") + (c.kind == BackendChoice::Kind::runc ? "runc" : "native") + "\n";
  out += "state_root=" + c.native.state_root + "\n";
  out += "cgroup_driver=" + c.native.cgroup_driver + "\n";
  out += "systemd_slice=" + c.native.systemd_slice + "\n";
  out += "runc_binary=" + c.runc.binary + "\n";
  out += "runc_root=" + c.runc.root + "\n";
  out += std::string("runc_systemd_cgroup=") + (c.runc.systemd_cgroup ? "true" : "false") + "\n";
  return out;
}

Result<BackendChoice> decode(std::string_view text, const std::string& label) {
  BackendChoice c;
  for (const auto& line : split_lines(text)) {
    if (line.empty()) continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos)
      return fail(ErrorKind::invalid_argument, label + ": not key=value: \"" + line + "\"");
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "backend") {
      if (value != "native" && value != "runc") {
        return fail(ErrorKind::invalid_argument, label + ": backend: unknown \"" + value + "\"");
      }
      c.kind = value == "runc" ? BackendChoice::Kind::runc : BackendChoice::Kind::native;
    } else if (key == "state_root") {
      c.native.state_root = value;
    } else if (key == "cgroup_driver") {
      c.native.cgroup_driver = value;
    } else if (key == "systemd_slice") {
      c.native.systemd_slice = value;
    } else if (key == "runc_binary") {
      c.runc.binary = value;
    } else if (key == "runc_root") {
      c.runc.root = value;
    } else if (key == "runc_systemd_cgroup") {
      c.runc.systemd_cgroup = value == "true";
    } else {
      return fail(ErrorKind::invalid_argument, label + ": unknown key \"" + key + "\"");
    }
  }
  return c;
}

}  // namespace

BackendChoice choose_backend(const Config& config, std::string state_root, std::string_view ns) {
  BackendChoice c;
  c.kind = config.backend == "runc" ? BackendChoice::Kind::runc : BackendChoice::Kind::native;
  c.native = native_options(config, std::move(state_root));
  c.runc = RuncOptions{config.runc_binary, under_namespace(config.runc_root, ns),
                       config.cgroup_driver == "systemd", c.native.nesting};
  return c;
}

BackendChoice with_runc_overrides(BackendChoice base, const RuncOverrides& overrides,
                                  std::string_view ns) {
  // Root is where the container's state lives, whichever backend holds it: runc's --root, or
  // the native backend's state root (docs/containerd.md), <Root>/<ns> as containerd's runc shim.
  if (!overrides.root.empty()) {
    base.runc.root = under_namespace(overrides.root, ns);
    base.native.state_root = base.runc.root;
  }
  if (overrides.binary_name.empty()) return base;
  base.kind = BackendChoice::Kind::runc;
  base.runc.binary = overrides.binary_name;
  base.runc.systemd_cgroup = overrides.systemd_cgroup;
  return base;
}

std::unique_ptr<Backend> make_backend(const BackendChoice& choice) {
  if (choice.kind == BackendChoice::Kind::runc) return make_runc_backend(choice.runc);
  return make_native_backend(choice.native);
}

Result<void> save_backend_choice(const std::string& bundle, const BackendChoice& choice) {
  const std::string path = bundle + "/" + std::string(kBackendRecord);
  for (const std::string* value :
       {&choice.native.state_root, &choice.native.cgroup_driver, &choice.native.systemd_slice,
        &choice.runc.binary, &choice.runc.root}) {
    if (value->find('\n') != std::string::npos) {
      return fail(ErrorKind::invalid_argument, path + ": a newline in \"" + *value + "\"");
    }
  }
  if (auto ok = write_text_file(path, encode(choice), 0600); !ok)
    return forward(ok, "save backend choice");
  return {};
}

Result<BackendChoice> load_backend_choice(const std::string& bundle, BackendChoice fallback) {
  const std::string path = bundle + "/" + std::string(kBackendRecord);
  if (auto text = read_text_file(path, 64 * 1024, path))
    return decode(*text, path);
  else if (text.error().code != ENOENT)
    return forward(text, "load backend choice");
  // Records of shims before the unified one: runc's three lines, or native's state root.
  if (auto text = read_text_file(bundle + "/hippo-runc")) {
    auto lines = split_lines(*text);
    lines.resize(3);
    fallback.kind = BackendChoice::Kind::runc;
    fallback.runc = RuncOptions{lines[0], lines[1], lines[2] == "systemd", {}};
    return fallback;
  }
  if (auto text = read_text_file(bundle + "/hippo-state-root"); text && !text->empty()) {
    fallback.kind = BackendChoice::Kind::native;
    fallback.native.state_root = split_lines(*text).front();
  }
  return fallback;
}

}  // namespace hippo::runtime
