#include "runtime/linux/init_plan.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "oci-spec/config.hpp"

namespace hippo::os {
namespace {

spec::Spec base() {
  auto s = spec::default_spec();
  s.process->terminal = false;
  return s;
}

const MountStep* find_mount(const InitPlan& p, const std::string& target) {
  auto it = std::ranges::find(p.mounts, target, &MountStep::target);
  return it == p.mounts.end() ? nullptr : &*it;
}

TEST(InitPlan, DefaultSpecClonesNamespacesAndSetsUpRootfs) {
  auto plan = build_init_plan(base(), "/b/rootfs", {});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->clone_flags,
            static_cast<unsigned long>(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
                                       CLONE_NEWNS));
  EXPECT_TRUE(plan->setup_rootfs);
  EXPECT_EQ(plan->root_propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_TRUE(plan->readonly_root);
  EXPECT_TRUE(plan->create_default_devices);
  EXPECT_EQ(plan->hostname, "hippo");
  const auto* dev = find_mount(*plan, "dev");
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->fstype, "tmpfs");
  EXPECT_EQ(dev->data, "mode=755,size=65536k");
  EXPECT_EQ(dev->flags, static_cast<unsigned long>(MS_NOSUID | MS_STRICTATIME));
}

TEST(InitPlan, SlaveRootfsPropagationIsAppliedBeforeThePivotOnly) {
  auto s = base();
  s.linux->rootfsPropagation = "rslave";
  auto plan = build_init_plan(s, "/b/rootfs", {});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->root_propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(plan->rootfs_propagation_after, 0u);
  EXPECT_TRUE(plan->rootfs_holder.empty());
}

TEST(InitPlan, SharedRootfsPropagationKeepsPeersAndPrivatizesTheRootfsHolder) {
  auto s = base();
  s.linux->rootfsPropagation = "rshared";
  // /proc is a mount point on every Linux host; the rootfs need not exist to be located.
  auto plan = build_init_plan(s, "/proc/no-such-dir/rootfs", {});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->root_propagation, static_cast<unsigned long>(MS_SHARED | MS_REC));
  EXPECT_EQ(plan->rootfs_propagation_after, static_cast<unsigned long>(MS_SHARED | MS_REC));
  EXPECT_EQ(plan->rootfs_holder, "/proc");
}

TEST(InitPlan, DefaultDevicesAndSymlinks) {
  auto plan = build_init_plan(base(), "/b/rootfs", {});
  ASSERT_TRUE(plan);
  auto null = std::ranges::find(plan->devices, std::string("dev/null"), &DeviceNode::path);
  ASSERT_NE(null, plan->devices.end());
  EXPECT_EQ(null->dev, makedev(1, 3));
  EXPECT_EQ(null->mode, static_cast<mode_t>(S_IFCHR | 0666));
  EXPECT_TRUE(std::ranges::any_of(plan->symlinks, [](const Symlink& s) {
    return s.path == "dev/ptmx" && s.target == "pts/ptmx";
  }));
}

TEST(InitPlan, CgroupNamespaceIsUnsharedAfterPlacementNotCloned) {
  auto s = base();
  s.linux->namespaces->push_back({"cgroup", std::nullopt});
  auto plan = build_init_plan(s, "/b/rootfs", {});
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->clone_flags & CLONE_NEWCGROUP, 0u);
  EXPECT_TRUE(plan->unshare_cgroup);
}

TEST(InitPlan, JoinedNamespacesPutUserFirstAndPidInTheParent) {
  auto s = base();
  auto& ns = *s.linux->namespaces;
  ns[1].path = "/proc/1/ns/net";
  ns[0].path = "/proc/1/ns/pid";
  ns.push_back({"user", "/proc/1/ns/user"});
  auto plan = build_init_plan(s, "/b/rootfs", {});
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->pid_ns_path, "/proc/1/ns/pid");
  ASSERT_EQ(plan->joins.size(), 2u);
  EXPECT_EQ(plan->joins[0].type, CLONE_NEWUSER);
  EXPECT_EQ(plan->joins[1].type, CLONE_NEWNET);
  EXPECT_EQ(plan->clone_flags & (CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUSER), 0u);
  EXPECT_TRUE(plan->bind_devices);
}

TEST(InitPlan, PathLookupUsesTheContainersPath) {
  auto s = base();
  s.process->args = spec::Strings{"ls", "-l"};
  s.process->env = spec::Strings{"PATH=/usr/bin:/bin"};
  auto plan = build_init_plan(s, "/b/rootfs", {});
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->exec_candidates, (std::vector<std::string>{"/usr/bin/ls", "/bin/ls"}));
  EXPECT_EQ(plan->exec_not_found, "exec: \"ls\": executable file not found in $PATH");
  s.process->args = spec::Strings{"/bin/ls"};
  plan = build_init_plan(s, "/b/rootfs", {});
  EXPECT_EQ(plan->exec_candidates, std::vector<std::string>{"/bin/ls"});
  // Go's exec.LookPath words for a path, as runc says them.
  EXPECT_FALSE(plan->exec_path_search);
  EXPECT_EQ(plan->exec_not_found, "exec: \"/bin/ls\": stat /bin/ls");
  EXPECT_EQ(plan->exec_not_executable, "exec: \"/bin/ls\": permission denied");
}

