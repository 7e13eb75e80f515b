#pragma once
// linux.resources as cgroup file writes: what to write where, in which order, with no I/O.
// Follows runc (libcontainer/cgroups/fs, fs2): 0 leaves a memory/cpu/blkio number unset, -1 is
// unlimited ("max" on v2), only the fields present are written (so an update changes only those).

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "oci-spec/spec.hpp"

namespace hippo::cgroups {

// What a write does when its file does not exist (ENOENT).
enum class IfMissing : uint8_t {
  fail,      // the request cannot be honoured: an error
  skip,      // a file some kernels lack and the request does not need (hugetlb rsvd, memsw -1)
  use_next,  // the next write is the fallback (io.bfq.weight, else io.weight); when this one
             // succeeds the next is skipped
};

struct FileWrite {
  std::string controller;  // v1: the hierarchy's controller; v2: the controller owning the file
  std::string file;        // "memory.limit_in_bytes"
  std::string value;
  IfMissing if_missing = IfMissing::fail;
  // EINVAL may only mean this write came before its partner (cpu period before quota, a memory
  // limit above the old memory+swap limit): then it is retried once after all the others.
  bool retry_at_end = false;
  // The spec field the value comes from, "linux.resources.blockIO.weight": a file the kernel
  // lacks is reported under it (apply_writes).
  std::string field;

  // What is written where and how; the field only names it in errors.
  bool operator==(const FileWrite& o) const {
    return controller == o.controller && file == o.file && value == o.value &&
           if_missing == o.if_missing && retry_at_end == o.retry_at_end;
  }
};

// cgroup v1. The devices policy is written only when `devices` is present (even empty): a deny
// of everything, the spec's rules in order, then default_devices(). create() passes an empty
// list when the spec has none, as runc does; update() leaves devices alone unless given.
// Kernel memory is deprecated and ignored. `unified` is an error (it is v2 only).
Result<std::vector<FileWrite>> v1_writes(const spec::Resources& resources);

// cgroup v2. Errors for what v2 cannot express: kernel memory, real-time CPU budgets,
// disableOOMKiller, net_cls/net_prio, a swap limit without a memory limit. v1-only tuning knobs
// (swappiness, leaf weights) are ignored, as runc does. Device rules are no file on v2: the
// driver turns them into an eBPF program (device_filter.hpp).
Result<std::vector<FileWrite>> v2_writes(const spec::Resources& resources);

enum class Version : uint8_t { v1, v2 };
// hugetlb.<size>.limit_in_bytes (v1) or hugetlb.<size>.max (v2), each followed by its .rsvd
// twin where the kernel has one. On a hybrid host hugetlb may exist only on the v2 side.
Result<std::vector<FileWrite>> hugetlb_writes(const std::vector<spec::HugepageLimit>& limits,
                                              Version version);

// runc 1.1's linear map of cpu.shares [2, 262144] onto cpu.weight [1, 10000]; 0 stays unset.
uint64_t cpu_weight_from_shares(uint64_t shares);
// runc's linear map of blkio weight [10, 1000] onto io.weight [1, 10000]; 0 stays unset.
uint64_t io_weight_from_blkio(uint16_t weight);
// memory.swap.max from the spec's memory+swap limit (runc's ConvertMemorySwapToCgroupV2Value):
// -1 unlimited, 0 unset, else swap - limit.
Result<int64_t> v2_swap_limit(int64_t swap, int64_t limit);

}  // namespace hippo::cgroups
