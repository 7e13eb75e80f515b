// process.capabilities as the bit masks the container's init hands to capset(2) and prctl(2).

#include <charconv>
#include <string>

#include "base/file_io.hpp"
#include "oci-spec/names.hpp"
#include "runtime/linux/init_plan.hpp"

namespace hippo::os {

int kernel_last_cap() {
  auto text = read_text_file("/proc/sys/kernel/cap_last_cap");
  int last = -1;
  if (text) std::from_chars(text->data(), text->data() + text->size(), last);
  // Without the file (very old kernels) CAP_AUDIT_READ (37) was the last one.
  if (last < 0 || last > 63) return 37;
  return last;
}

Result<CapabilitySets> build_capability_sets(const spec::Capabilities& caps, int last_cap,
                                             std::vector<std::string>& warnings) {
  CapabilitySets out;
  out.apply = true;
  out.last_cap = last_cap;
  const std::pair<const char*, const std::optional<spec::Strings>*> sets[] = {
      {"bounding", &caps.bounding},
      {"effective", &caps.effective},
      {"inheritable", &caps.inheritable},
      {"permitted", &caps.permitted},
      {"ambient", &caps.ambient}};
  uint64_t* masks[] = {&out.bounding, &out.effective, &out.inheritable, &out.permitted,
                       &out.ambient};
  for (size_t i = 0; i < std::size(sets); ++i) {
    const auto& [set_name, names] = sets[i];
    for (const auto& name : names->value_or(spec::Strings{})) {
      const auto number = spec::names::find(spec::names::capabilities(), name);
      if (!number) {
        return fail(std::string("process.capabilities.") + set_name + ": unknown capability \"" +
                    name + "\"");
      }
      if (*number > last_cap) {
        warnings.push_back(std::string("process.capabilities.") + set_name + ": " + name +
                           " is not known to the running kernel (cap_last_cap " +
                           std::to_string(last_cap) + "): skipped");
        continue;
      }
      *masks[i] |= uint64_t{1} << *number;
    }
  }
  // The kernel raises an ambient capability only if it is both permitted and inheritable; the
  // others are left out quietly, as with runc, whose default spec lists ambient capabilities
  // without inheritable ones.
  out.ambient &= out.permitted & out.inheritable;
  return out;
}

}  // namespace hippo::os
