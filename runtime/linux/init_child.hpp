#pragma once
// The container's init between clone and execve. Async-signal-safe: it only walks the plan.

#include "runtime/linux/init_plan.hpp"

namespace hippo::os {

[[noreturn]] void run_init(const InitPlan& plan);

}  // namespace hippo::os
