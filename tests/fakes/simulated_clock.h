#pragma once

// SimulatedClock: a Clock whose time moves only when a test says so. sleepFor() advances time
// instead of blocking, so code that waits runs instantly and deterministically.
// Thread-safe.

#include <mutex>

#include "ramp/clock.h"

namespace ramp::testing {

class SimulatedClock final : public Clock {
 public:
  // Starts at 2026-01-01T00:00:00Z unless told otherwise.
  explicit SimulatedClock(Time start = Time(Duration(1767225600000))) : now_(start) {}

  Time now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void sleepFor(Duration d) override { advance(d); }

  void advance(Duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }
  void set(Time t) {
    std::lock_guard lock(mu_);
    now_ = t;
  }

 private:
  mutable std::mutex mu_;
  Time now_;
};

}  // namespace ramp::testing
