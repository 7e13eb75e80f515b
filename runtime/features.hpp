#pragma once
// What this hippo build and host support, as the runtime-spec `features` document.

#include "oci-spec/features.hpp"

namespace hippo::runtime {

spec::Features host_features();

}  // namespace hippo::runtime
