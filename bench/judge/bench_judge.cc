// bench_judge: ramp's sequential canary judge against the fixed-threshold rules of Argo
// Rollouts and Flagger, a Kayenta-style Mann-Whitney judge and an oracle SPRT, all fed the same
// simulated traffic in one run. A simulation, not a timing benchmark: it prints markdown tables
// of false-rollback rates, canary requests and seconds to roll back, misses and inconclusives.
//
//   bench_judge [--runs N] [--seed S] [--window SECONDS] [--quick]
//
// Traffic: Poisson arrivals per second at the cell's total rate, each request routed to the
// canary with the cell's share and failing with its arm's error rate. Seconds are aggregated
// into 15 s windows, or --window SECONDS (a sum of independent Poisson counts is Poisson, and
// binomial thinning of a Poisson count is Poisson, so this is the same distribution as
// second-by-second simulation). The judge and the oracle look once per window; the others
// aggregate whole minutes. Every contender sees exactly the same windows.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <boost/math/distributions/normal.hpp>

#include "analysis/judge/judge.h"
#include "analysis/judge/split_test.h"

namespace {

using namespace ramp;
using namespace ramp::analysis::judge;

// The window (and the judge's and the oracle's look interval), --window; 60 must be a multiple.
int kWindowSeconds = 15;
constexpr int kHorizonSeconds = 3600;
int windows() { return kHorizonSeconds / kWindowSeconds; }
int perMinute() { return 60 / kWindowSeconds; }
constexpr double kAlpha = 0.01;
constexpr double kLatencyBound = 0.25;  // seconds
constexpr double kLatencyMedian = 0.1, kLatencySigma = 0.5, kLatencyShift = 1.3;
const double kInf = std::numeric_limits<double>::infinity();

struct Cell {
  double share, rps, base, ratio;
  bool latency;  // a latency shift instead of an error-rate change
};

enum Outcome { kUndecided, kRolledBack, kPromoted, kInconclusive };

struct Decision {
  Outcome outcome = kUndecided;
  double canaryRequests = 0;
  int seconds = 0;
};

// Canary requests in each window (to price a decision at any time).
struct Window {
  int nc, ns, ec, es, sc, ss;  // requests, errors, slow requests per arm
};

// ---- contenders ------------------------------------------------------------------------------

// Argo Rollouts' success-rate template: every 60 s `result[0] >= 0.99` on the last minute's
// canary success rate (NaN with no requests: the condition is false, the measurement Failed);
// metric Failed once failed > failureLimit; Successful after `count` measurements.
Decision argo(const std::vector<Window>& w, const std::vector<double>& cum, int failureLimit) {
  int failed = 0;
  for (int m = 1; m <= 5; ++m) {
    const int end = m * perMinute();
    if (end > static_cast<int>(w.size())) break;
    double n = 0, e = 0;
    for (int i = end - perMinute(); i < end; ++i) n += w[i].nc, e += w[i].ec;
    const bool ok = n > 0 && (n - e) / n >= 0.99;
    if (!ok && ++failed > failureLimit) return {kRolledBack, cum[end], m * 60};
  }
  return {kPromoted, cum[std::min<size_t>(5 * perMinute(), w.size())], 300};
}

// Flagger: every 1m tick a request-success-rate check (min 99%) on the last minute; no data
// counts as a failed check; failed checks accumulate for the whole run and the rollback
// happens at the start of the tick after the threshold is reached; a failed tick does not
// advance; promotion after 10 successful iterations.
Decision flagger(const std::vector<Window>& w, const std::vector<double>& cum, int threshold) {
  int failedChecks = 0, iterations = 0;
  for (int tick = 1;; ++tick) {
    const int end = tick * perMinute(), start = end - perMinute();
    if (end > static_cast<int>(w.size())) return {kUndecided, cum.back(), kHorizonSeconds};
    if (failedChecks >= threshold) return {kRolledBack, cum[start], (tick - 1) * 60};
    if (iterations >= 10) return {kPromoted, cum[start], (tick - 1) * 60};
    double n = 0, e = 0;
    for (int i = start; i < end; ++i) n += w[i].nc, e += w[i].ec;
    if (n <= 0 || 100.0 * (n - e) / n < 99.0) {
      ++failedChecks;
    } else {
      ++iterations;
    }
  }
}

// Kayenta-style: per-minute error rates of each arm are the samples; every 5 minutes a
// Mann-Whitney test (normal approximation with tie and continuity corrections) at 98%
// confidence on everything so far; "High" (canary worse) fails the canary; after 30 minutes
// without High it passes.
bool mannWhitneyHigh(const std::vector<double>& canary, const std::vector<double>& stable,
                     double z98) {
  const size_t na = canary.size(), nb = stable.size(), n = na + nb;
  if (na == 0 || nb == 0) return false;  // Nodata: not a failure by default
  std::vector<std::pair<double, int>> all;
  for (double v : canary) all.push_back({v, 0});
  for (double v : stable) all.push_back({v, 1});
  std::sort(all.begin(), all.end());
  double rankSumA = 0, ties = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && all[j].first == all[i].first) ++j;
    const double t = j - i, rank = (i + 1 + j) / 2.0;
    for (size_t k = i; k < j; ++k) {
      if (all[k].second == 0) rankSumA += rank;
    }
    ties += t * t * t - t;
    i = j;
  }
  const double u = rankSumA - na * (na + 1) / 2.0, mean = na * nb / 2.0;
  const double var = na * nb / 12.0 * ((n + 1) - ties / (double(n) * (n - 1)));
  if (var <= 0) return false;
  return (u - mean - 0.5) / std::sqrt(var) > z98;
}

