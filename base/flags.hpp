#pragma once
// Command-line flags parsed the way runc's urfave/cli does: "--name value", "--name=value",
// "-name value", one-letter aliases ("-b value"), booleans with an optional "=true|false",
// repeatable flags, and "--" ending the flags. Flags may follow positional arguments unless the
// command stops at its first argument (exec, whose command line belongs to the container).

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace hippo {

struct FlagSpec {
  std::string_view name;
  char alias = 0;  // one-letter alias, 0 for none
  bool takes_value = false;
  bool repeatable = false;
  std::string_view help;
};

class ParsedFlags {
 public:
  std::vector<std::string> args;  // positional arguments, in order

  bool has(std::string_view name) const { return values_.contains(std::string(name)); }
  // A boolean flag: absent -> false; "--x" -> true; "--x=false" -> false.
  bool enabled(std::string_view name) const;
  std::optional<std::string> value(std::string_view name) const;  // the last one given
  std::string value_or(std::string_view name, std::string fallback) const;
  std::vector<std::string> all(std::string_view name) const;

  void add(std::string_view name, std::string v) {
    values_[std::string(name)].push_back(std::move(v));
  }

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
};

Result<ParsedFlags> parse_flags(std::span<const FlagSpec> specs, std::span<const std::string> argv,
                                bool stop_at_first_arg);

// "  --bundle value, -b value   path to the root of the bundle directory"
std::string flags_help(std::span<const FlagSpec> specs);

}  // namespace hippo
