#include "traffic/haproxy/weight_math.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace ramp::traffic::haproxy {

Result<SplitTotals> computeSplit(int readyStable, int readyCanary, int32_t canaryWeight,
                                 int32_t maxTrafficWeight, int maxServerWeight) {
  if (maxTrafficWeight <= 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     "maxTrafficWeight must be positive, got " + std::to_string(maxTrafficWeight));
  }
  if (canaryWeight < 0 || canaryWeight > maxTrafficWeight) {
    return makeError(ErrorCode::kInvalidArgument, "canary weight " + std::to_string(canaryWeight) +
                                                      " is outside [0, " +
                                                      std::to_string(maxTrafficWeight) + "]");
  }
  if (maxServerWeight < 1 || maxServerWeight > 256) {
    return makeError(ErrorCode::kInvalidArgument,
                     "maxServerWeight must be in [1, 256], got " + std::to_string(maxServerWeight));
  }
  if (readyStable <= 0 && readyCanary <= 0) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "no ready endpoint in the stable or the canary revision");
  }
  const int64_t capStable = int64_t{maxServerWeight} * std::max(readyStable, 0);
  const int64_t capCanary = int64_t{maxServerWeight} * std::max(readyCanary, 0);
  const int64_t w = canaryWeight;
  const int64_t rest = maxTrafficWeight - canaryWeight;

  // One revision carries everything, by request or because the other has no ready server.
  if (w == 0 || capCanary == 0) return SplitTotals{capStable, 0, w == 0};
  if (rest == 0 || capStable == 0) return SplitTotals{0, capCanary, rest == 0};

  const int64_t g = std::gcd(w, rest);
  const int64_t p = w / g;
  const int64_t q = rest / g;
  const int64_t k = std::min(capCanary / p, capStable / q);
  if (k >= 1) return SplitTotals{k * q, k * p, true};

  // The exact ratio does not fit (maxTrafficWeight far above 256): take the closest one.
  const double target = static_cast<double>(w) / static_cast<double>(maxTrafficWeight);
  SplitTotals best{capStable, 0, true};
  double bestErr = target;
  for (int64_t c = 1; c <= capCanary; ++c) {
    const double idealStable =
        static_cast<double>(c) * static_cast<double>(q) / static_cast<double>(p);
    for (int64_t s : {static_cast<int64_t>(std::floor(idealStable)),
                      static_cast<int64_t>(std::ceil(idealStable))}) {
      s = std::clamp<int64_t>(s, 0, capStable);
      if (s + c == 0) continue;
      const double err = std::abs(static_cast<double>(c) / static_cast<double>(c + s) - target);
      if (err < bestErr) {
        bestErr = err;
        best = SplitTotals{s, c, true};
      }
    }
  }
  return best;
}

std::vector<int> spreadWeight(int64_t total, int n) {
  std::vector<int> out;
  if (n <= 0) return out;
  out.assign(static_cast<size_t>(n), static_cast<int>(total / n));
  for (int64_t i = 0; i < total % n; ++i) ++out[static_cast<size_t>(i)];
  return out;
}

}  // namespace ramp::traffic::haproxy
