// libFuzzer target for CDI spec files (runtime/cdi: YAML through yaml-cpp or JSON through
// nlohmann, the strict decoder, the version and meaning checks) and for cdi.k8s.io/ annotation
// values: any text gives a spec or an Error naming the file, never a crash, UB or leak; a spec
// that loads has a valid kind, at least one device, and a declared version its fields allow.
// The first byte picks the format. Built and run by hack/fuzz.sh.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/cdi/annotations.hpp"
#include "runtime/cdi/qualified_name.hpp"
#include "runtime/cdi/spec_file.hpp"
#include "runtime/cdi/versions.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string path = (data[0] & 1) ? "/etc/cdi/f.json" : "/etc/cdi/f.yaml";
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto file = hippo::cdi::parse_spec_file(path, text);
  if (!file) {
    check(file.error().message.starts_with(path + ": "));
  } else {
    check(!file->spec.devices.empty());
    check(hippo::cdi::parse_kind(file->spec.kind).has_value());
    check(hippo::cdi::check_version(file->spec).has_value());
  }
  // The same bytes as an annotation value: every name that passes is fully qualified.
  auto requests = hippo::cdi::parse_annotations({{"cdi.k8s.io/f", std::string(text)}});
  if (requests) {
    for (const auto& r : *requests) check(hippo::cdi::parse_qualified_name(r.device).has_value());
  }
  return 0;
}
