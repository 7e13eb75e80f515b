#pragma once
// The second backend: an external runc-compatible binary driven through its command line, the
// way containerd's go-runc drives it (--root, --log <file> --log-format json, create/start/
// exec --detach with --pid-file, --console-socket). Errors come from runc's JSON log.

#include <memory>
#include <string>

#include "runtime/backend.hpp"

namespace hippo::runtime {

struct RuncOptions {
  std::string binary = "runc";
  std::string root = "/run/hippo/runc";
  bool systemd_cgroup = false;
  NestingConfig nesting;  // config.yaml's: a container that would nest is refused (runc cannot)
};

std::unique_ptr<Backend> make_runc_backend(const RuncOptions& options);

}  // namespace hippo::runtime
