#include "runtime/linux/lsm.hpp"

#include <sys/statfs.h>
#include <unistd.h>

#include <string>

#include "base/file_io.hpp"

namespace hippo::os {

bool apparmor_enabled() {
  auto v = hippo::read_text_file("/sys/module/apparmor/parameters/enabled");
  return v && v->starts_with("Y");
}

bool selinux_enabled() {
  constexpr long kSelinuxMagic = 0xf97cff8c;
  struct statfs st {};
  return ::statfs("/sys/fs/selinux", &st) == 0 && st.f_type == kSelinuxMagic;
}

}  // namespace hippo::os
