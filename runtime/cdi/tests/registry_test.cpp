#include "runtime/cdi/registry.hpp"

#include <gtest/gtest.h>

#include "runtime/cdi/tests/spec_dir.hpp"

namespace hippo::cdi {
namespace {

using testing::kGpuJson;
using testing::kGpuYaml;
using testing::SpecDir;

std::string node_spec(const std::string& kind, const std::string& name, const std::string& host) {
  return "cdiVersion: 0.5.0\nkind: " + kind + "\ndevices:\n  - name: " + name +
         "\n    containerEdits:\n      deviceNodes: [{path: /dev/" + name + ", hostPath: " + host +
         "}]\n";
}

const SpecFile& spec_of(const Registry& r, const std::string& device) {
  return r.specs.at(r.devices.at(device).spec);
}

TEST(CdiRegistry, IndexesYamlAndJsonSpecsByQualifiedName) {
  SpecDir t;
  const std::string etc = t.dir("etc");
  t.write("etc/gpu.yaml", kGpuYaml);
  t.write("etc/other.json",
          R"({"cdiVersion": "0.3.0", "kind": "example.com/nic",
              "devices": [{"name": "eth", "containerEdits": {"env": ["NIC=1"]}}]})");
  t.write("etc/notes.txt", "not a spec");
  t.write("etc/skipped.yml", "not read: only .yaml and .json are");
  t.dir("etc/sub.yaml");  // a directory, whatever its name
  auto r = load_registry({etc, t.path() + "/missing"});
  EXPECT_TRUE(r.errors.empty()) << r.errors.front().message;
  EXPECT_EQ(r.device_names(),
            (std::vector<std::string>{"example.com/gpu=gpu0", "example.com/gpu=gpu1",
                                      "example.com/nic=eth"}));
  EXPECT_EQ(spec_of(r, "example.com/nic=eth").path, etc + "/other.json");
}

TEST(CdiRegistry, ALaterDirectoryOverridesAnEarlierOne) {
  SpecDir t;
  const std::string etc = t.dir("etc/cdi"), run = t.dir("var/run/cdi");
  t.write("etc/cdi/gpu.yaml", node_spec("example.com/gpu", "gpu0", "/dev/null"));
  t.write("var/run/cdi/gpu.yaml", node_spec("example.com/gpu", "gpu0", "/dev/zero"));
  auto r = load_registry({etc, run});
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(spec_of(r, "example.com/gpu=gpu0").path, run + "/gpu.yaml");
  // The other way round, the other one wins.
  auto reversed = load_registry({run, etc});
  EXPECT_EQ(spec_of(reversed, "example.com/gpu=gpu0").path, etc + "/gpu.yaml");
}

TEST(CdiRegistry, TwoDefinitionsInOneDirectoryConflict) {
  SpecDir t;
  const std::string etc = t.dir("etc"), run = t.dir("run");
  const std::string a = t.write("etc/a.yaml", node_spec("example.com/gpu", "gpu0", "/dev/null"));
  const std::string b = t.write("etc/b.json", R"({"cdiVersion": "0.5.0", "kind": "example.com/gpu",
      "devices": [{"name": "gpu0", "containerEdits": {"env": ["X=1"]}},
                  {"name": "gpu1", "containerEdits": {"env": ["X=2"]}}]})");
  auto r = load_registry({etc});
  EXPECT_EQ(r.device_names(), std::vector<std::string>{"example.com/gpu=gpu1"});
  EXPECT_EQ(r.conflicts.at("example.com/gpu=gpu0"), (std::vector<std::string>{a, b}));
  EXPECT_EQ(r.errors_for(a),
            std::vector<std::string>{a +
                                     ": device \"example.com/gpu=gpu0\" is "
                                     "also defined in " +
                                     b + " (same priority): none of them is used"});
  EXPECT_EQ(r.errors_for(b).size(), 1u);
  // A higher directory's definition settles it.
  t.write("run/gpu.yaml", node_spec("example.com/gpu", "gpu0", "/dev/zero"));
  auto settled = load_registry({etc, run});
  EXPECT_EQ(spec_of(settled, "example.com/gpu=gpu0").path, run + "/gpu.yaml");
  EXPECT_FALSE(settled.conflicts.contains("example.com/gpu=gpu0"));
}

TEST(CdiRegistry, ABrokenFileHidesNoOtherDevices) {
  SpecDir t;
  const std::string etc = t.dir("etc");
  t.write("etc/gpu.json", kGpuJson);
  const std::string bad = t.write("etc/broken.yaml", "cdiVersion: 9.9.9\nkind: a.com/b\n");
  auto r = load_registry({etc});
  EXPECT_EQ(r.device_names().size(), 2u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].path, bad);
  EXPECT_EQ(r.errors[0].message,
            bad + ": cdiVersion \"9.9.9\" is not a known CDI spec version (0.1.0 to 1.1.0)");
}

TEST(CdiRegistry, DefaultDirectoriesAreEtcThenRun) {
  EXPECT_EQ(default_spec_dirs(), (std::vector<std::string>{"/etc/cdi", "/var/run/cdi"}));
}

}  // namespace
}  // namespace hippo::cdi
