#pragma once
// SHA-256 (FIPS 180-4), for the shim socket name only: a short, stable name from containerd's
// address, the namespace and the group. Not used for anything security-relevant.

#include <string>
#include <string_view>

namespace hippo::shim {

std::string sha256_hex(std::string_view data);

}  // namespace hippo::shim
