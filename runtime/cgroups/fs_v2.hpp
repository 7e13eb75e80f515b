#pragma once
// The cgroupfs driver over a cgroup2 mount: one directory per container, controllers enabled
// in the ancestors' cgroup.subtree_control, freezing through cgroup.freeze.

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "runtime/cgroups/cgroup_files.hpp"
#include "runtime/cgroups/manager.hpp"

namespace hippo::cgroups {

// Enables controllers in cgroup.subtree_control of `mount` and of every level above the leaf
// `levels` names, top-down, skipping those already on. `wanted` empty means all that the root's
// cgroup.controllers lists; otherwise those of `wanted` that it lists. Only ancestors are
// written, never the leaf, so the leaf may hold tasks (the no-internal-process rule). A
// controller a level refuses (an ancestor we do not own holding tasks) is not offered further
// down. Returns the controllers enabled all the way to the leaf.
Result<std::vector<std::string>> enable_controllers(const std::string& mount,
                                                    std::span<const std::string> levels,
                                                    std::span<const std::string> wanted, Tree tree);

// `mount` is the cgroup2 mount (or cgroup namespace root) the container path is under.
std::unique_ptr<Manager> make_fs_v2_manager(const CgroupConfig& config, const std::string& mount,
                                            Tree tree = Tree::kernel);

}  // namespace hippo::cgroups
