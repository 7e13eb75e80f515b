#pragma once
// The shim binary's command line as containerd writes it (Go flag conventions: -flag value,
// -flag=value, --flag, booleans without value; the first non-flag word is the action).

#include <string>
#include <vector>

#include "base/error.hpp"

namespace hippo::shim {

struct ShimFlags {
  std::string ns;              // -namespace
  std::string address;         // -address: containerd's gRPC socket
  std::string publish_binary;  // -publish-binary (unused since containerd 1.3)
  std::string id;              // -id
  std::string bundle;          // -bundle (delete only; else the cwd)
  std::string socket;          // -socket: serve here (the daemon)
  bool debug = false;
  bool version = false;  // -v / -version
  bool info = false;     // -info
  std::string action;    // "start", "delete", or "" for the daemon
};

Result<ShimFlags> parse_shim_flags(const std::vector<std::string>& argv);

}  // namespace hippo::shim
