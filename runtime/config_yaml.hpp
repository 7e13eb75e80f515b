#pragma once
// The YAML that config.yaml uses: one top-level mapping of plain keys to single-line scalars
// (plain, 'single' or "double" quoted), with comments, blank lines and `---`/`...` markers.
// Nested values are recognised only to be refused with their kind and line. hippo reads this
// subset itself instead of linking yaml-cpp: yaml-cpp's iostreams pull libstdc++'s locale code
// into every shim process (docs/architecture.md, "shim memory").

#include <string>
#include <string_view>
#include <vector>

#include "oci-spec/error.hpp"

namespace hippo::runtime {

struct YamlEntry {
  enum class Kind { scalar, null, list, mapping };
  std::string key;
  std::string value;  // for scalars, quotes and escapes resolved
  Kind kind = Kind::scalar;
  int key_line = 0;    // 1-based
  int value_line = 0;  // where the value starts (the next line for a nested block)
};

// Errors: "invalid YAML (line N): <reason>", "expected a mapping of keys at the top level",
// "duplicate key \"k\" (line N)". Without the file label: the caller prefixes it.
Result<std::vector<YamlEntry>> parse_flat_yaml(std::string_view text);

}  // namespace hippo::runtime
