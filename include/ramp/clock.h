#pragma once

// Clock: the only source of time in src/.
//
// Production code takes a Clock& and never calls std::chrono::*::now() or sleeps directly, so
// every time-dependent rule can be tested on a simulated clock (tests/fakes/simulated_clock.h).
//
// Thread safety: implementations must be safe to call from any thread.

#include <chrono>
#include <memory>

namespace ramp {

using Duration = std::chrono::milliseconds;
// Wall-clock time, millisecond precision. Persisted as RFC 3339 UTC.
using Time = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

class Clock {
 public:
  virtual ~Clock() = default;

  // Returns the current wall-clock time.
  virtual Time now() const = 0;

  // Blocks the calling thread for `d` (real clock) or advances simulated time by `d`.
  virtual void sleepFor(Duration d) = 0;
};

// Returns the process-wide real clock. Never null; lives for the whole program.
Clock& realClock();

}  // namespace ramp
