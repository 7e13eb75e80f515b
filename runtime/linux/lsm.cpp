#include "runtime/linux/lsm.hpp"

#include <sys/statfs.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace hippo::linux {

bool apparmor_enabled() {
  std::ifstream in("/sys/module/apparmor/parameters/enabled");
  std::string v;
  return in >> v && v == "Y";
}

bool selinux_enabled() {
  constexpr long kSelinuxMagic = 0xf97cff8c;
  struct statfs st {};
  return ::statfs("/sys/fs/selinux", &st) == 0 && st.f_type == kSelinuxMagic;
}

}  // namespace hippo::linux