Decision kayenta(const std::vector<Window>& w, const std::vector<double>& cum, double z98) {
  std::vector<double> a, b;
  for (int minute = 1; minute <= 30; ++minute) {
    const int end = minute * perMinute();
    if (end > static_cast<int>(w.size())) break;
    double nc = 0, ec = 0, ns = 0, es = 0;
    for (int i = end - perMinute(); i < end; ++i) {
      nc += w[i].nc, ec += w[i].ec, ns += w[i].ns, es += w[i].es;
    }
    if (nc > 0) a.push_back(ec / nc);  // NaN minutes are removed
    if (ns > 0) b.push_back(es / ns);
    if (minute % 5 == 0 && mannWhitneyHigh(a, b, z98)) return {kRolledBack, cum[end], minute * 60};
  }
  return {kPromoted, cum[std::min<size_t>(30 * perMinute(), w.size())], 1800};
}

// ---- simulation ------------------------------------------------------------------------------

struct Tally {
  int runs = 0, rolledBack = 0, promoted = 0, inconclusive = 0, undecided = 0;
  std::vector<double> requests, seconds;  // at rollback
  std::vector<double> decisionSeconds;    // any verdict
  double sumRequestsToDecision = 0;       // censored at the horizon
  void add(const Decision& d) {
    ++runs;
    if (d.outcome != kUndecided) decisionSeconds.push_back(d.seconds);
    if (d.outcome == kRolledBack) {
      ++rolledBack;
      requests.push_back(d.canaryRequests);
      seconds.push_back(d.seconds);
    } else if (d.outcome == kPromoted) {
      ++promoted;
    } else if (d.outcome == kInconclusive) {
      ++inconclusive;
    } else {
      ++undecided;
    }
    sumRequestsToDecision += d.canaryRequests;
  }
  double rate(int n) const { return runs ? 100.0 * n / runs : 0; }
  static double quantile(std::vector<double> v, double q) {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
  }
};

enum Contender { kJudge, kOracle, kArgo, kArgoTight, kFlagger1, kFlagger5, kKayenta, kCount };
double upperTail(double x, double scale) {
  // P(latency > x) for a log-normal latency with median kLatencyMedian * scale.
  boost::math::normal_distribution<double> z;
  return boost::math::cdf(
      boost::math::complement(z, (std::log(x) - std::log(kLatencyMedian * scale)) / kLatencySigma));
}

