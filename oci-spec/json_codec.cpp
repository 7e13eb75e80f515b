#include "oci-spec/json_codec.hpp"

#include <algorithm>

#include "base/file_io.hpp"

namespace hippo::spec {
namespace codec {

std::string shown(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return std::string("boolean ") + (j.get<bool>() ? "true" : "false");
    case Json::value_t::string: {
      std::string s = j.dump();
      if (s.size() > 40) s = s.substr(0, 37) + "...";
      return "string " + s;
    }
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number " + j.dump();
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "object";
    default:
      return "unsupported JSON value";
  }
}

std::string member_path(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

std::string key_path(const std::string& parent, std::string_view key) {
  return parent + "[" + Json(std::string(key)).dump() + "]";
}

}  // namespace codec

Result<void> check_json_bounds(std::string_view text, std::string_view label) {
  if (text.size() > kMaxJsonBytes) {
    return fail(size_limit_message(label, text.size(), kMaxJsonBytes), EFBIG);
  }
  // Brackets inside strings do not nest; a backslash there escapes the next byte. On invalid
  // JSON this count can differ from the parser's nesting only after the parser's first error.
  size_t depth = 0, line = 1, line_start = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      line_start = i + 1;
    }
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        return fail(ErrorKind::invalid_argument,
                    std::string(label) + ": nesting deeper than " + std::to_string(kMaxJsonDepth) +
                        " levels at line " + std::to_string(line) + ", column " +
                        std::to_string(i - line_start + 1));
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      // An integer past 64 bits would reach the reader as a float ("1.8446744073709552e+19"):
      // name it as written. No document hippo reads has a non-integer number.
      const size_t digits_at = i + (c == '-' ? 1 : 0);
      size_t end = digits_at;
      while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
      const bool integer =
          end == text.size() || (text[end] != '.' && text[end] != 'e' && text[end] != 'E');
      const std::string_view digits = text.substr(digits_at, end - digits_at);
      const std::string_view max = c == '-' ? "9223372036854775808" : "18446744073709551615";
      if (integer &&
          (digits.size() > max.size() || (digits.size() == max.size() && digits > max))) {
        return fail(std::string(label) + ": " + std::string(text.substr(i, end - i)) + " at line " +
                        std::to_string(line) + ", column " + std::to_string(i - line_start + 1) +
                        " is out of range for a 64-bit integer",
                    ERANGE);
      }
      // The rest of a fraction or exponent is not an integer of its own.
      while (end < text.size() &&
             std::string_view("0123456789.eE+-").find(text[end]) != std::string_view::npos)
        ++end;
      i = end - 1;
    }
  }
  return {};
}

Result<std::string> read_json_file(const std::string& path, std::string_view label) {
  return read_text_file(path, kMaxJsonBytes, label);
}

std::optional<Json> parse_json_text(std::string_view text, std::string_view label,
                                    std::string& error) {
  if (auto ok = check_json_bounds(text, label); !ok) {
    error = ok.error().message;
    return std::nullopt;
  }
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // nlohmann reports a byte offset; users need line and column.
    const size_t upto = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    const auto head = text.substr(0, upto);
    const size_t line = 1 + static_cast<size_t>(std::count(head.begin(), head.end(), '\n'));
    const size_t last_nl = head.rfind('\n');
    const size_t column = upto - (last_nl == std::string_view::npos ? 0 : last_nl + 1) + 1;
    std::string what = e.what();
    // Keep only nlohmann's description: "...: syntax error while parsing value - invalid literal".
    if (auto pos = what.find("syntax error"); pos != std::string::npos) {
      what = what.substr(pos);
    } else if (auto colon = what.find(": "); colon != std::string::npos) {
      what = what.substr(colon + 2);
    }
    error = std::string(label) + ": invalid JSON at line " + std::to_string(line) + ", column " +
            std::to_string(column) + ": " + what;
    return std::nullopt;
  } catch (const Json::exception& e) {
    // Not a syntax error but a value nlohmann cannot hold ("1e999": out_of_range.406), which
    // comes without a position.
    std::string what = e.what();
    if (auto end = what.find("] "); end != std::string::npos) what = what.substr(end + 2);
    error = std::string(label) + ": invalid JSON: " + what;
    return std::nullopt;
  }
}

}  // namespace hippo::spec
