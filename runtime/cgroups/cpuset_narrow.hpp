#pragma once
// Narrowing a v1 cpuset that has cgroups below it (a nesting container's inner runtime made
// them). The kernel refuses (EBUSY) a parent's cpuset.cpus or cpuset.mems that would no longer
// hold a child's, so update first narrows every cgroup below, deepest first, to what it shares
// with the new value; widening needs nothing (docs/nesting.md section 4).

#include <set>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "runtime/cgroups/cgroup_files.hpp"

namespace hippo::cgroups {

// "0-3,5" <-> {0,1,2,3,5}; an empty text is the empty set. Malformed text is an error naming
// `what`.
Result<std::set<unsigned>> parse_id_list(std::string_view text, std::string_view what);
std::string format_id_list(const std::set<unsigned>& ids);

// Before `value` is written into `file` (cpuset.cpus or cpuset.mems) of the cpuset cgroup
// `dir`: every cgroup below it, deepest first, keeps only the ids it shares with `value`. A
// cgroup that would keep none is an error naming it (its tasks would have nowhere to run).
Result<void> narrow_cpuset_children(const std::string& dir, std::string_view file,
                                    std::string_view value, Tree tree);

}  // namespace hippo::cgroups