TEST(InitPlan, SysctlKeysBecomeProcPaths) {
  auto s = base();
  s.linux->sysctl = spec::StringMap{{"net.ipv4.ip_forward", "1"}};
  auto plan = build_init_plan(s, "/b/rootfs", {});
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->sysctls.size(), 1u);
  EXPECT_EQ(plan->sysctls[0].path, "/proc/sys/net/ipv4/ip_forward");
}

TEST(InitPlan, BindSourceMustExistAndIsNamed) {
  auto s = base();
  s.mounts->push_back({"/data", "/nonexistent-hippo-src", spec::Strings{"rbind"}, "bind", {}, {}});
  auto plan = build_init_plan(s, "/b/rootfs", {});
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message,
            "mounts: /data: bind source /nonexistent-hippo-src: No such file or directory");
}

TEST(InitPlan, ReadOnlyBindIsRemounted) {
  auto s = base();
  s.mounts->push_back({"/etc/hosts", "/etc/hosts", spec::Strings{"rbind", "ro"}, "bind", {}, {}});
  auto plan = build_init_plan(s, "/b/rootfs", {});
  ASSERT_TRUE(plan) << plan.error().message;
  const auto* m = find_mount(*plan, "etc/hosts");
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->bind);
  EXPECT_TRUE(m->target_is_file);
  EXPECT_EQ(m->flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  EXPECT_EQ(m->remount, static_cast<unsigned long>(MS_RDONLY));
}

TEST(InitPlan, NoMountNamespaceIsRefused) {
  auto s = base();
  std::erase_if(*s.linux->namespaces, [](const auto& n) { return n.type == "mount"; });
  auto plan = build_init_plan(s, "/b/rootfs", {});
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message,
            "linux.namespaces: hippo needs a mount namespace to set up the container's rootfs");
}

TEST(InitPlan, ViewsPointAtStorage) {
  auto s = base();
  s.process->args = spec::Strings{"sh", "-c", "true"};
  auto plan = build_init_plan(s, "/b/rootfs", {});
  ASSERT_TRUE(plan);
  bind_views(*plan);
  ASSERT_EQ(plan->argv.size(), 4u);
  EXPECT_STREQ(plan->argv[2], "true");
  EXPECT_EQ(plan->argv[3], nullptr);
  EXPECT_EQ(plan->envp.back(), nullptr);
  // The trampoline's argv: the marker, a slot init fills with the program found, then argv.
  ASSERT_EQ(plan->exec_argv.size(), 6u);
  EXPECT_STREQ(plan->exec_argv[0], "hippo-exec");
  EXPECT_EQ(plan->exec_argv[1], nullptr);
  EXPECT_STREQ(plan->exec_argv[2], "sh");
  EXPECT_EQ(plan->exec_argv[5], nullptr);
}

TEST(InitPlan, AnArgumentOverExecvesLimitIsE2big) {
  auto s = base();
  s.process->args = spec::Strings{"sh", "-c", std::string(131072, 'a')};
  auto plan = build_init_plan(s, "/b/rootfs", {});
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, E2BIG);
  EXPECT_NE(plan.error().message.find("process.args[2]"), std::string::npos)
      << plan.error().message;
  s.process->args = spec::Strings{"sh", "-c", std::string(131070, 'a')};
  EXPECT_TRUE(build_init_plan(s, "/b/rootfs", {}));
}

TEST(InitPlan, ArgumentsAndEnvironmentOverAQuarterOfTheStackLimitAreE2big) {
  auto s = base();
  s.process->rlimits = std::vector<spec::Rlimit>{{"RLIMIT_STACK", 256 << 10, 256 << 10}};
  // A quarter of 256 KiB is under ARG_MAX: the kernel still allows 128 KiB.
  for (int i = 0; i < 3; ++i)
    s.process->env->push_back("V" + std::to_string(i) + "=" + std::string(40000, 'x'));
  EXPECT_TRUE(build_init_plan(s, "/b/rootfs", {}));
  s.process->env->push_back("W=" + std::string(40000, 'x'));
  auto plan = build_init_plan(s, "/b/rootfs", {});
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, E2BIG);
  EXPECT_NE(plan.error().message.find("process.args and process.env"), std::string::npos);
}

}  // namespace
}  // namespace hippo::os

