#include "runtime/backend_choice.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace hippo::runtime {
namespace {

namespace fs = std::filesystem;

class BundleDir {
 public:
  BundleDir() {
    std::string tmpl = (fs::temp_directory_path() / "hippo-choice-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~BundleDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(BackendChoice, ConfigChoosesAndRuncOptionsOverride) {
  Config config;
  config.cgroup_driver = "systemd";
  auto native = choose_backend(config, "/run/x/containerd/ns", "ns");
  EXPECT_EQ(native.kind, BackendChoice::Kind::native);
  EXPECT_EQ(native.native.state_root, "/run/x/containerd/ns");
  EXPECT_EQ(native.native.cgroup_driver, "systemd");
  EXPECT_EQ(native.runc.root, "/run/hippo/runc/ns");

  // No BinaryName: the daemon's backend stands; Root is its state root, <Root>/<ns>.
  auto same = with_runc_overrides(native, {"", "/elsewhere", true}, "ns");
  EXPECT_EQ(same.kind, BackendChoice::Kind::native);
  EXPECT_EQ(same.native.state_root, "/elsewhere/ns");
  EXPECT_EQ(same.runc.root, "/elsewhere/ns");
  EXPECT_EQ(with_runc_overrides(native, {}, "ns").native.state_root, native.native.state_root);
  auto runc = with_runc_overrides(native, {"/usr/sbin/runc", "/run/r", false}, "ns");
  EXPECT_EQ(runc.kind, BackendChoice::Kind::runc);
  EXPECT_EQ(runc.runc.binary, "/usr/sbin/runc");
  EXPECT_EQ(runc.runc.root, "/run/r/ns");
  EXPECT_FALSE(runc.runc.systemd_cgroup);
  EXPECT_EQ(with_runc_overrides(native, {"runc", "", true}, "ns").runc.root, "/run/hippo/runc/ns");

  config.backend = "runc";
  auto cli = choose_backend(config, "/run/hippo");  // the CLI: no namespace under the roots
  EXPECT_EQ(cli.kind, BackendChoice::Kind::runc);
  EXPECT_EQ(cli.runc.root, "/run/hippo/runc");
  EXPECT_TRUE(cli.runc.systemd_cgroup);
}

TEST(BackendChoice, SavedWithTheBundleAndLoadedBack) {
  BundleDir bundle;
  BackendChoice choice;
  choice.kind = BackendChoice::Kind::runc;
  choice.native.state_root = "/run/s";
  choice.runc = {"/opt/runc", "/run/r/ns", true, {}};
  ASSERT_TRUE(save_backend_choice(bundle.path(), choice));
  struct stat st {};
  ASSERT_EQ(::stat((bundle.path() + "/hippo-backend").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  auto loaded = load_backend_choice(bundle.path(), BackendChoice{});
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->kind, BackendChoice::Kind::runc);
  EXPECT_EQ(loaded->native.state_root, "/run/s");
  EXPECT_EQ(loaded->runc.binary, "/opt/runc");
  EXPECT_EQ(loaded->runc.root, "/run/r/ns");
  EXPECT_TRUE(loaded->runc.systemd_cgroup);

  choice.runc.binary = "bad\nname";
  auto refused = save_backend_choice(bundle.path(), choice);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind(), ErrorKind::invalid_argument);
}

TEST(BackendChoice, BundlesOfOlderShimsAndNoRecordStillLoad) {
  BundleDir bundle;
  BackendChoice fallback;
  fallback.native.state_root = "/run/default";
  auto none = load_backend_choice(bundle.path(), fallback);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->kind, BackendChoice::Kind::native);
  EXPECT_EQ(none->native.state_root, "/run/default");

  std::ofstream(bundle.path() + "/hippo-state-root") << "/run/old\n";
  EXPECT_EQ(load_backend_choice(bundle.path(), fallback)->native.state_root, "/run/old");
  std::ofstream(bundle.path() + "/hippo-runc") << "/opt/runc\n/run/r/ns\nsystemd\n";
  auto runc = load_backend_choice(bundle.path(), fallback);
  ASSERT_TRUE(runc);
  EXPECT_EQ(runc->kind, BackendChoice::Kind::runc);
  EXPECT_EQ(runc->runc.binary, "/opt/runc");
  EXPECT_TRUE(runc->runc.systemd_cgroup);

  std::ofstream(bundle.path() + "/hippo-backend") << "backend=lxc\n";
  auto bad = load_backend_choice(bundle.path(), fallback);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, bundle.path() + "/hippo-backend: backend: unknown \"lxc\"");
}

}  // namespace
}  // namespace hippo::runtime
