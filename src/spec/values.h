#pragma once

// Pure helpers that interpret spec values the way Argo Rollouts does: pause durations (Go
// durations themselves are common/go_duration.h), IntOrString percentages against a replica
// count (with Argo's rounding), and the maxSurge/maxUnavailable fence posts. The rollout and
// analysis engines use these; validation uses them to reject values they cannot interpret.
//
// Pure functions; thread-safe.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "ramp/error.h"
#include "ramp/spec/meta.h"
#include "ramp/spec/rollout.h"

namespace ramp::spec {

// True when `text` holds an unresolved "{{ ... }}" placeholder (e.g. "{{args.count}}").
bool isTemplated(std::string_view text);

// Seconds of a canary pause step's duration, as Argo's RolloutPause.DurationSeconds: an int is
// seconds; a string is first read as integer seconds, then as a Go duration (truncated to whole
// seconds). Returns kInvalidArgument when the string is neither. The value may be negative
// (validation rejects that).
Result<int64_t> pauseDurationSeconds(const IntOrString& duration);

// Resolves an IntOrString against `total` as Argo does (the deprecated apimachinery
// GetValueFromIntOrPercent): an int is itself; a string is a percentage whether or not it ends
// in '%' ("25%" and "25" both mean 25%), scaled by total and rounded up (roundUp) or down.
// Returns kInvalidArgument for a string that is not an integer with an optional '%'.
Result<int32_t> resolveIntOrPercent(const IntOrString& value, int32_t total, bool roundUp);

// True for a string IntOrString without '%' that is a plain integer ("1"): Argo reads it as a
// percentage (issue #4567); lint warns about it.
bool isBarePercentString(const IntOrString& value);

// maxSurge / maxUnavailable of a canary, or their default (25%).
IntOrString maxSurgeOrDefault(const CanaryStrategy& canary);
IntOrString maxUnavailableOrDefault(const CanaryStrategy& canary);

struct Fenceposts {
  int32_t maxSurge = 0;
  int32_t maxUnavailable = 0;
  bool operator==(const Fenceposts&) const = default;
};

// Argo's resolveFenceposts: maxSurge rounded up, maxUnavailable rounded down, both against
// `replicas`; when both come out 0, maxUnavailable becomes 1. Errors as resolveIntOrPercent.
Result<Fenceposts> resolveFenceposts(const IntOrString& maxSurge, const IntOrString& maxUnavailable,
                                     int32_t replicas);

// Parses a Kubernetes resource quantity ("500m", "1.5", "128Mi", "1G", "1e3", "-2") with
// apimachinery's grammar: an optionally signed decimal number, then at most one suffix: a
// binary SI suffix (Ki Mi Gi Ti Pi Ei), a decimal SI suffix (m k M G T P E) or a decimal
// exponent (e or E and an integer). No spaces, no other units ("12XB", "lots", "1 Gi" are
// errors). Returns the value as a number (1Ki = 1024, 500m = 0.5), or kInvalidArgument saying
// what is wrong with the text.
Result<long double> parseQuantity(std::string_view text);

// Formats and parses RFC 3339 UTC times ("2026-11-22T10:50:24Z"; fractional seconds kept to the
// millisecond, a numeric offset accepted on input). parseRfc3339 returns kInvalidArgument on
// anything else.
std::string formatRfc3339(Time t);
Result<Time> parseRfc3339(std::string_view text);

}  // namespace ramp::spec