namespace hippo::os {
namespace {

TEST(InitPlan, SysfsInAUserNamespaceWithoutItsOwnNetworkIsTheHostsBound) {
  auto s = base();
  s.linux->namespaces->push_back({"user", std::nullopt});
  std::erase_if(*s.linux->namespaces, [](const spec::Namespace& n) { return n.type == "network"; });
  s.linux->uidMappings = std::vector<spec::IdMapping>{{0, 100000, 65536}};
  s.linux->gidMappings = std::vector<spec::IdMapping>{{0, 100000, 65536}};
  auto plan = build_init_plan(s, "/b/rootfs", {});
  ASSERT_TRUE(plan) << plan.error().message;
  const auto* sys = find_mount(*plan, "sys");
  ASSERT_NE(sys, nullptr);
  EXPECT_TRUE(sys->bind);
  EXPECT_EQ(sys->source, "/sys");
  EXPECT_TRUE(sys->remount & MS_RDONLY);
}

TEST(InitPlan, HookStatesAreSplitAroundThePid) {
  InitPlan plan;
  spec::Hooks hooks;
  hooks.createContainer = std::vector<spec::Hook>{{"/bin/true", std::nullopt, std::nullopt, 5}};
  hooks.prestart =
      std::vector<spec::Hook>{{"/bin/true", std::nullopt, spec::Strings{"A=b"}, std::nullopt}};
  const std::string marker = std::to_string(kStatePidMarker);
  auto ok = set_hooks(plan, hooks,
                      R"({"id":"c","status":"creating","pid":)" + marker + R"(,"bundle":"/b"})",
                      R"({"id":"c","status":"created","pid":)" + marker + R"(,"bundle":"/b"})");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_TRUE(plan.parent_hooks);
  EXPECT_EQ(plan.state_creating_head, R"({"id":"c","status":"creating","pid":)");
  EXPECT_EQ(plan.state_created_head, R"({"id":"c","status":"created","pid":)");
  EXPECT_EQ(plan.state_tail, R"(,"bundle":"/b"})");
  ASSERT_EQ(plan.create_container_hooks.size(), 1u);
  EXPECT_EQ(plan.create_container_hooks[0].timeout_s, 5);
  EXPECT_EQ(plan.create_container_hooks[0].argv_storage, spec::Strings{"/bin/true"});
  EXPECT_EQ(plan.create_container_hooks[0].what,
            "error running hook #0 (createContainer, /bin/true)");
  EXPECT_TRUE(plan.start_container_hooks.empty());
}

}  // namespace
}  // namespace hippo::os

namespace hippo::os {
namespace {

// A rootfs directory of the test's own, removed afterwards.
class PlanRootfs : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hippo-plan-rootfs-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string root_;
};

TEST_F(PlanRootfs, ProcOnASymlinkIsRefusedNamingMountAndPath) {
  std::filesystem::create_directory_symlink("/tmp/x", root_ + "/proc");
  auto plan = build_init_plan(base(), root_, {});
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message,
            "mounts: /proc: proc must be mounted on an ordinary directory, but " + root_ +
                "/proc is a symlink (-> /tmp/x)");
}

TEST_F(PlanRootfs, SysfsOnASymlinkToADirectoryIsRefusedToo) {
  std::filesystem::create_directory(root_ + "/real-sys");
  std::filesystem::create_directory_symlink("real-sys", root_ + "/sys");
  auto plan = build_init_plan(base(), root_, {});
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message,
            "mounts: /sys: sysfs must be mounted on an ordinary directory, but " + root_ +
                "/sys is a symlink (-> real-sys)");
}

TEST_F(PlanRootfs, ProcOnAFileIsRefused) {
  { std::ofstream(root_ + "/proc") << "x"; }
  auto plan = build_init_plan(base(), root_, {});
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message,
            "mounts: /proc: proc must be mounted on an ordinary directory, but " + root_ +
                "/proc is not a directory");
}

TEST_F(PlanRootfs, ExistingOrMissingDirectoriesAreFineAndMarkedForInit) {
  std::filesystem::create_directory(root_ + "/proc");  // /sys is missing: init creates it
  // Other mounts may still go through symlinks inside the rootfs.
  std::filesystem::create_directory(root_ + "/real-dev");
  std::filesystem::create_directory_symlink("real-dev", root_ + "/dev");
  auto plan = build_init_plan(base(), root_, {});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_TRUE(find_mount(*plan, "proc")->ordinary_directory);
  EXPECT_TRUE(find_mount(*plan, "sys")->ordinary_directory);
  EXPECT_FALSE(find_mount(*plan, "dev")->ordinary_directory);
  EXPECT_FALSE(find_mount(*plan, "dev/pts")->ordinary_directory);
}

TEST(InitPlan, RlimitsKeepTheirNameForErrors) {
  auto s = base();
  s.process->rlimits = std::vector<spec::Rlimit>{{"RLIMIT_NOFILE", 1024, 1024},
                                                 {"RLIMIT_CORE", UINT64_MAX, UINT64_MAX}};
  auto plan = build_init_plan(s, "/b/rootfs", {});
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->rlimits.size(), 2u);
  EXPECT_EQ(plan->rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(plan->rlimits[0].what, "setrlimit RLIMIT_NOFILE");
  EXPECT_EQ(plan->rlimits[1].what, "setrlimit RLIMIT_CORE");
  EXPECT_EQ(plan->rlimits[1].value.rlim_max, RLIM_INFINITY);
}

}  // namespace
}  // namespace hippo::os
