#pragma once
// OCI hooks run by hippo itself, in the runtime's namespaces: prestart and createRuntime (during
// create, once init's namespaces exist and before its pivot_root), poststart (after start),
// poststop (at delete). createContainer and startContainer run inside the container: the init
// child runs them from its plan (init_plan.hpp).
//
// Each hook gets the container's state JSON on stdin; a hook that exits non-zero, dies or
// outlives its `timeout` (seconds) fails its kind: the remaining hooks of the kind do not run.

#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "oci-spec/spec.hpp"

namespace hippo::runtime {

// `kind` names the hooks in errors:
// "error running hook #0 (prestart, /usr/bin/x): exit status 3: <stderr>".
Result<void> run_hooks(std::string_view kind, const std::vector<spec::Hook>& hooks,
                       const std::string& state_json);

}  // namespace hippo::runtime
