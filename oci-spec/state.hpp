#pragma once
// Container state documents: runc's `state` output (what containerd's go-runc and Docker parse)
// and the OCI state that hooks read on stdin (runtime-spec runtime.md).

#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "oci-spec/json_codec.hpp"
#include "oci-spec/spec.hpp"

namespace hippo::spec {

// created | running | paused | stopped, plus "creating" in the OCI state of createRuntime hooks.
bool valid_status(std::string_view status);

struct RuntimeState {
  std::string ociVersion;
  std::string id;
  int pid = 0;
  std::string status;
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339 with nanoseconds, UTC
  Opt<StringMap> annotations;
  std::string owner;
};

struct OciState {
  std::string ociVersion;
  std::string id;
  std::string status;
  Opt<int> pid;
  std::string bundle;
  Opt<StringMap> annotations;
};

Json to_json(const RuntimeState& state);
Json to_json(const OciState& state);
Result<RuntimeState> parse_runtime_state(std::string_view text, std::string_view label = "state");
Result<OciState> parse_oci_state(std::string_view text, std::string_view label = "state");

}  // namespace hippo::spec
