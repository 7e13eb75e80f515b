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
  Code code = Code::kUnknown;
  switch (error.code) {
    case ENOENT:
      code = Code::kNotFound;
      break;
    case EEXIST:
      code = Code::kAlreadyExists;
      break;
    case EINVAL:
      code = Code::kInvalidArgument;
      break;
    case ENOSYS:
    case EOPNOTSUPP:
      code = Code::kUnimplemented;
      break;
    case EPERM:
    case EACCES:
      code = Code::kPermissionDenied;
      break;
    case ETIMEDOUT:
      code = Code::kDeadlineExceeded;
      break;
    default:
      break;
  }
  return Status{code, error.message};
}

}  // namespace hippo::ttrpc
