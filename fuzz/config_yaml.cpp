// libFuzzer target for hippo's own config.yaml (runtime/config.cpp parse_config over yaml-cpp):
// any text gives a Config or an Error naming the file, never a crash, UB or leak; a Config holds
// only values its keys allow. Built and run by hack/fuzz.sh.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "runtime/config.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool one_of(const std::string& v, std::initializer_list<std::string_view> allowed) {
  return std::ranges::find(allowed, v) != allowed.end();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = hippo::runtime::parse_config(text, "config.yaml");
  if (!config) {
    check(config.error().message.starts_with("config.yaml: "));
    return 0;
  }
  const auto& c = *config;
  check(one_of(c.backend, {"native", "runc"}));
  check(one_of(c.cgroup_driver, {"auto", "systemd", "cgroupfs"}));
  check(one_of(c.log_level, {"trace", "debug", "info", "warn", "error", "off"}));
  for (const auto* s :
       {&c.runc_binary, &c.runc_root, &c.systemd_slice, &c.state_root, &c.group_annotation}) {
    check(!s->empty());
  }
  return 0;
}
