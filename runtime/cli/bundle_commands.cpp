// create and run. Until the native runtime exists they check everything create would read
// (id, config.json, rootfs) and then say plainly that they cannot go further.

#include "commands.hpp"
#include "runtime/bundle.hpp"

namespace hippo::cli {
namespace {

Result<runtime::Bundle> check_create_inputs(const ParsedFlags& flags) {
  if (auto ok = runtime::validate_container_id(flags.args.at(0)); !ok) {
    return std::unexpected(ok.error());
  }
  auto bundle = runtime::load_bundle(flags.value_or("bundle", "."));
  if (!bundle) return bundle;
  if (!bundle->spec.process) {
    return fail("config.json: process: required to create a container");
  }
  return bundle;
}

}  // namespace

Result<int> run_create(const Context& ctx, const ParsedFlags& flags) {
  auto bundle = check_create_inputs(flags);
  if (!bundle) return std::unexpected(bundle.error());
  return run_not_implemented(ctx, flags);
}

Result<int> run_run(const Context& ctx, const ParsedFlags& flags) {
  auto bundle = check_create_inputs(flags);
  if (!bundle) return std::unexpected(bundle.error());
  return run_not_implemented(ctx, flags);
}

}  // namespace hippo::cli
