// The mount rules of the init plan that follow runc 1.1.5 (issue 15): read-only /dev and tmpfs
// made read-only last, bind sources opened by the host's root under a user namespace, the
// host's proc and sysfs detached for --no-pivot, /dev/core only with a host /proc/kcore.

#include "runtime/linux/plan_mounts.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>

#include "oci-spec/config.hpp"
#include "runtime/linux/init_plan.hpp"

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

void add_option(spec::Spec& s, const std::string& destination, const std::string& option) {
  for (auto& m : *s.mounts) {
    if (m.destination == destination) m.options->push_back(option);
  }
}

TEST(PlanMounts, AReadOnlyDevIsMountedWritableAndMadeReadOnlyLast) {
  auto s = base();
  add_option(s, "/dev", "ro");
  auto plan = build_init_plan(s, "/b/rootfs", {});
  ASSERT_TRUE(plan) << plan.error().message;
  const auto* dev = find_mount(*plan, "dev");
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->flags & MS_RDONLY, 0u);  // devpts, device nodes and links still go below it
  EXPECT_EQ(plan->readonly_remounts, std::vector<std::string>{"/dev"});
}

TEST(PlanMounts, AReadOnlyTmpfsIsMadeReadOnlyLastOtherFilesystemsAtOnce) {
  auto s = base();
  s.mounts->push_back({"/scratch", "tmpfs", spec::Strings{"ro", "nosuid"}, "tmpfs", {}, {}});
  auto plan = build_init_plan(s, "/b/rootfs", {});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(find_mount(*plan, "scratch")->flags, static_cast<unsigned long>(MS_NOSUID));
  EXPECT_EQ(plan->readonly_remounts, std::vector<std::string>{"/scratch"});
  // sysfs is asked read-only by the default spec: mounted so, nothing to do later.
  EXPECT_TRUE(find_mount(*plan, "sys")->flags & MS_RDONLY);
}

TEST(PlanMounts, WithoutReadOnlyNothingIsRemounted) {
  auto plan = build_init_plan(base(), "/b/rootfs", {});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_TRUE(plan->readonly_remounts.empty());
}

TEST(PlanMounts, BindSourcesAreOpenedByTheHostOnlyUnderANewUserNamespace) {
  auto s = base();
  s.mounts->push_back({"/data", "/tmp", spec::Strings{"rbind"}, "bind", {}, {}});
  auto plain = build_init_plan(s, "/b/rootfs", {});
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_FALSE(find_mount(*plain, "data")->source_by_host);

  s.linux->namespaces->push_back({"user", std::nullopt});
  s.linux->uidMappings = std::vector<spec::IdMapping>{{0, 100000, 65536}};
  s.linux->gidMappings = std::vector<spec::IdMapping>{{0, 100000, 65536}};
  auto userns = build_init_plan(s, "/b/rootfs", {});
  ASSERT_TRUE(userns) << userns.error().message;
  const auto* data = find_mount(*userns, "data");
  EXPECT_TRUE(data->source_by_host);
  EXPECT_EQ(data->source, "/tmp");
  EXPECT_EQ(data->source_fd, -1);                             // init fills it from kMountSource
  EXPECT_FALSE(find_mount(*userns, "proc")->source_by_host);  // not a bind
}

constexpr std::string_view kHostMounts =
    "22 1 254:0 / / rw - ext4 /dev/vda rw\n"
    "23 22 0:5 / /proc rw,nosuid shared:2 - proc proc rw\n"
    "24 22 0:6 / /sys rw shared:3 - sysfs sysfs rw\n"
    "25 24 0:7 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
    "26 22 0:5 /sys /srv/proc-sys rw - proc proc rw\n"
    "27 22 0:8 / /run/c/rootfs rw - overlay overlay rw\n"
    "28 27 0:9 / /run/c/rootfs/proc rw - proc proc rw\n"
    "29 22 0:10 / /run/c/rootfs2/sys rw - sysfs sysfs rw\n"
    "30 22 0:11 / /with\\040space rw - proc proc rw\n";

TEST(PlanMounts, NoPivotDetachesWholeProcAndSysfsOutsideTheRootfs) {
  // Not a part of proc (/srv/proc-sys: root /sys), not the rootfs's own, not other filesystems;
  // a sibling whose name merely starts like the rootfs is outside it.
  EXPECT_EQ(pseudo_filesystems_outside(kHostMounts, "/run/c/rootfs"),
            (std::vector<std::string>{"/proc", "/sys", "/run/c/rootfs2/sys", "/with space"}));
}

TEST(PlanMounts, NoPivotPlanCarriesTheHostsProc) {
  PlanOptions options;
  options.no_pivot = true;
  auto plan = build_init_plan(base(), "/nonexistent-hippo/rootfs", options);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_TRUE(std::ranges::find(plan->no_pivot_detach, "/proc") != plan->no_pivot_detach.end());
  auto pivot = build_init_plan(base(), "/nonexistent-hippo/rootfs", {});
  ASSERT_TRUE(pivot);
  EXPECT_TRUE(pivot->no_pivot_detach.empty());
}

TEST(PlanMounts, DevCoreLinksToKcoreOnlyWhereTheHostHasIt) {
  auto plan = build_init_plan(base(), "/b/rootfs", {});
  ASSERT_TRUE(plan);
  const bool link = std::ranges::any_of(plan->symlinks, [](const Symlink& s) {
    return s.path == "dev/core" && s.target == "/proc/kcore";
  });
  struct stat st {};
  EXPECT_EQ(link, ::stat("/proc/kcore", &st) == 0);
}

}  // namespace
}  // namespace hippo::os
