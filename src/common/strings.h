#pragma once

// Small text helpers shared by every module, so that each is written once.
//
// Thread safety: pure functions.

#include <string_view>

namespace ramp {

// Returns `s` without leading and trailing ASCII whitespace (space, \t, \n, \v, \f, \r). The
// result views `s`'s characters.
std::string_view trim(std::string_view s);

}  // namespace ramp
