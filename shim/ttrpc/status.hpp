#pragma once
// gRPC status codes as ttrpc carries them in Response.status, and the conversion of a hippo
// Error into one (the code containerd acts on: NotFound, AlreadyExists, …).

#include <cstdint>
#include <string>

namespace hippo {
struct Error;  // base/error.hpp; forward-declared to keep this header free of <expected>
}

namespace hippo::ttrpc {

enum class Code : int32_t {
  kOk = 0,
  kCanceled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

struct Status {
  Code code = Code::kOk;
  std::string message;
  bool ok() const { return code == Code::kOk; }
  static Status Ok() { return {}; }
};

// gRPC's spelling ("NotFound"); "Code(?)" for values outside the table.
const char* code_name(Code code);

// The status for a hippo Error: the one place error kinds become ttrpc codes. The code comes
// from Error::kind() (given, or implied by the errno: ENOENT → NotFound, EEXIST → AlreadyExists,
// EINVAL → InvalidArgument, ENOSYS → Unimplemented …); without a kind, EPERM/EACCES →
// PermissionDenied, ETIMEDOUT → DeadlineExceeded, otherwise Unknown.
Status to_status(const Error& error);

}  // namespace hippo::ttrpc
