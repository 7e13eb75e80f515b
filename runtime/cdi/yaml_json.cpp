#include "runtime/cdi/yaml_json.hpp"

#include <yaml-cpp/yaml.h>

namespace hippo::cdi {
namespace {

using Json = nlohmann::json;

// yaml-cpp counts lines and columns from 0; users count from 1.
std::string at_line(const YAML::Mark& m) {
  if (m.is_null()) return "";
  return " at line " + std::to_string(m.line + 1) + ", column " + std::to_string(m.column + 1);
}

Json scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return Json(s);  // quoted: always a string
  if (s == "~" || s == "null" || s == "Null" || s == "NULL") return Json(nullptr);
  return Json(s);
}

Result<Json> convert(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return Json(nullptr);
    case YAML::NodeType::Scalar:
      return scalar(n);
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& child : n) {
        auto v = convert(child);
        if (!v) return v;
        out.push_back(std::move(*v));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& pair : n) {
        if (!pair.first.IsScalar())
          return fail(ErrorKind::invalid_argument,
                      "a key that is not a string" + at_line(pair.first.Mark()));
        const std::string& key = pair.first.Scalar();
        if (out.contains(key))
          return fail(ErrorKind::invalid_argument,
                      "duplicate key \"" + key + "\"" + at_line(pair.first.Mark()));
        auto v = convert(pair.second);
        if (!v) return v;
        out[key] = std::move(*v);
      }
      return out;
    }
  }
  return Json(nullptr);
}

}  // namespace

Result<Json> yaml_to_json(std::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return fail(ErrorKind::invalid_argument, "invalid YAML" + at_line(e.mark) + ": " + e.msg);
  }
  return convert(root);
}

}  // namespace hippo::cdi
