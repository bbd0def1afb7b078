#include "ramp/clock.h"

#include <thread>

namespace ramp {
namespace {

// The real clock: the one place in src/ that reads system time and sleeps.
class RealClock final : public Clock {
 public:
  Time now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  }
  void sleepFor(Duration d) override { std::this_thread::sleep_for(d); }
};

}  // namespace

Clock& realClock() {
  static RealClock clock;
  return clock;
}

}  // namespace ramp
