#pragma once
// A CDI spec document (already parsed: JSON as is, YAML converted by yaml_json.hpp) to the model.
// Strict like the reference's loader: an unknown field, a wrong type or a number out of range is
// an error naming the field ("devices[0].containerEdits.deviceNodes[1].major: must be an
// integer"). Meaning (names, versions, edits) is checked afterwards by spec_check.hpp.

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "runtime/cdi/spec_model.hpp"

namespace hippo::cdi {

Result<Spec> decode_spec(const nlohmann::json& doc);

}  // namespace hippo::cdi
