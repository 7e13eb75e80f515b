#pragma once
// config.json in and out: parse (types and ranges), validate (the spec's and runc's rules),
// serialize (round trip), and the default config `hippo spec` writes.
// Every error reads "<label>: <json.path>: <reason>", e.g.
//   config.json: linux.namespaces[2].type: unknown namespace "pidd"

#include <string>
#include <string_view>

#include "base/error.hpp"
#include "oci-spec/json_codec.hpp"
#include "oci-spec/spec.hpp"

namespace hippo::spec {

// The oldest and newest runtime-spec versions this model reads and `features` reports.
inline constexpr std::string_view kOciVersionMin = "1.0.0";
inline constexpr std::string_view kOciVersionMax = "1.2.0";
// The version `hippo spec` writes and state JSON reports.
inline constexpr std::string_view kOciVersion = "1.2.0";

Result<Spec> parse(std::string_view json_text, std::string_view label = "config.json");
Result<void> validate(const Spec& spec, std::string_view label = "config.json");
// parse + validate of a file. I/O errors name the file's full path; validate's errors read
// "invalid configuration: <label>: <json.path>: <reason>", as runc's do.
Result<Spec> load(const std::string& file, std::string_view label = "config.json");

Json to_json(const Spec& spec);
// Tab-indented like `runc spec`, with a trailing newline.
std::string serialize(const Spec& spec);

// The config `runc spec` writes (sh in a busybox-like rootfs); rootless adds a user namespace
// mapping the caller's uid/gid, as `runc spec --rootless` does.
Spec default_spec(bool rootless = false, uint32_t host_uid = 0, uint32_t host_gid = 0);

}  // namespace hippo::spec
