#pragma once
// The error vocabulary every hippo layer shares. oci-spec is the bottom layer, so it owns it.

#include <cerrno>
#include <cstring>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace hippo {

// An error is a value: the errno it came from (0 if none) and one line that names the object.
struct Error {
  int code = 0;
  std::string message;

  // "what: strerror(code)"
  static Error from_errno(int err, std::string_view what) {
    return Error{err, std::string(what) + ": " + std::strerror(err)};
  }
  // Prefixes the message with the context it happened in: "ctx: message".
  Error& context(std::string_view ctx) {
    message = std::string(ctx) + ": " + message;
    return *this;
  }
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string message, int code = 0) {
  return std::unexpected(Error{code, std::move(message)});
}
inline std::unexpected<Error> fail_errno(std::string_view what, int err = errno) {
  return std::unexpected(Error::from_errno(err, what));
}

}  // namespace hippo
