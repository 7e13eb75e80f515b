#include "runtime/cdi/inject.hpp"

#include <gtest/gtest.h>

#include "runtime/cdi/apply_edits.hpp"
#include "runtime/cdi/host_node.hpp"
#include "runtime/cdi/tests/spec_dir.hpp"

namespace hippo::cdi {
namespace {

using testing::kGpuJson;
using testing::kGpuYaml;
using testing::SpecDir;

spec::Spec base_spec(const std::string& devices_annotation) {
  spec::Spec s;
  s.ociVersion = "1.1.0";
  s.process.emplace();
  s.process->env = spec::Strings{"PATH=/bin", "GPU_VISIBLE=none"};
  s.mounts = std::vector<spec::Mount>{{.destination = "/proc", .source = "proc", .type = "proc"},
                                      {.destination = "/dev/pts", .source = "devpts"}};
  s.linux.emplace();
  if (!devices_annotation.empty())
    s.annotations = spec::StringMap{{"cdi.k8s.io/gpu", devices_annotation}};
  return s;
}

const spec::Device& device_at(const spec::Spec& s, const std::string& path) {
  for (const auto& d : *s.linux->devices) {
    if (d.path == path) return d;
  }
  throw std::runtime_error("no device " + path);
}

class CdiInject : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    etc = t.dir("etc/cdi");
    run = t.dir("var/run/cdi");
    const std::string text = GetParam();
    t.write(std::string("etc/cdi/gpu.") + (text.front() == '{' ? "json" : "yaml"), text);
  }
  SpecDir t;
  std::string etc, run;
};

TEST_P(CdiInject, OneDeviceBringsItsNodeRuleAndTheSpecLevelEdits) {
  spec::Spec s = base_spec("example.com/gpu=gpu0");
  auto r = inject_annotated_devices(s, {etc, run});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, std::vector<std::string>{"example.com/gpu=gpu0"});
  // The node: type and numbers from the host's /dev/null (1:3), its mode too.
  const auto& dev = device_at(s, "/dev/gpu0");
  EXPECT_EQ(dev.type, "c");
  EXPECT_EQ(dev.major, 1);
  EXPECT_EQ(dev.minor, 3);
  EXPECT_EQ(dev.fileMode, stat_host_node("/dev/null")->mode);
  EXPECT_FALSE(dev.uid);
  ASSERT_EQ(s.linux->devices->size(), 1u);
  // Exactly that node is let in.
  ASSERT_EQ(s.linux->resources->devices->size(), 1u);
  const auto& rule = s.linux->resources->devices->at(0);
  EXPECT_TRUE(rule.allow);
  EXPECT_EQ(rule.type, "c");
  EXPECT_EQ(rule.major, 1);
  EXPECT_EQ(rule.minor, 3);
  EXPECT_EQ(rule.access, "rwm");
  // Env: the device's value replaces the container's in place; the spec-level one is appended.
  EXPECT_EQ(*s.process->env, (spec::Strings{"PATH=/bin", "GPU_VISIBLE=0", "GPU_DRIVER=fake"}));
  // The driver mount, after / and before deeper mounts (parents first).
  ASSERT_EQ(s.mounts->size(), 3u);
  EXPECT_EQ(s.mounts->at(0).destination, "/proc");
  EXPECT_EQ(s.mounts->at(1).destination, "/dev/pts");
  EXPECT_EQ(s.mounts->at(2).destination, "/usr/lib/fake-driver");
  EXPECT_EQ(s.mounts->at(2).source, "/opt/fake-driver/lib");
  EXPECT_EQ(s.mounts->at(2).options, (spec::Strings{"ro", "nosuid", "nodev", "bind"}));
  ASSERT_TRUE(s.hooks && s.hooks->createContainer);
  ASSERT_EQ(s.hooks->createContainer->size(), 1u);
  EXPECT_EQ(s.hooks->createContainer->at(0).path, "/usr/bin/fake-gpu-hook");
  EXPECT_EQ(s.hooks->createContainer->at(0).args, (spec::Strings{"fake-gpu-hook", "configure"}));
  EXPECT_EQ(s.process->user.additionalGids, std::vector<uint32_t>{44});
}

TEST_P(CdiInject, TwoDevicesOfOneSpecGetTheSpecLevelEditsOnce) {
  spec::Spec s = base_spec("example.com/gpu=gpu0,example.com/gpu=gpu1");
  ASSERT_TRUE(inject_annotated_devices(s, {etc, run}));
  EXPECT_EQ(device_at(s, "/dev/gpu1").minor, 5);  // /dev/zero
  ASSERT_EQ(s.linux->resources->devices->size(), 2u);
  EXPECT_EQ(s.linux->resources->devices->at(1).minor, 5);
  EXPECT_EQ(s.linux->resources->devices->at(1).access, "rw");
  EXPECT_EQ(s.mounts->size(), 3u);
  EXPECT_EQ(s.hooks->createContainer->size(), 1u);
  EXPECT_EQ(s.process->user.additionalGids, std::vector<uint32_t>{44});
  // Both devices set GPU_VISIBLE: the later request's value stays.
  EXPECT_EQ(*s.process->env, (spec::Strings{"PATH=/bin", "GPU_VISIBLE=1", "GPU_DRIVER=fake"}));
}

