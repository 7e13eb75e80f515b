#include "json_codec.hpp"

#include <algorithm>

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

std::optional<Json> parse_json_text(std::string_view text, std::string_view label,
                                    std::string& error) {
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
  }
}

}  // namespace hippo::spec
