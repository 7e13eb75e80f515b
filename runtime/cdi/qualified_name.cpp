#include "runtime/cdi/qualified_name.hpp"

namespace hippo::cdi {
namespace {

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_letter(c) || is_digit(c); }

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// The shared shape of every part: first/last character classes and the inner punctuation.
Result<void> check_part(std::string_view what, std::string_view s, bool digit_first,
                        std::string_view inner_punct) {
  if (s.empty()) return fail(ErrorKind::invalid_argument, std::string(what) + " is empty");
  const char first = s.front();
  if (!(is_letter(first) || (digit_first && is_digit(first)))) {
    return fail(ErrorKind::invalid_argument, std::string(what) + " " + quoted(s) +
                                                 (digit_first ? " must start with a letter or digit"
                                                              : " must start with a letter"));
  }
  if (s.size() == 1) return {};
  for (char c : s.substr(1, s.size() - 2)) {
    if (!is_alnum(c) && inner_punct.find(c) == std::string_view::npos) {
      return fail(ErrorKind::invalid_argument,
                  std::string(what) + " " + quoted(s) + " has an invalid character '" + c + "'");
    }
  }
  if (!is_alnum(s.back())) {
    return fail(ErrorKind::invalid_argument,
                std::string(what) + " " + quoted(s) + " must end with a letter or digit");
  }
  return {};
}

}  // namespace

Result<void> check_vendor(std::string_view vendor) {
  return check_part("vendor", vendor, false, "_-.");
}
Result<void> check_class(std::string_view klass) {
  return check_part("class", klass, false, "_-.");
}
Result<void> check_device_name(std::string_view name) {
  return check_part("device name", name, true, "_-.:");
}

Result<QualifiedName> parse_kind(std::string_view kind) {
  const auto slash = kind.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == kind.size()) {
    return fail(ErrorKind::invalid_argument,
                "kind " + quoted(kind) + " is not of the form vendor.com/class");
  }
  QualifiedName out{std::string(kind.substr(0, slash)), std::string(kind.substr(slash + 1)), {}};
  if (auto ok = check_vendor(out.vendor); !ok) return std::unexpected(ok.error());
  if (auto ok = check_class(out.klass); !ok) return std::unexpected(ok.error());
  return out;
}

Result<QualifiedName> parse_qualified_name(std::string_view text) {
  const std::string head =
      quoted(text) + " is not a fully-qualified CDI device name (vendor.com/class=name): ";
  const auto eq = text.find('=');
  if (eq == std::string_view::npos)
    return fail(ErrorKind::invalid_argument, head + "missing \"=\"");
  const auto kind = text.substr(0, eq);
  const auto name = text.substr(eq + 1);
  const auto slash = kind.find('/');
  if (slash == std::string_view::npos || slash == 0)
    return fail(ErrorKind::invalid_argument, head + "missing vendor");
  if (slash + 1 == kind.size()) return fail(ErrorKind::invalid_argument, head + "missing class");
  if (name.empty()) return fail(ErrorKind::invalid_argument, head + "missing device name");
  QualifiedName out{std::string(kind.substr(0, slash)), std::string(kind.substr(slash + 1)),
                    std::string(name)};
  for (auto ok : {check_vendor(out.vendor), check_class(out.klass), check_device_name(out.name)}) {
    if (!ok) return fail(ErrorKind::invalid_argument, head + ok.error().message);
  }
  return out;
}

}  // namespace hippo::cdi
