#pragma once
// Device access on cgroup v2. There is no devices.allow file: the kernel asks an eBPF program of
// type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup, once per open/mknod, with the device's
// type, major, minor and the access wanted. This builds that program from the rules v1 would
// write (the spec's, then default_devices()) and attaches it.
//
// Meaning, as on v1 after runc's "deny a" start: the last rule that matches decides. An allow
// rule matches a request it fully covers (each access wanted is in the rule); a deny rule one it
// overlaps (any access wanted is in the rule). No match denies.

#include <linux/bpf.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "oci-spec/spec.hpp"

namespace hippo::cgroups {

// The program for `rules` followed by default_devices(). Errors name the bad rule.
Result<std::vector<bpf_insn>> device_filter_program(const std::vector<spec::DeviceRule>& rules);

// What the program decides for one request; for tests, which run it without a kernel.
// `type` 'c' or 'b'; `access` letters from "rwm".
bool run_device_filter(const std::vector<bpf_insn>& program, char type, uint32_t major,
                       uint32_t minor, std::string_view access);

// Loads the program and attaches it to the cgroup directory `dir`, replacing the program a
// previous call attached there (exclusive attach: one filter per container cgroup).
Result<void> attach_device_filter(const std::string& dir, const std::vector<bpf_insn>& program);

}  // namespace hippo::cgroups
