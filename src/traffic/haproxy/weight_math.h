#pragma once

// Weight math for the HAProxy router: turns a rollout's canary weight (a share of
// maxTrafficWeight) into HAProxy absolute server weights (0..maxServerWeight, at most 256).
//
// HAProxy weights are per server, so the canary:stable ratio is the ratio of the summed weights
// of the ready canary servers and the ready stable servers. For canaryWeight w of M, with
// g = gcd(w, M - w), p = w / g and q = (M - w) / g, the totals are k*p and k*q for the largest k
// that fits both revisions (each server at most maxServerWeight). Each total is spread over the
// revision's ready servers as evenly as integers allow (they differ by at most one). The ratio is
// then exact whenever k >= 1, which always holds for M <= maxServerWeight (so for the default
// M = 100 every integer percentage is exact). Otherwise the closest representable ratio is used.
//
// Pure functions; thread-safe.

#include <cstdint>
#include <vector>

#include "ramp/error.h"

namespace ramp::traffic::haproxy {

struct SplitTotals {
  int64_t stable = 0;  // sum of the stable servers' weights
  int64_t canary = 0;  // sum of the canary servers' weights
  // False when the requested split cannot be served because the revision that should receive
  // traffic has no ready server: all traffic then goes to the other revision (never to nothing).
  bool satisfied = true;
  bool operator==(const SplitTotals&) const = default;
};

// Computes the summed weights of each revision. Returns kInvalidArgument if the weight is out of
// [0, maxTrafficWeight] or maxServerWeight is out of [1, 256]; kFailedPrecondition if neither
// revision has a ready server (there is nothing that could receive traffic).
Result<SplitTotals> computeSplit(int readyStable, int readyCanary, int32_t canaryWeight,
                                 int32_t maxTrafficWeight, int maxServerWeight);

// Spreads `total` over `n` servers as evenly as integers allow: the first total % n servers get
// one more. Returns an empty vector for n == 0.
std::vector<int> spreadWeight(int64_t total, int n);

}  // namespace ramp::traffic::haproxy
