#pragma once
// CDI device names: "vendor.com/class=name" (fully qualified), and the rules on each part
// (cncf-tags/container-device-interface pkg/parser/parser.go).

#include <string>
#include <string_view>

#include "base/error.hpp"

namespace hippo::cdi {

struct QualifiedName {
  std::string vendor;  // "vendor.com"
  std::string klass;   // "gpu"
  std::string name;    // "0"

  std::string kind() const { return vendor + "/" + klass; }
  std::string str() const { return kind() + "=" + name; }
};

// Vendor and class: a letter first, a letter or digit last, letters, digits, '_', '-' and '.'
// between. Errors say which part and why ("vendor \"1x\" must start with a letter").
Result<void> check_vendor(std::string_view vendor);
Result<void> check_class(std::string_view klass);
// Device names: a letter or digit first and last, letters, digits, '_', '-', '.' and ':' between.
Result<void> check_device_name(std::string_view name);

// Splits and checks "vendor/class=name"; errors say what is missing or wrong:
// `"gpu0" is not a fully-qualified CDI device name (vendor.com/class=name): missing "="`.
Result<QualifiedName> parse_qualified_name(std::string_view text);

// Splits "vendor/class" (a spec's kind) and checks both parts.
Result<QualifiedName> parse_kind(std::string_view kind);

}  // namespace hippo::cdi
