#include <algorithm>

#include "oci-spec/config.hpp"
#include "oci-spec/names.hpp"
#include "runtime/backend.hpp"

namespace hippo::runtime {

Result<spec::Process> exec_process_spec(const ExecOptions& o, const std::string& bundle) {
  if (o.process) return *o.process;
  auto spec = spec::load(bundle + "/config.json");
  if (!spec) return std::unexpected(spec.error());
  spec::Process p = spec->process.value_or(spec::Process{});
  p.args = o.args;
  p.terminal = o.tty;
  p.consoleSize.reset();
  auto env = p.env.value_or(spec::Strings{});
  for (const auto& kv : o.env) {
    const auto key = kv.substr(0, kv.find('=') + 1);
    std::erase_if(env, [&](const std::string& e) { return e.starts_with(key); });
    env.push_back(kv);
  }
  p.env = env;
  if (!o.cwd.empty()) p.cwd = o.cwd;
  if (o.uid) p.user.uid = *o.uid;
  if (o.gid) p.user.gid = *o.gid;
  if (!o.additional_gids.empty()) p.user.additionalGids = o.additional_gids;
  if (o.no_new_privs) p.noNewPrivileges = true;
  if (o.apparmor_profile) p.apparmorProfile = o.apparmor_profile;
  if (o.process_label) p.selinuxLabel = o.process_label;
  if (!o.caps.empty()) {
    auto& caps = p.capabilities ? *p.capabilities : p.capabilities.emplace();
    for (const auto& name : o.caps) {
      if (!spec::names::known(spec::names::capabilities(), name)) {
        return fail("--cap: unknown capability \"" + name + "\"");
      }
      // runc exec's sets for --cap (inheritable is left alone since CVE-2022-29162).
      for (auto* set : {&caps.bounding, &caps.effective, &caps.permitted, &caps.ambient}) {
        if (!*set) set->emplace();
        if (std::ranges::find(**set, name) == (*set)->end()) (*set)->push_back(name);
      }
    }
  }
  return p;
}

}  // namespace hippo::runtime
