#pragma once

// Go duration strings ("30s", "1m30s", "1.5h", "500ms"), the format of Argo's DurationString
// fields (interval, initialDelay). Parsed as Go's time.ParseDuration does.
//
// Thread safety: pure functions.

#include <string_view>

#include "ramp/clock.h"
#include "ramp/error.h"

namespace ramp::analysis {

// Parses `text`. On success returns the duration truncated to milliseconds. On error returns
// kInvalidArgument with Go's message, e.g. `time: unknown unit "x" in duration "5x"`,
// `time: missing unit in duration "5"`, `time: invalid duration "abc"`.
Result<Duration> parseGoDuration(std::string_view text);

}  // namespace ramp::analysis