JudgeConfig judgeConfig(double share) {
  JudgeConfig c;
  c.alpha = kAlpha;
  c.minRegression = 1.5;
  c.latency = LatencyConfig{kLatencyBound};
  c.canaryWeight = share;
  c.maxDuration = std::chrono::seconds(kHorizonSeconds);
  c.lookInterval = std::chrono::seconds(kWindowSeconds);
  return c;
}

void simulateCell(const Cell& cell, int runs, uint64_t seed, Tally (&t)[kCount]) {
  const double pc = std::min(1.0, cell.base * cell.ratio), ps = cell.base;
  const double qs = upperTail(kLatencyBound, 1.0);
  const double qc = cell.latency ? upperTail(kLatencyBound, kLatencyShift) : qs;
  const JudgeConfig config = judgeConfig(cell.share);
  const double z98 = boost::math::quantile(boost::math::normal_distribution<double>(), 0.99);
  // The oracle knows the true rates: an SPRT of "same rates" against the truth (or, on
  // healthy cells, against the judge's smallest regression), on the events that differ.
  const double oracleRatio =
      cell.latency ? qc / qs : (cell.ratio > 1 ? pc / ps : config.minRegression);
  const double lambda = cell.rps * kWindowSeconds;

  for (int run = 0; run < runs; ++run) {
    std::mt19937_64 rng(seed + run);
    std::vector<Window> w;
    std::vector<double> cum = {0};  // canary requests after i windows
    w.reserve(windows());
    JudgeState state;
    JudgeInput input;
    input.canary.buckets = {{kLatencyBound, 0}, {kInf, 0}};
    input.stable.buckets = input.canary.buckets;
    auto r = judgeLook(config, std::move(state), input, false);
    state = std::move(r->state);
    Decision judge, oracle;
    double oracleLog = 0;
    for (int i = 0; i < windows(); ++i) {
      const int total = std::poisson_distribution<int>(lambda)(rng);
      Window win;
      win.nc = std::binomial_distribution<int>(total, cell.share)(rng);
      win.ns = total - win.nc;
      win.ec = std::binomial_distribution<int>(win.nc, pc)(rng);
      win.es = std::binomial_distribution<int>(win.ns, ps)(rng);
      win.sc = std::binomial_distribution<int>(win.nc, qc)(rng);
      win.ss = std::binomial_distribution<int>(win.ns, qs)(rng);
      w.push_back(win);
      cum.push_back(cum.back() + win.nc);
      const int now = (i + 1) * kWindowSeconds;

      if (judge.outcome == kUndecided) {
        input.time = Time(std::chrono::seconds(now));
        input.canary.requests += win.nc;
        input.canary.errors += win.ec;
        input.canary.buckets[0].count += win.nc - win.sc;
        input.canary.buckets[1].count += win.nc;
        input.stable.requests += win.ns;
        input.stable.errors += win.es;
        input.stable.buckets[0].count += win.ns - win.ss;
        input.stable.buckets[1].count += win.ns;
        auto v = judgeLook(config, std::move(state), input, false);
        if (!v) {
          std::fprintf(stderr, "judge error: %s\n", v.error().message.c_str());
          std::exit(1);
        }
        state = std::move(v->state);
        if (v->phase != Phase::kRunning) {
          judge = {v->phase == Phase::kFailed       ? kRolledBack
                   : v->phase == Phase::kSuccessful ? kPromoted
                                                    : kInconclusive,
                   cum.back(), now};
        }
      }
      if (oracle.outcome == kUndecided) {
        const double xc = cell.latency ? win.sc : win.ec, xs = cell.latency ? win.ss : win.es;
        if (win.nc > 0 && win.ns > 0 && xc + xs > 0) {
          oracleLog += windowLogRatio(xc, xc + xs, double(win.nc) / total, oracleRatio, 1.0);
        }
        if (oracleLog >= std::log(1 / kAlpha)) oracle = {kRolledBack, cum.back(), now};
      }
      // Everyone else has decided by 30 minutes; stop when the judge and oracle have too.
      if (judge.outcome != kUndecided && oracle.outcome != kUndecided && now >= 1800) break;
    }
    if (oracle.outcome == kUndecided) oracle = {kUndecided, cum.back(), kHorizonSeconds};
    t[kJudge].add(judge);
    t[kOracle].add(oracle);
    t[kArgo].add(argo(w, cum, 2));
    t[kArgoTight].add(argo(w, cum, 0));
    t[kFlagger1].add(flagger(w, cum, 1));
    t[kFlagger5].add(flagger(w, cum, 5));
    t[kKayenta].add(kayenta(w, cum, z98));
  }
}

