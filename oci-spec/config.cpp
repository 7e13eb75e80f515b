#include "oci-spec/config.hpp"

#include "base/file_io.hpp"
#include "oci-spec/schema.hpp"

namespace hippo::spec {

Result<Spec> parse(std::string_view json_text, std::string_view label) {
  std::string syntax_error;
  auto json = parse_json_text(json_text, label, syntax_error);
  if (!json) return fail(syntax_error);
  if (!json->is_object()) {
    return fail(std::string(label) + ": expected a JSON object at the top level, got " +
                codec::shown(*json));
  }
  Spec spec;
  codec::Failure failure;
  codec::read_value(*json, "", spec, failure);
  if (failure.failed()) {
    return fail(std::string(label) + ": " + failure.path + ": " + failure.reason);
  }
  return spec;
}

Result<Spec> load(const std::string& file, std::string_view label) {
  auto text = read_json_file(file, label);
  if (!text) return std::unexpected(text.error());
  auto spec = parse(*text, label);
  if (!spec) return spec;
  // runc's words for a config its validator refuses, which users and tools grep for.
  if (auto ok = validate(*spec, label); !ok) return forward(ok, "invalid configuration");
  return spec;
}

Json to_json(const Spec& spec) { return codec::write_value(spec); }

std::string serialize(const Spec& spec) { return to_json(spec).dump(1, '\t') + "\n"; }

}  // namespace hippo::spec