TEST_P(CdiInject, NoRequestTouchesNothing) {
  spec::Spec s = base_spec("");
  const spec::Spec before = s;
  auto r = inject_annotated_devices(s, {"/nonexistent/not-read"});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(*s.process->env, *before.process->env);
  EXPECT_FALSE(s.linux->devices);
}

TEST_P(CdiInject, AnUnknownDeviceIsAnErrorAndLeavesTheSpecAsItWas) {
  spec::Spec s = base_spec("example.com/gpu=gpu0,example.com/gpu=7");
  auto r = inject_annotated_devices(s, {etc, run});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "annotation \"cdi.k8s.io/gpu\": unresolvable CDI device "
            "\"example.com/gpu=7\": no spec in " +
                etc + ", " + run + " defines it");
  EXPECT_EQ(r.error().kind(), ErrorKind::not_found);
  EXPECT_FALSE(s.linux->devices);
  EXPECT_EQ(s.mounts->size(), 2u);
  EXPECT_EQ(*s.process->env, (spec::Strings{"PATH=/bin", "GPU_VISIBLE=none"}));
}

TEST_P(CdiInject, ApplyingTwiceGivesTheSameSpec) {
  spec::Spec once = base_spec("example.com/gpu=gpu0,example.com/gpu=gpu1");
  ASSERT_TRUE(inject_annotated_devices(once, {etc, run}));
  spec::Spec twice = once;
  ASSERT_TRUE(inject_annotated_devices(twice, {etc, run}));
  EXPECT_EQ(twice.linux->devices->size(), 2u);
  EXPECT_EQ(twice.linux->resources->devices->size(), 2u);
  EXPECT_EQ(twice.mounts->size(), 3u);
  EXPECT_EQ(twice.hooks->createContainer->size(), 1u);
  EXPECT_EQ(*twice.process->env, *once.process->env);
  EXPECT_EQ(twice.process->user.additionalGids, once.process->user.additionalGids);
}

INSTANTIATE_TEST_SUITE_P(YamlAndJson, CdiInject, ::testing::Values(kGpuYaml, kGpuJson),
                         [](const auto& param) { return param.index == 0 ? "yaml" : "json"; });

TEST(CdiInjectErrors, SayWhyADeviceIsUnresolvable) {
  SpecDir t;
  const std::string etc = t.dir("etc");
  const std::string a = t.write("etc/a.yaml", kGpuYaml);
  const std::string b = t.write("etc/b.json", kGpuJson);
  const std::string bad = t.write("etc/c.yaml", "cdiVersion: 0.3.0\n");
  spec::Spec s = base_spec("example.com/gpu=gpu0");
  EXPECT_EQ(inject_annotated_devices(s, {etc}).error().message,
            "annotation \"cdi.k8s.io/gpu\": unresolvable CDI device \"example.com/gpu=gpu0\": it "
            "is defined in more than one spec of the same directory (" +
                a + ", " + b + ")");
  s.annotations = spec::StringMap{{"cdi.k8s.io/x", "example.com/fpga=0"}};
  EXPECT_EQ(inject_annotated_devices(s, {etc}).error().message,
            "annotation \"cdi.k8s.io/x\": unresolvable CDI device \"example.com/fpga=0\": no spec "
            "in " +
                etc + " defines it (spec files skipped for errors: " + bad + ")");
  s.annotations = spec::StringMap{{"cdi.k8s.io/x", "fpga0"}};
  EXPECT_EQ(inject_annotated_devices(s, {etc}).error().message,
            "annotation \"cdi.k8s.io/x\": \"fpga0\" is not a fully-qualified CDI device name "
            "(vendor.com/class=name): missing \"=\"");
}

// apply_edits directly, for the rules the file-based tests do not reach.
Result<spec::Spec> apply_one(spec::Spec s, const ContainerEdits& e) {
  const EditSource src{&e, "CDI device \"example.com/gpu=gpu0\" (/etc/cdi/gpu.yaml)"};
  if (auto ok = apply_edits(s, std::span(&src, 1)); !ok) return std::unexpected(ok.error());
  return s;
}

TEST(CdiApplyEdits, AMissingHostNodeIsAnErrorUnlessTheNodeIsFullyGiven) {
  ContainerEdits e;
  e.deviceNodes = {DeviceNode{.path = "/dev/gpu9", .hostPath = "/nonexistent/gpu9"}};
  EXPECT_EQ(apply_one(base_spec(""), e).error().message,
            "CDI device \"example.com/gpu=gpu0\" (/etc/cdi/gpu.yaml): host node "
            "\"/nonexistent/gpu9\": No such file or directory");
  e.deviceNodes[0].type = "c";
  e.deviceNodes[0].major = 195;
  e.deviceNodes[0].minor = 9;
  auto s = apply_one(base_spec(""), e);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(device_at(*s, "/dev/gpu9").major, 195);
  EXPECT_FALSE(device_at(*s, "/dev/gpu9").fileMode);
}

