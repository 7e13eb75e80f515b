#pragma once
// Which backend runs a container, decided in one place: config.yaml's `backend` (native or an
// external runc), then, in the shim, the container's containerd.runc.v1.Options (BinaryName,
// Root, SystemdCgroup), as `ctr run --runc-binary` users expect. The shim saves the choice in
// the bundle at `start` and again at Create, so `delete` (which containerd runs without
// options, possibly after the daemon is gone) reaches the same backend with the same root.

#include <memory>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "runtime/backend.hpp"
#include "runtime/config.hpp"
#include "runtime/runc/runc_backend.hpp"

namespace hippo::runtime {

struct BackendChoice {
  enum class Kind : uint8_t { native, runc };
  Kind kind = Kind::native;
  NativeOptions native;  // used when kind is native
  RuncOptions runc;      // used when kind is runc
};

// The backend fields of containerd.runc.v1.Options.
struct RuncOverrides {
  std::string binary_name;
  std::string root;
  bool systemd_cgroup = false;
};

// config.yaml's choice, native state under `state_root`. `ns` (the shim's containerd
// namespace) keeps the runc roots of namespaces apart: <runc_root>/<ns>.
BackendChoice choose_backend(const Config& config, std::string state_root,
                             std::string_view ns = {});
// A container's runc Options over `base`: Root/<ns> becomes the state root of either backend
// (runc's --root, the native state root); a BinaryName selects that runc, with the systemd
// driver when SystemdCgroup says so. No BinaryName: base's backend.
BackendChoice with_runc_overrides(BackendChoice base, const RuncOverrides& overrides,
                                  std::string_view ns);

std::unique_ptr<Backend> make_backend(const BackendChoice& choice);

// The record's name in the bundle (0600).
inline constexpr std::string_view kBackendRecord = "hippo-backend";
Result<void> save_backend_choice(const std::string& bundle, const BackendChoice& choice);
// What save_backend_choice wrote. A bundle of an older shim holds `hippo-runc` (runc) or
// `hippo-state-root` (native) instead; a bundle with none of them gives `fallback`.
Result<BackendChoice> load_backend_choice(const std::string& bundle, BackendChoice fallback);

}  // namespace hippo::runtime