std::string num(double v) {
  if (std::isnan(v)) return "–";
  char buf[32];
  if (v >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.2gM", v / 1e6);
  } else if (v >= 1e4) {
    std::snprintf(buf, sizeof buf, "%.0fk", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  }
  return buf;
}

std::string pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 10 && v > 0 ? "%.1f" : "%.0f", v);
  return buf;
}

std::string effect(const Cell& c) {
  if (c.latency) return "latency ×1.3";
  char buf[32];
  std::snprintf(buf, sizeof buf, "errors ×%g", c.ratio);
  return buf;
}

std::string cellName(const Cell& c) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "| %g%% | %g | %g%% |", c.share * 100, c.rps, c.base * 100);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 1000;
  uint64_t seed = 20261122;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) {
      quick = true;
      runs = 40;
    } else if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--window") && i + 1 < argc) {
      kWindowSeconds = std::atoi(argv[++i]);
      if (kWindowSeconds <= 0 || 60 % kWindowSeconds != 0) {
        std::fprintf(stderr, "bench_judge: --window must divide 60 (seconds)\n");
        return 2;
      }
    } else {
      std::fprintf(stderr,
                   "usage: bench_judge [--runs N] [--seed S] [--window SECONDS] [--quick]\n");
      return 2;
    }
  }
  std::vector<Cell> cells;
  for (double share : {0.05, 0.2, 0.5}) {
    for (double rps : {1.0, 10.0, 100.0, 1000.0}) {
      for (double base : {0.001, 0.01}) {
        for (double ratio : {1.0, 1.5, 2.0, 5.0, 10.0})
          cells.push_back({share, rps, base, ratio, false});
        cells.push_back({share, rps, base, 1.0, true});
      }
    }
  }
  if (quick) {
    std::vector<Cell> some;
    for (const Cell& c : cells) {
      if (c.share == 0.2 && (c.rps == 10 || c.rps == 100)) some.push_back(c);
    }
    cells = some;
  }

  std::printf(
      "bench_judge: %d runs per cell, seed %llu, alpha %g, windows of %d s, horizon %d s\n\n", runs,
      static_cast<unsigned long long>(seed), kAlpha, kWindowSeconds, kHorizonSeconds);
  std::vector<std::pair<Cell, std::vector<Tally>>> results;
  for (size_t i = 0; i < cells.size(); ++i) {
    Tally t[kCount];
    simulateCell(cells[i], runs, seed + 1000003ULL * i, t);
    results.push_back({cells[i], std::vector<Tally>(t, t + kCount)});
  }

  // Healthy canaries.
  std::printf("### Healthy canary (error ratio 1, same latency): false-rollback rate, %%\n\n");
  std::printf(
      "| share | rps | base err | ramp judge | oracle | Argo limit 2 | Argo limit 0 | Flagger t=1 "
      "| Flagger t=5 | Kayenta MW | judge promoted %% | judge inconclusive %% | judge median s "
      "|\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  double worstJudge = 0;
  for (const auto& [c, t] : results) {
    if (c.ratio != 1.0 || c.latency) continue;
    worstJudge = std::max(worstJudge, t[kJudge].rate(t[kJudge].rolledBack));
    std::printf("%s", cellName(c).c_str());
    for (int k = 0; k < kCount; ++k) std::printf(" %s |", pct(t[k].rate(t[k].rolledBack)).c_str());
    std::printf(" %s | %s | %s |\n", pct(t[kJudge].rate(t[kJudge].promoted)).c_str(),
                pct(t[kJudge].rate(t[kJudge].inconclusive)).c_str(),
                num(Tally::quantile(t[kJudge].decisionSeconds, 0.5)).c_str());
  }

  std::printf("\n### Regressions: rolled back %% · median canary requests to roll back\n\n");
  std::printf(
      "| share | rps | base err | effect | judge rolled back %% | judge req median / p95 | "
      "judge s median / p95 | judge missed %% | judge inconcl. %% | oracle req median | "
      "judge/oracle mean req | Argo limit 2 | Argo limit 0 | Flagger t=1 | Flagger t=5 | "
      "Kayenta MW |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  double worstOracleRatio = 0;
  std::vector<double> fiveX;  // judge median / Argo median, 5x error cells both detect >= 50%
  for (const auto& [c, t] : results) {
    if (c.ratio == 1.0 && !c.latency) continue;
    const Tally& j = t[kJudge];
    const Tally& o = t[kOracle];
    const double ratio =
        o.sumRequestsToDecision > 0 ? j.sumRequestsToDecision / o.sumRequestsToDecision : NAN;
    if (j.rate(j.rolledBack) >= 90 && o.rate(o.rolledBack) >= 90) {
      worstOracleRatio = std::max(worstOracleRatio, ratio);
    }
    std::printf("%s %s | %s | %s / %s | %s / %s | %s | %s | %s | %.2f |", cellName(c).c_str(),
                effect(c).c_str(), pct(j.rate(j.rolledBack)).c_str(),
                num(Tally::quantile(j.requests, 0.5)).c_str(),
                num(Tally::quantile(j.requests, 0.95)).c_str(),
                num(Tally::quantile(j.seconds, 0.5)).c_str(),
                num(Tally::quantile(j.seconds, 0.95)).c_str(), pct(j.rate(j.promoted)).c_str(),
                pct(j.rate(j.inconclusive)).c_str(), num(Tally::quantile(o.requests, 0.5)).c_str(),
                ratio);
    for (int k : {kArgo, kArgoTight, kFlagger1, kFlagger5, kKayenta}) {
      std::printf(" %s · %s |", pct(t[k].rate(t[k].rolledBack)).c_str(),
                  num(Tally::quantile(t[k].requests, 0.5)).c_str());
    }
    std::printf("\n");
    if (!c.latency && c.ratio == 5.0 && j.rate(j.rolledBack) >= 50 &&
        t[kArgo].rate(t[kArgo].rolledBack) >= 50) {
      fiveX.push_back(Tally::quantile(j.requests, 0.5) / Tally::quantile(t[kArgo].requests, 0.5));
    }
  }
  std::printf(
      "\nSummary: worst judge false-rollback over healthy cells %.2f%% (alpha %.0f%%); "
      "worst judge/oracle mean canary requests %.2f (cells where both roll back >= 90%%); ",
      worstJudge, kAlpha * 100, worstOracleRatio);
  if (fiveX.empty()) {
    std::printf("5x regression: no cell where both judge and Argo (limit 2) roll back >= 50%%.\n");
  } else {
    std::printf(
        "5x regression: judge median canary requests / Argo (limit 2)'s = %.2f .. %.2f "
        "over %zu cells where both roll back >= 50%%.\n",
        *std::min_element(fiveX.begin(), fiveX.end()),
        *std::max_element(fiveX.begin(), fiveX.end()), fiveX.size());
  }
  return 0;
}
