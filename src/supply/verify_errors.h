#pragma once
// The two kinds of error src/supply's verification answers with: kFailedPrecondition when the
// evidence does not hold ("bad signature: …", "digest mismatch: …", "tlog: …"), kParse when it
// cannot be read ("<what>: <why>"). One definition for every verifier of the module.
//
// Thread safety: pure functions.

#include <string>
#include <string_view>

#include "ramp/error.h"

namespace ramp::supply {

inline std::unexpected<Error> failed(const std::string& why) {
  return makeError(ErrorCode::kFailedPrecondition, why);
}

inline std::unexpected<Error> parseError(std::string_view what, const std::string& why) {
  return makeError(ErrorCode::kParse, std::string(what) + ": " + why);
}

}  // namespace ramp::supply
