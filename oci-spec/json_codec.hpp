#pragma once
// Generic JSON <-> struct codec driven by describe(visitor, object) field tables (schema.hpp,
// state.cpp, features.cpp). The reader checks every type and range and names the JSON path of the
// first problem; the writer emits present fields in table order.

#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/error.hpp"

namespace hippo::spec {

using Json = nlohmann::ordered_json;

// describe() overloads take M = T or const T: the reader walks mutable objects, the writer const.
template <class M, class T>
concept Is = std::same_as<std::remove_const_t<M>, T>;

namespace codec {

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};
template <class T>
struct IsStringMap : std::false_type {};
template <class T>
struct IsStringMap<std::map<std::string, T>> : std::true_type {};

// The first problem found while reading; later problems are not looked for.
struct Failure {
  std::string path;
  std::string reason;
  bool failed() const { return !reason.empty(); }
  void set(std::string at, std::string why) {
    if (!failed()) {
      path = std::move(at);
      reason = std::move(why);
    }
  }
};

// "string \"1G\"", "number 1.5", "array", … for "expected X, got Y" messages.
std::string shown(const Json& j);
std::string member_path(const std::string& parent, std::string_view key);
std::string index_path(const std::string& parent, size_t index);
std::string key_path(const std::string& parent, std::string_view key);

class Reader;

template <class T>
void read_value(const Json& j, const std::string& path, T& out, Failure& f);

class Reader {
 public:
  Reader(const Json& object, std::string path, Failure& failure)
      : object_(object), path_(std::move(path)), failure_(failure) {}

  template <class T>
  void operator()(std::string_view key, T& field) {
    if (failure_.failed()) return;
    auto it = object_.find(std::string(key));
    const bool absent = it == object_.end() || it->is_null();
    if constexpr (IsOptional<T>::value) {
      if (absent) {
        field.reset();
        return;
      }
      field.emplace();
      read_value(*it, member_path(path_, key), *field, failure_);
    } else {
      if (absent) {
        failure_.set(member_path(path_, key), "required property is missing");
        return;
      }
      read_value(*it, member_path(path_, key), field, failure_);
    }
  }

 private:
  const Json& object_;
  std::string path_;
  Failure& failure_;
};

template <class T>
void read_integer(const Json& j, const std::string& path, T& out, Failure& f) {
  if (!j.is_number_integer()) {
    f.set(path, "expected an integer, got " + shown(j));
    return;
  }
  constexpr const char* kType = std::is_signed_v<T> ? "a signed " : "an unsigned ";
  const std::string range =
      std::string("out of range for ") + kType + std::to_string(sizeof(T) * 8) + "-bit integer";
  if (j.is_number_unsigned()) {
    const auto v = j.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
      f.set(path, std::to_string(v) + " is " + range);
      return;
    }
    out = static_cast<T>(v);
  } else {
    const auto v = j.get<int64_t>();
    // One expression for every T; for T = int64_t a half of it is always true.
    // NOLINTBEGIN(misc-redundant-expression)
    const bool fits = std::is_signed_v<T>
                          ? v >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
                                v <= static_cast<int64_t>(std::numeric_limits<T>::max())
                          : v >= 0 && static_cast<uint64_t>(v) <=
                                          static_cast<uint64_t>(std::numeric_limits<T>::max());
    // NOLINTEND(misc-redundant-expression)
    if (!fits) {
      f.set(path, std::to_string(v) + " is " + range);
      return;
    }
    out = static_cast<T>(v);
  }
}

