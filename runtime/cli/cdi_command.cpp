// `hippo cdi list`: the CDI devices the node's spec files define (docs/devices.md), as engines'
// CLIs list them, with each spec file that could not be used named on stderr.

#include <iostream>
#include <nlohmann/json.hpp>

#include "runtime/cdi/registry.hpp"
#include "runtime/cli/commands.hpp"

namespace hippo::cli {

Result<int> run_cdi(const Context& ctx, const ParsedFlags& flags) {
  if (flags.args.at(0) != "list") {
    return fail(ErrorKind::invalid_argument,
                "cdi: unknown subcommand \"" + flags.args[0] + "\" (hippo cdi list)");
  }
  const std::string format = flags.value_or("format", "table");
  if (format != "table" && format != "json") {
    return fail(ErrorKind::invalid_argument, "cdi list: --format must be table or json");
  }
  const cdi::Registry registry = cdi::load_registry(ctx.config.cdi_spec_dirs);
  if (format == "json") {
    auto devices = nlohmann::json::array();
    for (const auto& [name, ref] : registry.devices) {
      devices.push_back({{"name", name}, {"spec", registry.specs[ref.spec].path}});
    }
    auto errors = nlohmann::json::array();
    for (const auto& e : registry.errors)
      errors.push_back({{"path", e.path}, {"error", e.message}});
    std::cout
        << nlohmann::json{{"dirs", registry.dirs}, {"devices", devices}, {"errors", errors}}.dump(2)
        << "\n";
    return 0;
  }
  // A broken vendor file does not hide the others' devices; it is said, and the exit is 0.
  for (const auto& e : registry.errors) std::cerr << "warning: " << e.message << "\n";
  for (const auto& name : registry.device_names()) std::cout << name << "\n";
  return 0;
}

}  // namespace hippo::cli
