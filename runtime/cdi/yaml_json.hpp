#pragma once
// A YAML CDI spec as a JSON document, so that both file formats go through one strict decoder
// (the reference also reads YAML by converting it to JSON). Every scalar becomes a JSON string
// except the plain null forms (~, null): the reference's YAML reader converts a scalar to the
// type of the field it fills (`name: 0` is the name "0"), and spec_decode reads numbers and
// booleans from strings, so the field decides here too.

#include <nlohmann/json.hpp>
#include <string_view>

#include "base/error.hpp"

namespace hippo::cdi {

// The first YAML document of `text`; errors: "invalid YAML at line 3, column 5: …" and
// "duplicate key \"kind\" at line 4".
Result<nlohmann::json> yaml_to_json(std::string_view text);

}  // namespace hippo::cdi
