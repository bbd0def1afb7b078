// The judge's false-rollback guarantee, checked by bounded simulation with fixed seeds: healthy
// canaries under time-varying traffic and error rates, looked at every window, must be rolled
// back at most alpha of the time (plus a binomial tolerance). A control runs the naive repeated
// z-test on the same traffic to show the simulation does catch a broken guarantee.

#include <cmath>
#include <random>

#include <gtest/gtest.h>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/normal.hpp>

#include "analysis/judge/judge.h"

namespace ramp::analysis::judge {
namespace {

constexpr int kRuns = 400;
constexpr int kLooks = 80;
constexpr double kAlpha = 0.05;
const double kInf = std::numeric_limits<double>::infinity();

struct Arm {
  double requests = 0, errors = 0, fast = 0;
};

struct Traffic {
  std::mt19937_64 rng;
  double ratio;  // canary error rate / stable's
  explicit Traffic(uint64_t seed, double r = 1.0) : rng(seed), ratio(r) {}

  // One 15 s window: Poisson requests at a rate that swings, split 10/90 by a fair router,
  // an error rate that drifts and spikes (an outage hitting both versions).
  void window(int i, Arm& canary, Arm& stable) {
    const double rate = 20.0 * (1.0 + 0.8 * std::sin(i / 7.0));
    const int total = std::poisson_distribution<int>(rate * 15)(rng);
    const int nc = std::binomial_distribution<int>(total, 0.1)(rng);
    const double p = (i % 25 >= 20 ? 0.08 : 0.01) * (1.0 + 0.5 * std::cos(i / 5.0));
    add(canary, nc, std::min(1.0, p * ratio));
    add(stable, total - nc, p);
  }
  void add(Arm& arm, int n, double p) {
    arm.requests += n;
    arm.errors += std::binomial_distribution<int>(n, p)(rng);
    arm.fast += std::binomial_distribution<int>(n, 0.95)(rng);
  }
};

JudgeInput inputOf(int i, const Arm& c, const Arm& s) {
  JudgeInput in;
  in.time = Time(Duration(int64_t(i) * 15000));
  in.canary = {c.requests, c.errors, {{0.25, c.fast}, {kInf, c.requests}}};
  in.stable = {s.requests, s.errors, {{0.25, s.fast}, {kInf, s.requests}}};
  return in;
}

JudgeConfig config() {
  JudgeConfig c;
  c.alpha = kAlpha;
  c.latency = LatencyConfig{0.25};
  c.canaryWeight = 0.1;
  c.maxDuration = std::chrono::hours(10);  // never reached: only rollbacks are counted
  c.promotionAlpha = 1e-300;               // no early promotion: the test keeps looking
  return c;
}

// Number of runs (of kRuns) the judge rolls back.
int judgeRollbacks(double ratio, uint64_t seed) {
  const JudgeConfig c = config();
  int failed = 0;
  for (int run = 0; run < kRuns; ++run) {
    Traffic t(seed + run, ratio);
    Arm canary, stable;
    JudgeState state;
    for (int i = 0; i <= kLooks; ++i) {
      if (i > 0) t.window(i, canary, stable);
      auto v = judgeLook(c, state, inputOf(i, canary, stable), false);
      EXPECT_TRUE(v.has_value());
      if (!v) return -1;
      state = v->state;
      if (v->phase == Phase::kFailed) {
        ++failed;
        break;
      }
      EXPECT_EQ(v->phase, Phase::kRunning);
    }
  }
  return failed;
}

int tolerance() {
  // Largest count a true rate of alpha produces with probability 0.999.
  boost::math::binomial_distribution<double> b(kRuns, kAlpha);
  return static_cast<int>(boost::math::quantile(b, 0.999));
}

TEST(JudgeGuarantee, HealthyCanaryFalseRollbackAtMostAlphaAtEveryLook) {
  const int failed = judgeRollbacks(1.0, 1000);
  EXPECT_LE(failed, tolerance()) << failed << " of " << kRuns << " healthy canaries rolled back";
}

TEST(JudgeGuarantee, ControlRepeatedZTestBreaksTheSameBound) {
  // One-sided z-test of canary vs stable error proportions at 5%, at every look.
  const double z = boost::math::quantile(boost::math::normal_distribution<double>(), 1 - kAlpha);
  int failed = 0;
  for (int run = 0; run < kRuns; ++run) {
    Traffic t(1000 + run);
    Arm c, s;
    for (int i = 1; i <= kLooks; ++i) {
      t.window(i, c, s);
      if (c.requests == 0 || s.requests == 0) continue;
      const double pc = c.errors / c.requests, ps = s.errors / s.requests;
      const double pool = (c.errors + s.errors) / (c.requests + s.requests);
      const double se = std::sqrt(pool * (1 - pool) * (1 / c.requests + 1 / s.requests));
      if (se > 0 && (pc - ps) / se > z) {
        ++failed;
        break;
      }
    }
  }
  EXPECT_GT(failed, tolerance()) << "the simulation should expose a test without the guarantee";
}

TEST(JudgeGuarantee, ThreefoldRegressionIsCaught) {
  EXPECT_GE(judgeRollbacks(3.0, 5000), kRuns * 9 / 10);
}

}  // namespace
}  // namespace ramp::analysis::judge
