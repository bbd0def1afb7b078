#pragma once

// Error and Result: how every module reports an expected failure across its boundary.
//
// A function that can fail returns Result<T> (std::expected<T, Error>) or Status
// (Result<void>). Exceptions thrown by third-party libraries are caught at the module boundary
// and turned into an Error; they never cross into another module. Impossible states are
// assertions, not Errors.
//
// Thread safety: plain values; safe to copy between threads.

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace ramp {

enum class ErrorCode {
  kInvalidArgument,     // bad input from a user: a manifest, a flag, a request body
  kParse,               // input that is not well-formed (not YAML, not JSON, bad expression)
  kNotFound,            // the named object or file does not exist
  kAlreadyExists,       // create of an object that exists
  kConflict,            // compare-and-swap lost: the object changed since it was read
  kFailedPrecondition,  // the operation does not apply to the object's current state
  kUnauthenticated,     // no or wrong credentials
  kPermissionDenied,    // credentials valid, role too low
  kUnavailable,         // a dependency (Prometheus, HAProxy, the store) cannot be reached
  kDeadlineExceeded,    // a timeout elapsed
  kCancelled,           // the caller gave up (terminate, shutdown)
  kUnsupported,         // the feature is not supported by this implementation
  kInternal,            // a bug or an unexpected library failure
};

// Returns a stable lower-case name, e.g. "invalid_argument".
std::string_view errorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  bool operator==(const Error&) const = default;
};

template <class T>
using Result = std::expected<T, Error>;
using Status = Result<void>;

// Builds the unexpected value to return from a function returning Result<T>.
inline std::unexpected<Error> makeError(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error{code, std::move(message)});
}

inline std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kParse: return "parse";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kAlreadyExists: return "already_exists";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kFailedPrecondition: return "failed_precondition";
    case ErrorCode::kUnauthenticated: return "unauthenticated";
    case ErrorCode::kPermissionDenied: return "permission_denied";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kDeadlineExceeded: return "deadline_exceeded";
    case ErrorCode::kCancelled: return "cancelled";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

}  // namespace ramp
