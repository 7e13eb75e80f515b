#include "runtime/native/oci_state.hpp"

#include "base/file_io.hpp"
#include "oci-spec/config.hpp"
#include "runtime/seccomp_agent.hpp"

namespace hippo::runtime::native {

spec::OciState oci_state(const std::string& id, spec::Status status, pid_t pid,
                         const std::string& bundle, const spec::Spec& s) {
  spec::OciState out;
  out.ociVersion = std::string(spec::kOciVersion);
  out.id = id;
  out.status = status;
  if (pid > 0) out.pid = pid;
  out.bundle = bundle;
  if (s.annotations && !s.annotations->empty()) out.annotations = s.annotations;
  return out;
}

std::string hook_state(const std::string& id, spec::Status status, pid_t pid,
                       const std::string& bundle, const spec::Spec& s) {
  return spec::to_json(oci_state(id, status, pid, bundle, s)).dump();
}

const std::vector<spec::Hook>& hooks_of(const spec::Spec& s,
                                        std::optional<std::vector<spec::Hook>> spec::Hooks::*kind) {
  static const std::vector<spec::Hook> kNone;
  return s.hooks && (*s.hooks).*kind ? *((*s.hooks).*kind) : kNone;
}

Result<void> hand_over_listener(const os::UniqueFd& listener, const spec::Spec& s,
                                const spec::OciState& state, pid_t pid) {
  if (!listener) return {};
  const auto& seccomp = *s.linux->seccomp;
  return send_to_seccomp_agent(
      seccomp.listenerPath.value_or(""), listener.get(),
      container_process_state(state, pid, seccomp.listenerMetadata.value_or("")));
}

Result<void> write_pid_file(const std::string& file, pid_t pid) {
  if (auto ok = replace_text_file(file, std::to_string(pid)); !ok) return forward(ok, "--pid-file");
  return {};
}

}  // namespace hippo::runtime::native
