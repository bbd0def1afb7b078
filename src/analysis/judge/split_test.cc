#include "analysis/judge/split_test.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace ramp::analysis::judge {

RatioGrid RatioGrid::regression(double minRatio, double maxRatio, int points) {
  assert(minRatio > 1.0 && maxRatio > minRatio && points >= 2);
  RatioGrid grid;
  grid.nullRatio = 1.0;
  const double step = std::log(maxRatio / minRatio) / (points - 1);
  for (int k = 0; k < points; ++k) {
    grid.ratios.push_back(minRatio * std::exp(step * k));
    grid.weights.push_back(1.0 / points);
  }
  return grid;
}

RatioGrid RatioGrid::nonInferiority(double margin, double lowRatio, int points) {
  assert(margin > lowRatio && lowRatio > 0 && points >= 1);
  RatioGrid grid;
  grid.nullRatio = margin;
  const double step = std::log(margin / lowRatio) / points;
  for (int k = 1; k <= points; ++k) {
    grid.ratios.push_back(margin * std::exp(-step * k));
    grid.weights.push_back(1.0 / points);
  }
  return grid;
}

double canaryEventShare(double ratio, double rho) {
  return ratio * rho / (ratio * rho + 1.0 - rho);
}

double windowLogRatio(double xc, double events, double rho, double ratio, double nullRatio) {
  // theta(r) / theta(r0) and (1 - theta(r)) / (1 - theta(r0)) written with logs of
  // 1 + rho (r - 1) so that small rho loses no precision.
  const double denom = std::log1p(rho * (ratio - 1.0));
  const double nullDenom = std::log1p(rho * (nullRatio - 1.0));
  const double a = std::log(ratio) - std::log(nullRatio) - denom + nullDenom;
  const double b = nullDenom - denom;
  return xc * a + (events - xc) * b;
}

void addWindow(const RatioGrid& grid, double nc, double xc, double ns, double xs,
               std::vector<double>& logLr) {
  if (logLr.size() != grid.ratios.size()) logLr.assign(grid.ratios.size(), 0.0);
  const double events = xc + xs;
  if (events <= 0 || nc <= 0 || ns <= 0) return;
  const double rho = nc / (nc + ns);
  for (size_t k = 0; k < grid.ratios.size(); ++k) {
    logLr[k] += windowLogRatio(xc, events, rho, grid.ratios[k], grid.nullRatio);
  }
}

double logSumExp(const std::vector<double>& v) {
  if (v.empty()) return -std::numeric_limits<double>::infinity();
  const double m = *std::max_element(v.begin(), v.end());
  if (std::isinf(m)) return m;
  double sum = 0;
  for (double x : v) sum += std::exp(x - m);
  return m + std::log(sum);
}

double logEValue(const RatioGrid& grid, const std::vector<double>& logLr) {
  if (logLr.empty()) return 0.0;
  std::vector<double> terms(logLr.size());
  for (size_t k = 0; k < logLr.size(); ++k) terms[k] = std::log(grid.weights[k]) + logLr[k];
  return logSumExp(terms);
}

}  // namespace ramp::analysis::judge
