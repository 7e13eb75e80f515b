#pragma once
// Reading one CDI spec file: .yaml through yaml-cpp, .json through nlohmann-json, then the strict
// decoder and the checks. Every error starts with the file's path.

#include <string>
#include <string_view>

#include "base/error.hpp"
#include "runtime/cdi/spec_model.hpp"

namespace hippo::cdi {

// A spec file that passed every check, with where it came from.
struct SpecFile {
  std::string path;
  int priority = 0;  // index of its directory in the search list: higher overrides lower
  std::string vendor;
  std::string klass;
  Spec spec;
};

// Whether a directory entry is a spec file by its name (".json" or ".yaml"; the reference reads
// no other extension, ".yml" included).
bool is_spec_file_name(std::string_view name);

// Parses `text` as the file `path` (its extension picks the format).
Result<SpecFile> parse_spec_file(const std::string& path, std::string_view text, int priority = 0);

// Reads and parses `path` (at most 4 MiB).
Result<SpecFile> read_spec_file(const std::string& path, int priority = 0);

}  // namespace hippo::cdi
