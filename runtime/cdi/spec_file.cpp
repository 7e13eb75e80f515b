#include "runtime/cdi/spec_file.hpp"

#include "base/file_io.hpp"
#include "runtime/cdi/spec_check.hpp"
#include "runtime/cdi/spec_decode.hpp"
#include "runtime/cdi/yaml_json.hpp"

namespace hippo::cdi {
namespace {

// Vendor specs describe a handful of devices; a bigger file is a mistake, not a spec.
constexpr size_t kMaxSpecBytes = 4 << 20;

Result<nlohmann::json> parse_json(std::string_view text) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    // Keep nlohmann's description without its "[json.exception.parse_error.101]" tag.
    if (auto end = what.find("] "); end != std::string::npos) what = what.substr(end + 2);
    return fail(ErrorKind::invalid_argument, "invalid JSON: " + what);
  }
}

}  // namespace

bool is_spec_file_name(std::string_view name) {
  return name.ends_with(".json") || name.ends_with(".yaml");
}

Result<SpecFile> parse_spec_file(const std::string& path, std::string_view text, int priority) {
  auto doc = path.ends_with(".json") ? parse_json(text) : yaml_to_json(text);
  if (!doc) return forward(doc, path);
  auto spec = decode_spec(*doc);
  if (!spec) return forward(spec, path);
  auto kind = check_spec(*spec);
  if (!kind) return forward(kind, path);
  return SpecFile{path, priority, kind->vendor, kind->klass, std::move(*spec)};
}

Result<SpecFile> read_spec_file(const std::string& path, int priority) {
  auto text = read_text_file(path, kMaxSpecBytes, path);
  if (!text) return std::unexpected(text.error());
  return parse_spec_file(path, *text, priority);
}

}  // namespace hippo::cdi
