// The e-process arithmetic against independent formulas (Boost.Math distributions) and the
// per-window validity argument checked exactly on the hypergeometric null.

#include "analysis/judge/split_test.h"

#include <cmath>

#include <gtest/gtest.h>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/hypergeometric.hpp>

namespace ramp::analysis::judge {
namespace {

TEST(SplitTest, WindowLikelihoodRatioByHand) {
  // 3 of 4 errors on the canary at a 20% split, alternative r = 2: theta = 0.4 / 1.2 = 1/3,
  // LR = (theta/rho)^3 ((1-theta)/(1-rho))^1 = (5/3)^3 * (2/3)/0.8 = 3.8580...
  EXPECT_NEAR(std::exp(windowLogRatio(3, 4, 0.2, 2.0, 1.0)), 125.0 / 27.0 * (2.0 / 3.0) / 0.8,
              1e-12);
  EXPECT_NEAR(canaryEventShare(2.0, 0.2), 1.0 / 3.0, 1e-15);
  // Against a non-unit null: ratio of the two binomial likelihoods.
  const double t1 = canaryEventShare(0.8, 0.3), t0 = canaryEventShare(1.5, 0.3);
  EXPECT_NEAR(windowLogRatio(2, 9, 0.3, 0.8, 1.5),
              2 * std::log(t1 / t0) + 7 * std::log((1 - t1) / (1 - t0)), 1e-12);
}

TEST(SplitTest, MixtureEqualsWeightedBinomialPdfRatios) {
  const RatioGrid grid = RatioGrid::regression(1.5, 100, 16);
  ASSERT_EQ(grid.ratios.size(), 16u);
  EXPECT_NEAR(grid.ratios.front(), 1.5, 1e-12);
  EXPECT_NEAR(grid.ratios.back(), 100, 1e-9);
  // Canary 14 errors of 20 requests, stable 6 errors of 380: rho = 0.05, E = 20.
  std::vector<double> lr;
  addWindow(grid, 20, 14, 380, 6, lr);
  double expected = 0;
  const boost::math::binomial_distribution<double> null(20, 0.05);
  for (size_t k = 0; k < grid.ratios.size(); ++k) {
    const boost::math::binomial_distribution<double> alt(20,
                                                         canaryEventShare(grid.ratios[k], 0.05));
    expected += grid.weights[k] * boost::math::pdf(alt, 14.0) / boost::math::pdf(null, 14.0);
  }
  EXPECT_NEAR(logEValue(grid, lr), std::log(expected), 1e-9);
  EXPECT_GT(expected, 1e6);  // overwhelming evidence
}

TEST(SplitTest, EmptyWindowsCarryNoInformation) {
  const RatioGrid grid = RatioGrid::regression(2, 50, 4);
  std::vector<double> lr;
  addWindow(grid, 100, 0, 900, 0, lr);  // no events
  addWindow(grid, 0, 0, 900, 5, lr);    // canary got nothing
  addWindow(grid, 100, 3, 0, 0, lr);    // stable got nothing
  EXPECT_DOUBLE_EQ(logEValue(grid, lr), 0.0);
}

// Each window's factor must have mean <= 1 under the exact null (errors a uniformly random
// subset of the window's requests): the hypergeometric. Binomial mean is exactly 1.
TEST(SplitTest, EveryGridFactorIsAnEValueUnderTheHypergeometricNull) {
  const RatioGrid up = RatioGrid::regression(1.5, 100, 16);
  struct Case {
    unsigned nc, ns, events;
  } cases[] = {{7, 50, 5}, {30, 30, 12}, {1, 400, 9}, {200, 20, 40}, {60, 940, 100}};
  for (const auto& c : cases) {
    const double rho = double(c.nc) / (c.nc + c.ns);
    const boost::math::hypergeometric_distribution<double> hyper(c.nc, c.events, c.nc + c.ns);
    const boost::math::binomial_distribution<double> binom(c.events, rho);
    for (double r : up.ratios) {
      double meanHyper = 0, meanBinom = 0;
      for (unsigned x = 0; x <= c.events; ++x) {
        const double lr = std::exp(windowLogRatio(x, c.events, rho, r, 1.0));
        if (x <= c.nc && x + c.ns >= c.events) meanHyper += boost::math::pdf(hyper, x) * lr;
        meanBinom += boost::math::pdf(binom, double(x)) * lr;
      }
      EXPECT_LE(meanHyper, 1.0 + 1e-9) << c.nc << "," << c.ns << "," << c.events << " r=" << r;
      EXPECT_NEAR(meanBinom, 1.0, 1e-9);
    }
  }
}

TEST(SplitTest, NonInferiorityGridSitsBelowTheMargin) {
  const RatioGrid ni = RatioGrid::nonInferiority(1.5, 0.5, 8);
  EXPECT_DOUBLE_EQ(ni.nullRatio, 1.5);
  for (double r : ni.ratios) EXPECT_LT(r, 1.5);
  EXPECT_NEAR(ni.ratios.back(), 0.5, 1e-12);
}

}  // namespace
}  // namespace ramp::analysis::judge