template <class T>
void read_value(const Json& j, const std::string& path, T& out, Failure& f) {
  if (f.failed()) return;
  if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) return f.set(path, "expected a boolean, got " + shown(j));
    out = j.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    read_integer(j, path, out, f);
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!j.is_string()) return f.set(path, "expected a string, got " + shown(j));
    out = j.get<std::string>();
  } else if constexpr (std::is_enum_v<T>) {
    // An enumeration written as its name: from_string(text, out) and to_string(value), found
    // beside the enum (state.hpp's Status).
    if (!j.is_string()) return f.set(path, "expected a string, got " + shown(j));
    if (!from_string(j.get_ref<const std::string&>(), out)) {
      return f.set(path, "unknown " + path + " " + j.dump());
    }
  } else if constexpr (IsVector<T>::value) {
    if (!j.is_array()) return f.set(path, "expected an array, got " + shown(j));
    out.clear();
    out.resize(j.size());
    for (size_t i = 0; i < j.size() && !f.failed(); ++i) {
      read_value(j[i], index_path(path, i), out[i], f);
    }
  } else if constexpr (IsStringMap<T>::value) {
    if (!j.is_object()) return f.set(path, "expected an object, got " + shown(j));
    out.clear();
    for (auto it = j.begin(); it != j.end() && !f.failed(); ++it) {
      read_value(it.value(), key_path(path, it.key()), out[it.key()], f);
    }
  } else {
    if (!j.is_object()) return f.set(path, "expected an object, got " + shown(j));
    Reader reader(j, path, f);
    describe(reader, out);
  }
}

class Writer;

template <class T>
Json write_value(const T& value);

class Writer {
 public:
  explicit Writer(Json& object) : object_(object) {}

  template <class T>
  void operator()(std::string_view key, const T& field) {
    if constexpr (IsOptional<T>::value) {
      if (field) object_[std::string(key)] = write_value(*field);
    } else {
      object_[std::string(key)] = write_value(field);
    }
  }

 private:
  Json& object_;
};

template <class T>
Json write_value(const T& value) {
  if constexpr (std::is_same_v<T, bool> || std::is_integral_v<T> ||
                std::is_same_v<T, std::string>) {
    return Json(value);
  } else if constexpr (std::is_enum_v<T>) {
    return Json(std::string(to_string(value)));
  } else if constexpr (IsVector<T>::value) {
    Json array = Json::array();
    for (const auto& item : value) array.push_back(write_value(item));
    return array;
  } else if constexpr (IsStringMap<T>::value) {
    Json object = Json::object();
    for (const auto& [key, item] : value) object[key] = write_value(item);
    return object;
  } else {
    Json object = Json::object();
    Writer writer(object);
    describe(writer, value);
    return object;
  }
}

}  // namespace codec

// Bounds on every JSON document hippo reads (config.json, process.json, state files, what the
// shim gets from containerd): a crafted document must fail at once, not after seconds and
// hundreds of MB of parsing (docs/security.md, "Bounded input"). Go's decoder, which runc and
// containerd use, stops at 10000 levels; real configs nest fewer than 10 (seccomp's
// syscalls[].args[] is the deepest) and are tens of kB, and containerd's ttrpc messages are
// capped at 4 MiB anyway.
inline constexpr size_t kMaxJsonBytes = size_t{4} << 20;
inline constexpr size_t kMaxJsonDepth = 1000;

// Size, nesting depth and integer range of `text`, checked without parsing it: one pass
// counting the brackets outside strings, no allocation. Errors read
//   "<label>: 10485760 bytes is over the 4 MiB limit"  (EFBIG)
//   "<label>: nesting deeper than 1000 levels at line 1, column 1001"  (EINVAL)
//   "<label>: 18446744073709551616 at line 3, column 9 is out of range for a 64-bit integer"
// (the parser would turn such an integer into a float and lose what was written).
Result<void> check_json_bounds(std::string_view text, std::string_view label);

// A JSON file's text, refused before it is read when it is over kMaxJsonBytes (fstat), and
// never read past that (a pipe, a growing file). I/O errors name `path`, the size `label`.
Result<std::string> read_json_file(const std::string& path, std::string_view label);

// Parses text as JSON, naming line and column of a syntax error. `label` starts every error.
// check_json_bounds runs first.
std::optional<Json> parse_json_text(std::string_view text, std::string_view label,
                                    std::string& error);

// A whole JSON document read into T (any type with a describe() table): syntax, types and
// ranges checked; errors read "<label>: <json.path>: <reason>".
template <class T>
Result<T> read_document(std::string_view text, std::string_view label) {
  std::string syntax_error;
  auto json = parse_json_text(text, label, syntax_error);
  if (!json) return fail(syntax_error);
  T out;
  codec::Failure failure;
  codec::read_value(*json, "", out, failure);
  if (failure.failed()) {
    return fail(std::string(label) + ": " + (failure.path.empty() ? "" : failure.path + ": ") +
                failure.reason);
  }
  return out;
}

}  // namespace hippo::spec
