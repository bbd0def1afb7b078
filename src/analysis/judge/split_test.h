#pragma once

// SplitTest: the anytime-valid test at the heart of ramp's canary judge.
//
// Each measurement window brings, for one kind of event (errors, or requests slower than a
// latency bound), the canary's and stable's request counts (nc, ns) and event counts (xc, xs).
// If canary and stable have the same per-request event probability within the window, then
// given the window's request counts and its total events E = xc + xs, the events are a uniformly
// random E-subset of the window's nc + ns requests, so xc is hypergeometric. The test scores each
// window with a binomial likelihood ratio on xc out of E at the window's own request split
// rho = nc / (nc + ns). That ratio is convex in xc, and by Hoeffding's comparison of sampling
// without and with replacement its hypergeometric mean is at most its binomial mean, 1: each
// window's factor is an e-value whatever the error rate is doing over time (outages that hit
// both versions, diurnal traffic, a canary weight that changes between windows).
//
// Alternatives are indexed by the rate ratio r = canary rate / stable rate, which moves the
// chance that an event is the canary's from rho to theta(r) = r*rho / (r*rho + 1 - rho). The
// test keeps, for each r on a fixed grid, the running log-likelihood ratio (a product over
// windows); the e-process is the weighted average over the grid (a discrete mixture, so no
// integral is approximated). Under the null its value is a nonnegative supermartingale and, by
// Ville's inequality, P(it ever reaches 1/alpha) <= alpha, however often it is looked at.
//
// The same machinery with the null at a ratio r0 = margin > 1 and alternatives below it tests
// non-inferiority (canary rate < margin x stable rate); that direction relies on the Poisson
// approximation (event probabilities small), not on the exact hypergeometric argument.
//
// Plain values; no I/O; not thread-safe (callers own their copies).

#include <cstdint>
#include <string>
#include <vector>

namespace ramp::analysis::judge {

// A discrete mixing distribution over rate ratios.
struct RatioGrid {
  double nullRatio = 1.0;       // r0: the boundary of the null hypothesis
  std::vector<double> ratios;   // alternatives (all > r0, or all < r0)
  std::vector<double> weights;  // positive, summing to 1

  // Alternatives r0 < r_min ... r_max, log-uniformly spaced, equal weights: power for every
  // regression from the smallest worth catching up to r_max.
  static RatioGrid regression(double minRatio, double maxRatio, int points);
  // Alternatives below the margin (null r0 = margin), log-uniform from margin*step down to
  // lowRatio: power for showing the canary is at most `margin` times worse.
  static RatioGrid nonInferiority(double margin, double lowRatio, int points);
};

// The canary's share of events when its rate is `ratio` times stable's and it gets `rho` of the
// requests.
double canaryEventShare(double ratio, double rho);

// Log-likelihood ratio of one window (xc canary events out of `events`, split rho) for the
// alternative `ratio` against the null ratio `nullRatio`.
double windowLogRatio(double xc, double events, double rho, double ratio, double nullRatio);

// Adds one window's log-likelihood ratios to `logLr` (one entry per grid point; resized on
// first use). Windows with no events or with one arm empty carry no information and change
// nothing.
void addWindow(const RatioGrid& grid, double nc, double xc, double ns, double xs,
               std::vector<double>& logLr);

// log of the mixture e-value sum_k w_k exp(logLr_k); 0 (e-value 1) when logLr is empty.
double logEValue(const RatioGrid& grid, const std::vector<double>& logLr);

// log(sum_i exp(v_i)) computed without overflow; -inf for an empty list.
double logSumExp(const std::vector<double>& v);

}  // namespace ramp::analysis::judge
