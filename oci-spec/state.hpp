#pragma once
// Container state documents: runc's `state` output (what containerd's go-runc and Docker parse)
// and the OCI state that hooks read on stdin (runtime-spec runtime.md).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "oci-spec/json_codec.hpp"
#include "oci-spec/spec.hpp"

namespace hippo::spec {

// A container's status. The OCI ones (runtime.md: creating, created, running, stopped) plus
// runc's paused; and two that only hippo's state store reports, for a record that no command can
// act on: `incomplete` (a create that was killed) and `corrupt` (state.json unreadable).
enum class Status : uint8_t { creating, created, running, paused, stopped, incomplete, corrupt };

// The JSON text of a status ("created" ...).
std::string_view to_string(Status status);
// The status named `text`, if it is one of the OCI/runc set (hippo's own two are only written).
std::optional<Status> status_from_string(std::string_view text);
// For the JSON codec (json_codec.hpp reads enums through it).
bool from_string(std::string_view text, Status& out);

struct RuntimeState {
  std::string ociVersion;
  std::string id;
  int pid = 0;
  Status status = Status::stopped;
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339 with nanoseconds, UTC
  Opt<StringMap> annotations;
  std::string owner;
};

struct OciState {
  std::string ociVersion;
  std::string id;
  Status status = Status::creating;
  Opt<int> pid;
  std::string bundle;
  Opt<StringMap> annotations;
};

Json to_json(const RuntimeState& state);
Json to_json(const OciState& state);
Result<RuntimeState> parse_runtime_state(std::string_view text, std::string_view label = "state");
Result<OciState> parse_oci_state(std::string_view text, std::string_view label = "state");

}  // namespace hippo::spec