TEST(CdiApplyEdits, TheHostNodeMustBeADeviceOfTheGivenType) {
  ContainerEdits e;
  e.deviceNodes = {DeviceNode{.path = "/dev/x", .hostPath = "/dev/null", .type = "b"}};
  EXPECT_EQ(apply_one(base_spec(""), e).error().message,
            "CDI device \"example.com/gpu=gpu0\" (/etc/cdi/gpu.yaml): type \"b\" but host node "
            "\"/dev/null\" is of type \"c\"");
  e.deviceNodes = {DeviceNode{.path = "/dev/x", .hostPath = "/etc/hostname"}};
  EXPECT_EQ(apply_one(base_spec(""), e).error().message,
            "CDI device \"example.com/gpu=gpu0\" (/etc/cdi/gpu.yaml): host node \"/etc/hostname\" "
            "is not a device node");
}

TEST(CdiApplyEdits, NodesTakeTheProcessOwnerAndReplaceANodeOfTheSamePath) {
  spec::Spec base = base_spec("");
  base.process->user.uid = 1000;
  base.process->user.gid = 1001;
  base.linux->devices = std::vector<spec::Device>{{.type = "c", .path = "/dev/x", .major = 9}};
  ContainerEdits e;
  e.deviceNodes = {DeviceNode{.path = "/dev/x", .hostPath = "/dev/null", .gid = 5},
                   DeviceNode{.path = "/dev/y", .hostPath = "/dev/zero", .permissions = "none"}};
  auto s = apply_one(base, e);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->linux->devices->size(), 2u);
  EXPECT_EQ(device_at(*s, "/dev/x").major, 1);
  EXPECT_EQ(device_at(*s, "/dev/x").uid, 1000u);
  EXPECT_EQ(device_at(*s, "/dev/x").gid, 5u);
  // "none": the node is created but no access rule is added for it.
  ASSERT_EQ(s->linux->resources->devices->size(), 1u);
  EXPECT_EQ(s->linux->resources->devices->at(0).minor, 3);
}

TEST(CdiApplyEdits, ALaterNodeOfTheSamePathWinsAndOnlyItIsAllowed) {
  ContainerEdits first, second;
  first.deviceNodes = {DeviceNode{.path = "/dev/gpu", .hostPath = "/dev/null"}};
  second.deviceNodes = {DeviceNode{.path = "/dev/gpu", .hostPath = "/dev/zero"}};
  spec::Spec s = base_spec("");
  const EditSource sources[] = {{&first, "a"}, {&second, "b"}};
  ASSERT_TRUE(apply_edits(s, sources));
  ASSERT_EQ(s.linux->devices->size(), 1u);
  EXPECT_EQ(device_at(s, "/dev/gpu").minor, 5);
  ASSERT_EQ(s.linux->resources->devices->size(), 1u);
  EXPECT_EQ(s.linux->resources->devices->at(0).minor, 5);
}

TEST(CdiApplyEdits, MountsReplaceTheSameDestinationAndGetIdmapInAUserNamespace) {
  spec::Spec base = base_spec("");
  base.linux->namespaces = std::vector<spec::Namespace>{{.type = "user"}};
  base.mounts->push_back({.destination = "/usr/lib/x", .source = "/old"});
  ContainerEdits e;
  e.mounts = {
      Mount{.hostPath = "/new", .containerPath = "/usr/lib/x", .options = spec::Strings{"rbind"}},
      Mount{.hostPath = "/a", .containerPath = "/a", .type = "bind"}};
  auto s = apply_one(base, e);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->mounts->size(), 4u);
  EXPECT_EQ(s->mounts->at(0).destination, "/proc");
  EXPECT_EQ(s->mounts->at(1).destination, "/a");
  EXPECT_EQ(s->mounts->at(1).options, spec::Strings{"idmap"});
  EXPECT_EQ(s->mounts->at(3).destination, "/usr/lib/x");
  EXPECT_EQ(s->mounts->at(3).source, "/new");
  EXPECT_EQ(s->mounts->at(3).options, (spec::Strings{"rbind", "ridmap"}));
}

TEST(CdiApplyEdits, GidsSkipZeroAndDuplicatesIntelRdtAndNetDevicesAreSet) {
  ContainerEdits e;
  e.additionalGids = std::vector<uint32_t>{0, 44, 44, 45};
  e.intelRdt = IntelRdt{.closID = "gpu", .l3CacheSchema = "L3:0=f"};
  e.netDevices = std::vector<NetDevice>{{"eth9", "net0"}};
  auto s = apply_one(base_spec(""), e);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->process->user.additionalGids, (std::vector<uint32_t>{44, 45}));
  EXPECT_EQ(s->linux->intelRdt->closID, "gpu");
  EXPECT_EQ(s->linux->netDevices->at("eth9").name, "net0");
  e.intelRdt->schemata = spec::Strings{"L3:0=f"};
  EXPECT_EQ(apply_one(base_spec(""), e).error().kind(), ErrorKind::unimplemented);
}

}  // namespace
}  // namespace hippo::cdi
