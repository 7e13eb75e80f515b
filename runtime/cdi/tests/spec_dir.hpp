#pragma once
// A fresh directory per test for spec files, removed afterwards; and the fake vendor's specs.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

#include "base/file_io.hpp"

namespace hippo::cdi::testing {

class SpecDir {
 public:
  SpecDir() {
    std::string tmpl = std::string(::testing::TempDir()) + "cdi-XXXXXX";
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~SpecDir() { (void)remove_tree(path_); }
  SpecDir(const SpecDir&) = delete;
  SpecDir& operator=(const SpecDir&) = delete;

  const std::string& path() const { return path_; }
  // Creates `sub` (e.g. "etc/cdi") and returns its path.
  std::string dir(const std::string& sub) const {
    (void)make_directories(path_ + "/" + sub);
    return path_ + "/" + sub;
  }
  std::string write(const std::string& rel, const std::string& text) const {
    const std::string p = path_ + "/" + rel;
    EXPECT_TRUE(write_text_file(p, text).has_value()) << p;
    return p;
  }

 private:
  std::string path_;
};

// The test vendor: "example.com/gpu" with gpu0 (/dev/null, 1:3, from the host node) and gpu1
// (/dev/zero, 1:5), and spec-level edits: a driver library mount, an env var, a createContainer
// hook, an additional gid.
inline const char* kGpuYaml = R"(cdiVersion: "0.7.0"
kind: example.com/gpu
devices:
  - name: gpu0
    containerEdits:
      deviceNodes:
        - path: /dev/gpu0
          hostPath: /dev/null
      env: ["GPU_VISIBLE=0"]
  - name: gpu1
    containerEdits:
      deviceNodes:
        - path: /dev/gpu1
          hostPath: /dev/zero
          permissions: rw
      env: ["GPU_VISIBLE=1"]
containerEdits:
  env: ["GPU_DRIVER=fake"]
  mounts:
    - hostPath: /opt/fake-driver/lib
      containerPath: /usr/lib/fake-driver
      options: [ro, nosuid, nodev, bind]
  hooks:
    - hookName: createContainer
      path: /usr/bin/fake-gpu-hook
      args: [fake-gpu-hook, configure]
  additionalGids: [44]
)";

inline const char* kGpuJson = R"({
  "cdiVersion": "0.7.0",
  "kind": "example.com/gpu",
  "devices": [
    {"name": "gpu0", "containerEdits": {
      "deviceNodes": [{"path": "/dev/gpu0", "hostPath": "/dev/null"}],
      "env": ["GPU_VISIBLE=0"]}},
    {"name": "gpu1", "containerEdits": {
      "deviceNodes": [{"path": "/dev/gpu1", "hostPath": "/dev/zero", "permissions": "rw"}],
      "env": ["GPU_VISIBLE=1"]}}
  ],
  "containerEdits": {
    "env": ["GPU_DRIVER=fake"],
    "mounts": [{"hostPath": "/opt/fake-driver/lib", "containerPath": "/usr/lib/fake-driver",
                "options": ["ro", "nosuid", "nodev", "bind"]}],
    "hooks": [{"hookName": "createContainer", "path": "/usr/bin/fake-gpu-hook",
               "args": ["fake-gpu-hook", "configure"]}],
    "additionalGids": [44]
  }
})";

}  // namespace hippo::cdi::testing
