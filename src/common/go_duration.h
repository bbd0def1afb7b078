#pragma once

// Go durations ("300ms", "1.5h", "2h45m", "-1m", "0"): the text of Argo's DurationString fields
// (a metric's interval and initialDelay, a pause, a judge window), of the expression language's
// duration("5m") and of ramp's own flags. ramp has one parser, here in src/common so that every
// module (spec, expr, analysis and the judge, which sit on common only) uses the same one.
//
// parseGoDuration is Go's time.ParseDuration: the grammar [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+ or a
// bare "0"; units ns, us (µs U+00B5, μs U+03BC), ms, s, m, h; fractions computed as Go computes
// them (float64, so "1.9999999ms" is 1999999 ns); the range of an int64 of nanoseconds; and Go's
// error messages, byte for byte, including its quoting of non-printable bytes.
//
// Thread safety: pure functions.

#include <chrono>
#include <string>
#include <string_view>

#include "ramp/clock.h"
#include "ramp/error.h"

namespace ramp {

// Parses `text` as Go's time.ParseDuration. Returns the duration in nanoseconds. Errors:
// kInvalidArgument with Go's message, e.g. `time: invalid duration "1..5s"`,
// `time: missing unit in duration "5"`, `time: unknown unit "d" in duration "5d"`.
Result<std::chrono::nanoseconds> parseGoDuration(std::string_view text);

// parseGoDuration, truncated toward zero to milliseconds (ramp's Duration), for callers that
// schedule on the Clock. Errors: parseGoDuration's.
Result<Duration> parseGoDurationMillis(std::string_view text);

// Formats `d` as Go's Duration.String does ("1h30m0s", "1.5s", "500ms", "1µs", "0s").
std::string formatGoDuration(std::chrono::nanoseconds d);

}  // namespace ramp
