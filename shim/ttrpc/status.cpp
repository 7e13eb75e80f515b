#include "shim/ttrpc/status.hpp"

#include <cerrno>
#include <cstddef>
#include <iterator>

#include "base/error.hpp"

namespace hippo::ttrpc {

namespace {

// Indexed by code; gRPC's spelling, as containerd and ctr print them.
constexpr const char* kCodeNames[] = {
    "OK",       "Canceled",        "Unknown",          "InvalidArgument",   "DeadlineExceeded",
    "NotFound", "AlreadyExists",   "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
    "Aborted",  "OutOfRange",      "Unimplemented",    "Internal",          "Unavailable",
    "DataLoss", "Unauthenticated",
};

}  // namespace

const char* code_name(Code code) {
  const auto index = static_cast<size_t>(static_cast<uint32_t>(code));
  return index < std::size(kCodeNames) ? kCodeNames[index] : "Code(?)";
}

Status to_status(const Error& error) {
  switch (error.kind()) {
    case ErrorKind::invalid_argument:
      return {Code::kInvalidArgument, error.message};
    case ErrorKind::not_found:
      return {Code::kNotFound, error.message};
    case ErrorKind::already_exists:
      return {Code::kAlreadyExists, error.message};
    case ErrorKind::failed_precondition:
      return {Code::kFailedPrecondition, error.message};
    case ErrorKind::unavailable:
      return {Code::kUnavailable, error.message};
    case ErrorKind::unimplemented:
      return {Code::kUnimplemented, error.message};
    case ErrorKind::internal:
      return {Code::kInternal, error.message};
    case ErrorKind::unknown:
      break;
  }
  // No kind given or implied: the errno still says something.
  switch (error.code) {
    case EPERM:
    case EACCES:
      return {Code::kPermissionDenied, error.message};
    case ETIMEDOUT:
      return {Code::kDeadlineExceeded, error.message};
    default:
      return {Code::kUnknown, error.message};
  }
}

}  // namespace hippo::ttrpc
