#pragma once
// The error vocabulary every hippo layer shares; base is the bottom layer, so it owns it.

#include <cerrno>
#include <cstring>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace hippo {

// What kind of failure, for callers that act on it (the shim maps it to a ttrpc code, once, in
// shim/task_support.cpp). Next to errno rather than instead of it: errno says what the kernel
// said, the kind says what it means to the caller. `unknown` falls back to the errno's kind.
enum class ErrorKind : uint8_t {
  unknown,
  invalid_argument,     // bad input: config.json, flags, a request field
  not_found,            // no such container, process, file
  already_exists,       // id taken, file exists
  failed_precondition,  // valid request, wrong state: start a running container, exec into a paused
                        // one
  unavailable,    // something hippo needs is not there or not answering: systemd, runc, a kernel
                  // feature
  unimplemented,  // hippo does not do this
  internal,       // hippo's own fault
};

// The kind an errno implies when the code that failed gave none.
constexpr ErrorKind kind_of_errno(int code) {
  switch (code) {
    case ENOENT:
    case ESRCH:
      return ErrorKind::not_found;
    case EEXIST:
      return ErrorKind::already_exists;
    case EINVAL:
    case E2BIG:
    case EFBIG:
    case ENAMETOOLONG:
      return ErrorKind::invalid_argument;
    case ENOSYS:
    case ENOTSUP:
      return ErrorKind::unimplemented;
    default:
      return ErrorKind::unknown;
  }
}

// An error is a value: its kind, the errno it came from (0 if none) and one line that names the
// object.
struct Error {
  int code = 0;
  std::string message;
  ErrorKind tag = ErrorKind::unknown;  // set by fail(kind, …); see kind()

  ErrorKind kind() const { return tag != ErrorKind::unknown ? tag : kind_of_errno(code); }

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
inline std::unexpected<Error> fail(ErrorKind kind, std::string message) {
  return std::unexpected(Error{0, std::move(message), kind});
}
// Passes a failed result's error up, with the context of the layer it crosses ("ctx: message")
// when given: `if (!r) return forward(r, "create " + id);`.
template <class T>
std::unexpected<Error> forward(const Result<T>& failed, std::string_view ctx = {}) {
  Error e = failed.error();
  if (!ctx.empty()) e.context(ctx);
  return std::unexpected(std::move(e));
}
inline std::unexpected<Error> fail_errno(std::string_view what, int err = errno) {
  return std::unexpected(Error::from_errno(err, what));
}

}  // namespace hippo
