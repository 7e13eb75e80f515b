// The mount rules of the init plan that follow runc 1.1.5 (issue 15): read-only /dev and tmpfs
// made read-only last, bind sources opened by the host's root under a user namespace, the
// host's proc and sysfs detached for --no-pivot, /dev/core only with a host /proc/kcore.

#include "runtime/linux/plan_mounts.hpp"

#include <gtest/gtest.h>
#include <linux/mount.h>
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

// The default spec's cgroup mount is read-only, at /sys/fs/cgroup.
void make_cgroup_mount_writable(spec::Spec& s) {
  for (auto& m : *s.mounts) {
    if (m.type == "cgroup") std::erase(*m.options, "ro");
  }
}

void add_namespace(spec::Spec& s, const std::string& type) {
  s.linux->namespaces->push_back({type, std::nullopt});
}

PlanOptions v2_host() {
  PlanOptions o;
  o.cgroup.v2 = true;
  o.cgroup.v2_dir = "/sys/fs/cgroup/c1";
  return o;
}

PlanOptions v1_host() {
  PlanOptions o;
  o.cgroup.v1 = {{"memory", "/sys/fs/cgroup/memory/c1"},
                 {"cpu", "/sys/fs/cgroup/cpu,cpuacct/c1"},
                 {"systemd", "/sys/fs/cgroup/systemd/c1"}};
  o.cgroup.unified = "/sys/fs/cgroup/unified/c1";
  return o;
}

std::vector<std::string> targets_under(const InitPlan& p, const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& m : p.mounts) {
    if (m.target == dir || m.target.starts_with(dir + "/")) out.push_back(m.target);
  }
  return out;
}

constexpr unsigned long kNoSuidDevExec = MS_NOSUID | MS_NODEV | MS_NOEXEC;

TEST(PlanMounts, CgroupMountOnV2WithACgroupNamespaceIsAFreshCgroup2) {
  // Not a tmpfs with the v2 directory bound under every v1 controller's name.
  auto s = base();
  add_namespace(s, "cgroup");
  auto plan = build_init_plan(s, "/b/rootfs", v2_host());
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(targets_under(*plan, "sys/fs/cgroup"), std::vector<std::string>{"sys/fs/cgroup"});
  const auto* m = find_mount(*plan, "sys/fs/cgroup");
  EXPECT_EQ(m->fstype, "cgroup2");
  EXPECT_FALSE(m->bind);
  EXPECT_EQ(m->flags & (kNoSuidDevExec | MS_RDONLY), kNoSuidDevExec | MS_RDONLY);

  make_cgroup_mount_writable(s);
  auto rw = build_init_plan(s, "/b/rootfs", v2_host());
  ASSERT_TRUE(rw) << rw.error().message;
  EXPECT_EQ(find_mount(*rw, "sys/fs/cgroup")->flags & (kNoSuidDevExec | MS_RDONLY), kNoSuidDevExec);
}

TEST(PlanMounts, CgroupMountOnV2WithoutACgroupNamespaceBindsTheContainersDirectory) {
  // A fresh cgroup2 there would show the host's whole tree.
  auto plan = build_init_plan(base(), "/b/rootfs", v2_host());
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(targets_under(*plan, "sys/fs/cgroup"), std::vector<std::string>{"sys/fs/cgroup"});
  const auto* m = find_mount(*plan, "sys/fs/cgroup");
  EXPECT_TRUE(m->bind);
  EXPECT_EQ(m->source, "/sys/fs/cgroup/c1");
  EXPECT_EQ(m->remount, kNoSuidDevExec | MS_RDONLY);
  EXPECT_FALSE(m->source_by_host);
}

TEST(PlanMounts, CgroupMountOnV1IsAReadOnlyTmpfsOfBindsWritableAsAsked) {
  auto s = base();
  auto ro = build_init_plan(s, "/b/rootfs", v1_host());
  ASSERT_TRUE(ro) << ro.error().message;
  // Read-only: no `unified`, every bind read-only.
  EXPECT_EQ(targets_under(*ro, "sys/fs/cgroup"),
            (std::vector<std::string>{"sys/fs/cgroup", "sys/fs/cgroup/memory", "sys/fs/cgroup/cpu",
                                      "sys/fs/cgroup/systemd", "sys/fs/cgroup"}));
  // Made read-only together, by one recursive mount_setattr over the tmpfs (this host's kernel
  // has it; an older one gets a read-only remount of each bind and of the tmpfs).
  EXPECT_EQ(find_mount(*ro, "sys/fs/cgroup/memory")->remount, 0u);
  const auto& sealed = ro->mounts.back();
  EXPECT_EQ(sealed.target, "sys/fs/cgroup");
  EXPECT_TRUE(sealed.attrs_only);
  EXPECT_EQ(sealed.attr_set, static_cast<uint64_t>(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                                   MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));

  make_cgroup_mount_writable(s);
  auto rw = build_init_plan(s, "/b/rootfs", v1_host());
  ASSERT_TRUE(rw) << rw.error().message;
  EXPECT_EQ(targets_under(*rw, "sys/fs/cgroup"),
            (std::vector<std::string>{"sys/fs/cgroup", "sys/fs/cgroup/memory", "sys/fs/cgroup/cpu",
                                      "sys/fs/cgroup/systemd", "sys/fs/cgroup/unified",
                                      "sys/fs/cgroup"}));
  for (const auto& m : rw->mounts) {
    if (!m.bind || !m.target.starts_with("sys/fs/cgroup/")) continue;
    EXPECT_EQ(m.remount, kNoSuidDevExec) << m.target;
  }
  EXPECT_EQ(find_mount(*rw, "sys/fs/cgroup/unified")->source, "/sys/fs/cgroup/unified/c1");
  // The tmpfs holding them is made read-only last: nothing can be made beside the binds.
  const auto& last = rw->mounts[rw->mounts.size() - 1];
  EXPECT_EQ(last.target, "sys/fs/cgroup");
  EXPECT_FALSE(last.attrs_only);
  EXPECT_EQ(last.flags, MS_REMOUNT | MS_RDONLY | kNoSuidDevExec);
}

TEST(PlanMounts, CgroupBindsAreOpenedByTheHostUnderANewUserNamespace) {
  auto s = base();
  add_namespace(s, "user");
  s.linux->uidMappings = std::vector<spec::IdMapping>{{0, 100000, 65536}};
  s.linux->gidMappings = std::vector<spec::IdMapping>{{0, 100000, 65536}};
  auto v1 = build_init_plan(s, "/b/rootfs", v1_host());
  ASSERT_TRUE(v1) << v1.error().message;
  EXPECT_TRUE(find_mount(*v1, "sys/fs/cgroup/memory")->source_by_host);
  EXPECT_FALSE(find_mount(*v1, "sys/fs/cgroup")->source_by_host);  // the tmpfs
  auto v2 = build_init_plan(s, "/b/rootfs", v2_host());
  ASSERT_TRUE(v2) << v2.error().message;
  EXPECT_TRUE(find_mount(*v2, "sys/fs/cgroup")->source_by_host);
}

}  // namespace
}  // namespace hippo::os
