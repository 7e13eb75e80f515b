// libFuzzer target for config.json, which whoever creates a container writes: parse (types and
// ranges), validate (the spec's and runc's rules) and, for a valid spec, build the init plan.
// Bad input must come back as an Error value; a crash, UB, a leak or a failed check below is a
// finding. Built and run by hack/fuzz.sh.
//
// Idmapped mounts are taken out before build_init_plan: make_idmapped_tree acts on the host
// (open_tree of a host path, a user namespace per call) and is not a parser. Every other step
// only reads the host (stat of bind sources, /proc/self/mountinfo, the LSM switches).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "oci-spec/config.hpp"
#include "runtime/linux/init_plan.hpp"

namespace {

namespace spec = hippo::spec;
namespace plan = hippo::os;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// An error is one line naming what was wrong (the project's rule for what a user sees).
void check_error(const hippo::Error& e) { check(!e.message.empty()); }

void drop_idmaps(spec::Spec& s) {
  if (!s.mounts) return;
  for (auto& m : *s.mounts) {
    m.uidMappings.reset();
    m.gidMappings.reset();
    if (m.options)
      std::erase_if(*m.options, [](const std::string& o) { return o == "idmap" || o == "ridmap"; });
  }
}

// A rootfs and bundle that exist (hack/fuzz.sh makes them), so that bind sources and mount
// targets are looked up for real; a path that does not exist otherwise.
const char* dir_from_env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = spec::parse(text);
  if (!parsed) {
    check_error(parsed.error());
    return 0;
  }
  // What parses serializes to a config that parses back to the same text.
  const std::string once = spec::serialize(*parsed);
  auto again = spec::parse(once);
  check(again.has_value());
  check(spec::serialize(*again) == once);

  if (auto ok = spec::validate(*parsed); !ok) {
    check_error(ok.error());
    return 0;
  }
  drop_idmaps(*parsed);
  static const std::string bundle = dir_from_env("HIPPO_FUZZ_BUNDLE", "/nonexistent-hippo-fuzz");
  auto built = plan::build_init_plan(*parsed, bundle + "/rootfs", {.bundle = bundle});
  if (!built) {
    check_error(built.error());
    return 0;
  }
  plan::bind_views(*built);
  return 0;
}
