#include "kube/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace ramp::kube {

TokenBucket::TokenBucket(double qps, int burst)
    : qps_(qps), burst_(std::max(1, burst)), tokens_(std::max(1, burst)) {}

Duration TokenBucket::reserve(Time now) {
  if (qps_ <= 0) return Duration(0);
  std::lock_guard lock(mu_);
  if (!started_) {
    last_ = now;
    started_ = true;
  }
  if (now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
    last_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0) return Duration(0);
  const double waitSeconds = -tokens_ / qps_;
  return std::chrono::duration_cast<Duration>(
      std::chrono::duration<double, std::milli>(std::ceil(waitSeconds * 1000)));
}

}  // namespace ramp::kube
