#pragma once

// The client-side rate limit of API requests (client-go's token bucket, Argo's --qps/--burst):
// a bucket of `burst` tokens refilled at `qps` per second; each request takes one, and waits
// when none is left. Time comes from the caller (the injected Clock), so tests step it.
//
// Thread safety: reserve() may be called from any thread.

#include <mutex>

#include "ramp/clock.h"

namespace ramp::kube {

class TokenBucket {
 public:
  // qps <= 0 means no limit. burst is at least 1.
  TokenBucket(double qps, int burst);

  // Takes one token as of `now` and returns how long the caller must wait before sending
  // (zero when a token was there). Tokens taken ahead are owed: a second caller waits behind the
  // first, so the long-run rate never exceeds qps.
  Duration reserve(Time now);

 private:
  const double qps_;
  const double burst_;
  std::mutex mu_;
  double tokens_;
  Time last_{};
  bool started_ = false;
};

}  // namespace ramp::kube
