#include "runtime/cdi/spec_file.hpp"

#include <gtest/gtest.h>

#include "runtime/cdi/tests/spec_dir.hpp"
#include "runtime/cdi/versions.hpp"

namespace hippo::cdi {
namespace {

using testing::kGpuJson;
using testing::kGpuYaml;

Result<SpecFile> yaml(const std::string& text) { return parse_spec_file("/etc/cdi/t.yaml", text); }
Result<SpecFile> json(const std::string& text) { return parse_spec_file("/etc/cdi/t.json", text); }

// A one-device YAML spec of `version` whose device has `edits` (YAML lines, 6 spaces in) and
// optional extra top-level lines.
std::string one_device(const std::string& version, const std::string& edits,
                       const std::string& kind = "example.com/gpu",
                       const std::string& name = "gpu0", const std::string& top = "") {
  return "cdiVersion: \"" + version + "\"\nkind: " + kind + "\n" + top +
         "devices:\n  - name: " + name + "\n    containerEdits:\n" + edits;
}
const std::string kEnv = "      env: [A=1]\n";

TEST(CdiSpecFile, YamlAndJsonGiveTheSameModel) {
  for (auto r : {yaml(kGpuYaml), json(kGpuJson)}) {
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->vendor, "example.com");
    EXPECT_EQ(r->klass, "gpu");
    ASSERT_EQ(r->spec.devices.size(), 2u);
    EXPECT_EQ(r->spec.devices[1].name, "gpu1");
    const auto& node = r->spec.devices[1].containerEdits.deviceNodes.at(0);
    EXPECT_EQ(node.path, "/dev/gpu1");
    EXPECT_EQ(node.hostPath, "/dev/zero");
    EXPECT_EQ(node.permissions, "rw");
    EXPECT_FALSE(node.major);
    const auto& top = r->spec.containerEdits;
    EXPECT_EQ(top.env, std::vector<std::string>{"GPU_DRIVER=fake"});
    ASSERT_EQ(top.mounts.size(), 1u);
    EXPECT_EQ(top.mounts[0].containerPath, "/usr/lib/fake-driver");
    ASSERT_EQ(top.hooks.size(), 1u);
    EXPECT_EQ(top.hooks[0].hookName, "createContainer");
    EXPECT_EQ(top.additionalGids, std::vector<uint32_t>{44});
  }
}

TEST(CdiSpecFile, YamlScalarsTakeTheFieldsType) {
  // A plain `0` names a device "0"; numbers may be written in octal (file modes) or hex.
  auto r = yaml(one_device("0.5.0",
                           "      deviceNodes:\n        - {path: /dev/x, type: c, major: 0x10,"
                           " minor: 3, fileMode: 0666, uid: 1000}\n",
                           "example.com/gpu", "0"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->spec.devices[0].name, "0");
  const auto& n = r->spec.devices[0].containerEdits.deviceNodes[0];
  EXPECT_EQ(n.major, 16);
  EXPECT_EQ(n.fileMode, 0666u);
  EXPECT_EQ(n.uid, 1000u);
  // Quoted, "null" is a string; plain, it is absent.
  auto quoted = yaml(one_device("0.3.0", kEnv, "example.com/gpu", "\"null\""));
  ASSERT_TRUE(quoted) << quoted.error().message;
  EXPECT_EQ(quoted->spec.devices[0].name, "null");
  EXPECT_EQ(yaml(one_device("0.3.0", kEnv, "example.com/gpu", "null")).error().message,
            "/etc/cdi/t.yaml: devices[0].name: is required");
}

TEST(CdiSpecFile, ErrorsNameTheFileAndTheField) {
  EXPECT_EQ(
      yaml(one_device("0.3.0", kEnv, "example.com/gpu", "gpu0", "vendor: x\n")).error().message,
      "/etc/cdi/t.yaml: vendor: unknown field");
  EXPECT_EQ(
      yaml(one_device("0.3.0", "      deviceNodes: [{path: /dev/x, majr: 1}]\n")).error().message,
      "/etc/cdi/t.yaml: devices[0].containerEdits.deviceNodes[0].majr: unknown field");
  EXPECT_EQ(yaml(one_device("0.3.0", "      deviceNodes: [{path: /dev/x, major: one}]\n"))
                .error()
                .message,
            "/etc/cdi/t.yaml: devices[0].containerEdits.deviceNodes[0].major: must be an integer");
  EXPECT_EQ(
      yaml(one_device("0.3.0", "      deviceNodes: [{path: /dev/x, uid: -1}]\n")).error().message,
      "/etc/cdi/t.yaml: devices[0].containerEdits.deviceNodes[0].uid: is out of range");
  EXPECT_EQ(json(R"({"cdiVersion": "0.3.0", "kind": "example.com/gpu",
                     "devices": [{"name": 7, "containerEdits": {"env": ["A=1"]}}]})")
                .error()
                .message,
            "/etc/cdi/t.json: devices[0].name: must be a string");
  EXPECT_EQ(json("{\"cdiVersion\": ").error().message.substr(0, 30),
            "/etc/cdi/t.json: invalid JSON:");
  EXPECT_EQ(yaml("kind: [a\n").error().message.substr(0, 30), "/etc/cdi/t.yaml: invalid YAML ");
  EXPECT_EQ(yaml("cdiVersion: 0.3.0\ncdiVersion: 0.4.0\n").error().message,
            "/etc/cdi/t.yaml: duplicate key \"cdiVersion\" at line 2, column 1");
  EXPECT_EQ(yaml("kind: example.com/gpu\n").error().message,
            "/etc/cdi/t.yaml: cdiVersion: is required");
}

TEST(CdiSpecFile, ChecksTheMeaning) {
  EXPECT_EQ(yaml(one_device("0.3.0", kEnv, "gpu")).error().message,
            "/etc/cdi/t.yaml: kind: kind \"gpu\" is not of the form vendor.com/class");
  EXPECT_EQ(yaml("cdiVersion: 0.3.0\nkind: example.com/gpu\ndevices: []\n").error().message,
            "/etc/cdi/t.yaml: devices: a spec must define at least one device");
  EXPECT_EQ(yaml(one_device("0.3.0", "      env: []\n")).error().message,
            "/etc/cdi/t.yaml: devices[0].containerEdits: device \"gpu0\" has no container edits");
  EXPECT_EQ(yaml("cdiVersion: 0.3.0\nkind: example.com/gpu\ndevices:\n"
                 "  - {name: a, containerEdits: {env: [A=1]}}\n"
                 "  - {name: a, containerEdits: {env: [A=2]}}\n")
                .error()
                .message,
            "/etc/cdi/t.yaml: devices[1].name: device \"a\" is defined twice in this spec");
  EXPECT_EQ(yaml(one_device("0.3.0", "      env: [=1]\n")).error().message,
            "/etc/cdi/t.yaml: devices[0].containerEdits.env[0]: \"=1\" is not NAME=value");
  EXPECT_EQ(
      yaml(one_device("0.3.0", "      deviceNodes: [{path: /dev/x, type: x}]\n")).error().message,
      "/etc/cdi/t.yaml: devices[0].containerEdits.deviceNodes[0].type: \"x\" is not one of "
      "b, c, u, p");
  EXPECT_EQ(yaml(one_device("0.3.0", "      deviceNodes: [{path: /dev/x, permissions: rwx}]\n"))
                .error()
                .message,
            "/etc/cdi/t.yaml: devices[0].containerEdits.deviceNodes[0].permissions: \"rwx\" is "
            "not made of r, w, m (or \"none\")");
  EXPECT_EQ(
      yaml(one_device("0.3.0", "      hooks: [{hookName: preStart, path: /x}]\n")).error().message,
      "/etc/cdi/t.yaml: devices[0].containerEdits.hooks[0].hookName: \"preStart\" is not an "
      "OCI hook name");
  EXPECT_EQ(
      yaml(one_device("0.3.0", "      hooks: [{hookName: poststop, path: /x, timeout: 0}]\n"))
          .error()
          .message,
      "/etc/cdi/t.yaml: devices[0].containerEdits.hooks[0].timeout: must be greater than zero");
  EXPECT_EQ(
      yaml(one_device("0.3.0", "      mounts: [{hostPath: /a, containerPath: \"\"}]\n"))
          .error()
          .message,
      "/etc/cdi/t.yaml: devices[0].containerEdits.mounts[0].containerPath: must not be empty");
  EXPECT_EQ(yaml(one_device("1.1.0",
                            "      netDevices: [{hostInterfaceName: a, name: x},"
                            " {hostInterfaceName: b, name: x}]\n"))
                .error()
                .message,
            "/etc/cdi/t.yaml: devices[0].containerEdits.netDevices[1].name: \"x\" is listed twice");
}

TEST(CdiSpecFile, VersionsAreKnownUpToTheCurrentOne) {
  EXPECT_EQ(current_version(), "1.1.0");
  for (auto v : known_versions()) EXPECT_TRUE(yaml(one_device(std::string(v), kEnv))) << v;
  EXPECT_TRUE(yaml(one_device("v0.6.0", kEnv)));  // a leading "v" is allowed
  EXPECT_EQ(
      yaml(one_device("1.2.0", kEnv)).error().message,
      "/etc/cdi/t.yaml: cdiVersion \"1.2.0\" is not a known CDI spec version (0.1.0 to 1.1.0)");
  EXPECT_FALSE(yaml(one_device("0.3", kEnv)));
}

// Each field a version added: rejected by the version before it, accepted by its own.
struct Gate {
  std::string added_in, before, edits, kind, name, top, field;
};

TEST(CdiSpecFile, EachFieldNeedsTheVersionThatAddedIt) {
  const std::string d = "devices[0].containerEdits.";
  const std::vector<Gate> gates = {
      {"0.4.0", "0.3.0", "      mounts: [{hostPath: /a, containerPath: /b, type: bind}]\n", "", "",
       "", d + "mounts[0].type"},
      {"0.5.0", "0.4.0", "      deviceNodes: [{path: /dev/x, hostPath: /dev/null}]\n", "", "", "",
       d + "deviceNodes[0].hostPath"},
      {"0.5.0", "0.4.0", kEnv, "", "0gpu", "", "devices[0].name (starting with a digit)"},
      {"0.6.0", "0.5.0", kEnv, "", "", "annotations: {a: b}\n", "annotations"},
      {"0.6.0", "0.5.0", kEnv + "    annotations: {a: b}\n", "", "", "", "devices[0].annotations"},
      {"0.6.0", "0.5.0", kEnv, "example.com/gpu.v2", "", "", "kind (a '.' in the class)"},
      {"0.7.0", "0.6.0", "      additionalGids: [5]\n", "", "", "", d + "additionalGids"},
      {"0.7.0", "0.6.0", "      intelRdt: {closID: c}\n", "", "", "", d + "intelRdt"},
      {"1.1.0", "1.0.0", "      netDevices: [{hostInterfaceName: eth9, name: net0}]\n", "", "", "",
       d + "netDevices"},
      {"1.1.0", "1.0.0", "      intelRdt: {schemata: [\"L3:0=f\"]}\n", "", "", "",
       d + "intelRdt.schemata"},
      {"1.1.0", "1.0.0", "      intelRdt: {enableMonitoring: true}\n", "", "", "",
       d + "intelRdt.enableMonitoring"},
  };
  for (const auto& g : gates) {
    const std::string kind = g.kind.empty() ? "example.com/gpu" : g.kind;
    const std::string name = g.name.empty() ? "gpu0" : g.name;
    auto ok = yaml(one_device(g.added_in, g.edits, kind, name, g.top));
    EXPECT_TRUE(ok) << g.field << ": " << (ok ? "" : ok.error().message);
    auto old = yaml(one_device(g.before, g.edits, kind, name, g.top));
    ASSERT_FALSE(old) << g.field;
    EXPECT_EQ(old.error().message, "/etc/cdi/t.yaml: cdiVersion \"" + g.before +
                                       "\" does not have " + g.field + " (added in " + g.added_in +
                                       ")");
  }
}

TEST(CdiSpecFile, SpecLevelEditsAreGatedToo) {
  const std::string top =
      "containerEdits:\n  mounts: [{hostPath: /a, containerPath: /b, type: bind}]\n"
      "  additionalGids: [5]\n";
  EXPECT_TRUE(yaml(one_device("0.7.0", kEnv, "example.com/gpu", "gpu0", top)));
  EXPECT_EQ(yaml(one_device("0.6.0", kEnv, "example.com/gpu", "gpu0", top)).error().message,
            "/etc/cdi/t.yaml: cdiVersion \"0.6.0\" does not have containerEdits.additionalGids "
            "(added in 0.7.0)");
  EXPECT_EQ(yaml(one_device("0.3.0", kEnv, "example.com/gpu", "gpu0",
                            "containerEdits:\n  mounts: [{hostPath: /a, containerPath: /b, "
                            "type: bind}]\n"))
                .error()
                .message,
            "/etc/cdi/t.yaml: cdiVersion \"0.3.0\" does not have containerEdits.mounts[0].type "
            "(added in 0.4.0)");
}

TEST(CdiSpecFile, TheMinimumVersionIsTheHighestFieldsVersion) {
  auto r = yaml(one_device("1.1.0",
                           "      additionalGids: [5]\n      netDevices: [{hostInterfaceName: a,"
                           " name: b}]\n"));
  ASSERT_TRUE(r);
  auto req = minimum_requirement(r->spec);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->version, "1.1.0");
  EXPECT_EQ(req->field, "devices[0].containerEdits.netDevices");
  EXPECT_FALSE(minimum_requirement(yaml(one_device("0.3.0", kEnv))->spec));
}

}  // namespace
}  // namespace hippo::cdi
