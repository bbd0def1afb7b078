#include "analysis/judge/judge.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "analysis/judge/split_test.h"

namespace ramp::analysis::judge {

namespace {

constexpr int kRegressionPoints = 16;
constexpr double kMaxRatio = 100;
constexpr int kNonInferiorityPoints = 8;
constexpr double kNonInferiorityLow = 0.5;
constexpr double kInf = std::numeric_limits<double>::infinity();

struct Grids {
  RatioGrid errorUp, errorNi, latencyUp, latencyNi;
};

double effectiveMargin(double margin, double minRegression) {
  return margin > 0 ? margin : minRegression;
}

// The grids depend only on four numbers of the config; the last ones built are kept per
// thread, since a daemon (or the benchmark) judges many looks with the same config.
const Grids& gridsFor(const JudgeConfig& config) {
  struct Cache {
    double key[4] = {-1, -1, -1, -1};
    Grids grids;
  };
  thread_local Cache cache;
  const double key[4] = {config.minRegression, config.margin,
                         config.latency ? config.latency->minRegression : 0,
                         config.latency ? config.latency->margin : 0};
  if (std::equal(key, key + 4, cache.key) &&
      cache.grids.latencyUp.ratios.empty() == !config.latency) {
    return cache.grids;
  }
  std::copy(key, key + 4, cache.key);
  Grids& g = cache.grids;
  g = Grids{};
  g.errorUp = RatioGrid::regression(
      config.minRegression, std::max(kMaxRatio, 2 * config.minRegression), kRegressionPoints);
  g.errorNi = RatioGrid::nonInferiority(effectiveMargin(config.margin, config.minRegression),
                                        kNonInferiorityLow, kNonInferiorityPoints);
  if (config.latency) {
    const LatencyConfig& l = *config.latency;
    g.latencyUp = RatioGrid::regression(l.minRegression, std::max(kMaxRatio, 2 * l.minRegression),
                                        kRegressionPoints);
    g.latencyNi = RatioGrid::nonInferiority(effectiveMargin(l.margin, l.minRegression),
                                            kNonInferiorityLow, kNonInferiorityPoints);
  }
  return g;
}

// The sample-ratio check's alternatives: canary shares outside the tolerated band around the
// configured weight, each scored against the nearest edge of the band (so every alternative's
// likelihood ratio has mean <= 1 for any share inside the band).
struct SrmAlternative {
  double share;
  double edge;
};

std::vector<SrmAlternative> srmAlternatives(double weight, double tolerance) {
  const double halfWidth = tolerance * std::min(weight, 1.0 - weight);
  const double hi = weight + halfWidth;
  const double lo = weight - halfWidth;
  std::vector<SrmAlternative> alts;
  if (hi < 0.999) {
    for (double u : {0.05, 0.15, 0.3, 0.5, 0.75, 0.95}) alts.push_back({hi + (1 - hi) * u, hi});
  }
  if (lo > 0.001) {
    for (double u : {0.8, 0.6, 0.4, 0.2, 0.05, 0.005}) alts.push_back({lo * u, lo});
  }
  return alts;
}

void addSrmWindow(double weight, double tolerance, double nc, double ns, std::vector<double>& lr) {
  const auto alts = srmAlternatives(weight, tolerance);
  if (lr.size() != alts.size()) lr.assign(alts.size(), 0.0);
  for (size_t k = 0; k < alts.size(); ++k) {
    const auto& a = alts[k];
    lr[k] += nc * std::log(a.share / a.edge) + ns * std::log((1 - a.share) / (1 - a.edge));
  }
}

double srmLogEValue(const std::vector<double>& lr) {
  if (lr.empty()) return 0.0;
  return logSumExp(lr) - std::log(static_cast<double>(lr.size()));
}

// ---- formatting ----------------------------------------------------------------------------

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string count(double v) { return fmt("%.0f", v); }

std::string percent(double part, double whole) {
  if (whole <= 0) return "n/a";
  const double p = 100.0 * part / whole;
  return fmt(p < 0.1 && p > 0 ? "%.3f%%" : (p < 10 ? "%.2f%%" : "%.1f%%"), p);
}

std::string evalue(double logE) {
  if (logE > 700) return fmt("e^%.0f", logE);
  const double e = std::exp(logE);
  if (e >= 1e5 || (e < 0.01 && e > 0)) return fmt("%.2e", e);
  return fmt(e >= 100 ? "%.0f" : "%.3g", e);
}

std::string duration(Duration d) {
  const int64_t s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  char buf[48];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm%02llds", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  }
  return buf;
}

std::string boundName(double le) { return fmt("%g", le) + "s"; }

// ---- input handling ------------------------------------------------------------------------

Status checkArm(const ArmCounts& arm, const char* name, bool needBuckets) {
  auto bad = [&](const std::string& what) {
    return makeError(ErrorCode::kInvalidArgument, std::string("judge input: ") + name + " " + what);
  };
  if (!std::isfinite(arm.requests) || arm.requests < 0) return bad("requests is negative or NaN");
  if (!std::isfinite(arm.errors) || arm.errors < 0) return bad("errors is negative or NaN");
  if (!needBuckets) return {};
  if (arm.buckets.empty()) return bad("latency histogram has no buckets");
  for (size_t i = 0; i < arm.buckets.size(); ++i) {
    const Bucket& b = arm.buckets[i];
    if (std::isnan(b.le) || !std::isfinite(b.count) || b.count < 0) {
      return bad("latency bucket " + std::to_string(i) + " is negative or NaN");
    }
    if (i > 0 && !(b.le > arm.buckets[i - 1].le))
      return bad("latency buckets are not sorted by le");
  }
  if (!std::isinf(arm.buckets.back().le))
    return bad("latency histogram lacks the le=\"+Inf\" bucket");
  return {};
}

std::vector<double> boundsOf(const ArmCounts& arm) {
  std::vector<double> bounds;
  for (const Bucket& b : arm.buckets) bounds.push_back(b.le);
  return bounds;
}

double bucketCount(const ArmCounts& arm, double le) {
  for (const Bucket& b : arm.buckets) {
    if (b.le == le) return b.count;
  }
  return 0;
}

// Increment of a cumulative counter since the last look. A counter that went down was reset
// (a process restarted): as Prometheus' increase() does, count its whole current value.
double increment(double now, double before, bool& reset) {
  if (now < before) {
    reset = true;
    return std::round(now);
  }
  return std::round(now - before);
}

void addSplit(const RatioGrid& up, const RatioGrid& ni, double nc, double xc, double ns, double xs,
              SplitStats& stats) {
  stats.canaryRequests += nc;
  stats.canaryEvents += xc;
  stats.stableRequests += ns;
  stats.stableEvents += xs;
  addWindow(up, nc, xc, ns, xs, stats.regression);
  addWindow(ni, nc, xc, ns, xs, stats.nonInferiority);
}

// The e-value the judge would hold had the canary's events come at `ratio` x stable's observed
// rate over the same requests: "could this much traffic have caught such a regression?"
double hypotheticalLogE(const RatioGrid& up, const SplitStats& s, double ratio) {
  const double nc = s.canaryRequests, ns = s.stableRequests;
  if (nc <= 0 || ns <= 0 || s.stableEvents <= 0) return 0.0;
  const double xc = std::min(nc, ratio * nc * s.stableEvents / ns);
  std::vector<double> lr;
  addWindow(up, nc, xc, ns, s.stableEvents, lr);
  return logEValue(up, lr);
}

std::string describeSplit(const std::string& what, const SplitStats& s) {
  return what + ": canary " + count(s.canaryEvents) + " of " + count(s.canaryRequests) + " (" +
         percent(s.canaryEvents, s.canaryRequests) + ") vs stable " + count(s.stableEvents) +
         " of " + count(s.stableRequests) + " (" + percent(s.stableEvents, s.stableRequests) + ")";
}

// The input's two arms against the config: each well formed, with the same latency buckets.
Status checkInput(const JudgeConfig& config, const JudgeInput& input) {
  const bool wantLatency = config.latency.has_value();
  if (auto st = checkArm(input.canary, "canary", wantLatency); !st)
    return std::unexpected(st.error());
  if (auto st = checkArm(input.stable, "stable", wantLatency); !st)
    return std::unexpected(st.error());
  if (wantLatency && boundsOf(input.canary) != boundsOf(input.stable)) {
    return makeError(ErrorCode::kInvalidArgument,
                     "judge input: canary and stable latency histograms have different buckets");
  }
  return {};
}

// Whether a state restored from metadata fits the config's grids (a template edited mid-run, or
// corrupted metadata, would otherwise mix incompatible statistics).
bool stateFits(const JudgeState& s, const Grids& grids, bool wantLatency) {
  auto fits = [](const SplitStats& st, const RatioGrid& up, const RatioGrid& ni) {
    return (st.regression.empty() || st.regression.size() == up.ratios.size()) &&
           (st.nonInferiority.empty() || st.nonInferiority.size() == ni.ratios.size());
  };
  bool fit = fits(s.errors, grids.errorUp, grids.errorNi) &&
             s.latency.size() == s.latencyBounds.size() && (wantLatency || s.latency.empty());
  for (const auto& l : s.latency) fit = fit && fits(l, grids.latencyUp, grids.latencyNi);
  return fit;
}

// Adds this look to `s`: the first one records the baseline (and the latency bounds to judge),
// later ones the window since the previous look. Returns notes for the explanation; an Error when
// the input cannot be judged against the state (a threshold that is no bucket bound, buckets that
// changed during the run).
Result<std::string> recordLook(const JudgeConfig& config, const Grids& grids,
                               const JudgeInput& input, JudgeState& s) {
  const bool wantLatency = config.latency.has_value();
  std::string notes;
  if (s.looks == 0) {
    s.start = input.time;
    if (wantLatency) {
      if (config.latency->thresholdSeconds) {
        const double t = *config.latency->thresholdSeconds;
        const auto bounds = boundsOf(input.canary);
        if (std::find(bounds.begin(), bounds.end(), t) == bounds.end()) {
          std::string have;
          for (double b : bounds) {
            if (std::isfinite(b)) have += (have.empty() ? "" : ", ") + fmt("%g", b);
          }
          return makeError(ErrorCode::kInvalidArgument,
                           "judge input: latency.thresholdSeconds " + fmt("%g", t) +
                               " is not a bucket bound of the histogram (have " + have + ")");
        }
        s.latencyBounds = {t};
      } else {
        for (double b : boundsOf(input.canary)) {
          if (std::isfinite(b)) s.latencyBounds.push_back(b);
        }
      }
      s.latency.assign(s.latencyBounds.size(), SplitStats{});
    }
    notes = "baseline recorded (canary " + count(input.canary.requests) + " requests, stable " +
            count(input.stable.requests) + "); counting starts now. ";
  } else {
    bool reset = false;
    const double nc = increment(input.canary.requests, s.lastCanary.requests, reset);
    const double xc = increment(input.canary.errors, s.lastCanary.errors, reset);
    const double ns = increment(input.stable.requests, s.lastStable.requests, reset);
    const double xs = increment(input.stable.errors, s.lastStable.errors, reset);
    bool consistent = xc <= nc && xs <= ns;

    struct LatencyWindow {
      double nc, xc, ns, xs;
    };
    std::vector<LatencyWindow> lat;
    if (wantLatency) {
      if (boundsOf(input.canary) != boundsOf(s.lastCanary)) {
        return makeError(ErrorCode::kInvalidArgument,
                         "judge input: latency histogram buckets changed during the run");
      }
      const double lnc =
          increment(input.canary.buckets.back().count, s.lastCanary.buckets.back().count, reset);
      const double lns =
          increment(input.stable.buckets.back().count, s.lastStable.buckets.back().count, reset);
      for (double b : s.latencyBounds) {
        const double fastC =
            increment(bucketCount(input.canary, b), bucketCount(s.lastCanary, b), reset);
        const double fastS =
            increment(bucketCount(input.stable, b), bucketCount(s.lastStable, b), reset);
        LatencyWindow w{lnc, lnc - fastC, lns, lns - fastS};
        if (w.xc < 0 || w.xs < 0) consistent = false;
        lat.push_back(w);
      }
    }
    if (reset) {
      ++s.resets;
      notes += "counter reset seen (a process restarted); counted from zero. ";
    }
    if (!consistent) {
      // Errors above requests (or slow above all) in one window: the counters were scraped at
      // different instants. The window is dropped rather than guessed at.
      ++s.skippedWindows;
      notes += "window dropped: events exceed requests (counters scraped apart). ";
    } else {
      addSplit(grids.errorUp, grids.errorNi, nc, xc, ns, xs, s.errors);
      for (size_t i = 0; i < lat.size(); ++i) {
        addSplit(grids.latencyUp, grids.latencyNi, lat[i].nc, lat[i].xc, lat[i].ns, lat[i].xs,
                 s.latency[i]);
      }
      if (config.canaryWeight && nc + ns > 0) {
        addSrmWindow(*config.canaryWeight, config.srmTolerance, nc, ns, s.srm);
      }
    }
  }
  return notes;
}

// What the evidence step leaves for the decision and the explanation.
struct Evidence {
  double logPromote = 0;  // log(1 / promotionAlpha)
  size_t strongest = 0;   // the metric with the most evidence of regression
  double k = 0;           // how many metrics are combined
  std::string combinedName;
  std::string thresholdText;
};

// Each metric's e-values and their combination into verdict.logEvidence and logThreshold.
Evidence gatherEvidence(const JudgeConfig& config, const Grids& grids, JudgeVerdict& verdict) {
  const JudgeState& s = verdict.state;
  const bool wantLatency = config.latency.has_value();
  const double logPromote = std::log(1.0 / config.promotionAlpha);
  MetricEvidence err{"errors", logEValue(grids.errorUp, s.errors.regression),
                     logEValue(grids.errorNi, s.errors.nonInferiority), true};
  verdict.metrics.push_back(err);
  if (wantLatency) {
    MetricEvidence m;
    m.name = s.latencyBounds.size() == 1 ? "latency>" + boundName(s.latencyBounds[0])
                                         : "latency (all buckets)";
    std::vector<double> logs;
    for (const auto& l : s.latency) logs.push_back(logEValue(grids.latencyUp, l.regression));
    m.logRegression = logs.empty() ? 0.0 : logSumExp(logs) - std::log(double(logs.size()));
    if (s.latency.size() == 1) {
      m.hasNonInferiority = true;
      m.logNonInferiority = logEValue(grids.latencyNi, s.latency[0].nonInferiority);
    }
    verdict.metrics.push_back(m);
  }
  if (config.canaryWeight) {
    verdict.metrics.push_back({"sample-ratio", srmLogEValue(s.srm), 0, false});
  }
  const double k = static_cast<double>(verdict.metrics.size());
  std::vector<double> logs;
  for (const auto& m : verdict.metrics) logs.push_back(m.logRegression);
  size_t strongest = std::max_element(logs.begin(), logs.end()) - logs.begin();
  if (config.combine == Combine::kAverage) {
    verdict.logEvidence = logSumExp(logs) - std::log(k);
    verdict.logThreshold = std::log(1.0 / config.alpha);
  } else {
    verdict.logEvidence = logs[strongest];
    verdict.logThreshold = std::log(k / config.alpha);
  }
  const std::string combinedName =
      k == 1 ? "evidence"
             : (config.combine == Combine::kAverage
                    ? "combined evidence (average of " + count(k) + " e-values)"
                    : "strongest evidence (Bonferroni over " + count(k) + ")");
  const std::string thresholdText =
      evalue(verdict.logThreshold) +
      (config.combine == Combine::kAverage || k == 1 ? " = 1/α" : " = " + count(k) + "/α");
  return Evidence{logPromote, strongest, k, combinedName, thresholdText};
}

// Sets verdict.phase from the evidence, the non-inferiority e-values and the run's limits;
// returns the decision's sentence.
std::string decide(const JudgeConfig& config, const Grids& grids, const Evidence& e,
                   Duration elapsed, JudgeVerdict& verdict) {
  const JudgeState& s = verdict.state;
  const bool wantLatency = config.latency.has_value();
  const double logPromote = e.logPromote;
  const double k = e.k;
  const size_t strongest = e.strongest;
  const std::string& combinedName = e.combinedName;
  const std::string& thresholdText = e.thresholdText;
  bool allNonInferior = true;
  for (const auto& m : verdict.metrics) {
    if (m.name == "sample-ratio") continue;
    if (!m.hasNonInferiority || m.logNonInferiority < logPromote) allNonInferior = false;
  }
  std::string decision;
  const bool failed = s.looks > 1 && verdict.logEvidence >= verdict.logThreshold;
  if (failed) {
    verdict.phase = Phase::kFailed;
    decision = "Failed: " + combinedName + " " + evalue(verdict.logEvidence) + " ≥ " +
               thresholdText + " (strongest: " + verdict.metrics[strongest].name + ")";
  } else if (s.looks > 1 && allNonInferior) {
    verdict.phase = Phase::kSuccessful;
    decision = "Successful: canary shown no worse than the margin on every metric (each ≥ " +
               evalue(logPromote) + " = 1/promotionAlpha); regression " + combinedName + " " +
               evalue(verdict.logEvidence) + " < " + thresholdText;
  } else if (config.maxCanaryRequests && s.errors.canaryRequests >= *config.maxCanaryRequests) {
    verdict.phase = Phase::kSuccessful;
    decision = "Successful: canary served " + count(s.errors.canaryRequests) +
               " requests (maxCanaryRequests " + count(*config.maxCanaryRequests) +
               ") without evidence of regression (" + evalue(verdict.logEvidence) + " < " +
               thresholdText + ")";
  } else if (elapsed >= config.maxDuration) {
    // Could this much traffic have caught a gross regression? Each metric must have had power.
    const double need = std::log(k / config.alpha);
    bool powered = true;
    std::string power;
    auto check = [&](const std::string& name, const RatioGrid& up, const SplitStats& st) {
      const double h = hypotheticalLogE(up, st, config.mustDetect);
      if (h < need) powered = false;
      power += "; " + name + ": had the canary's rate been " + fmt("%g", config.mustDetect) +
               "× stable's, evidence would have been " + evalue(h) + (h >= need ? " ≥ " : " < ") +
               evalue(need);
    };
    check("errors", grids.errorUp, s.errors);
    if (wantLatency) {
      double best = -kInf;
      size_t bi = 0;
      for (size_t i = 0; i < s.latency.size(); ++i) {
        const double h = hypotheticalLogE(grids.latencyUp, s.latency[i], config.mustDetect);
        if (h > best) best = h, bi = i;
      }
      if (!s.latency.empty())
        check("latency>" + boundName(s.latencyBounds[bi]), grids.latencyUp, s.latency[bi]);
    }
    verdict.phase = powered ? Phase::kSuccessful : Phase::kInconclusive;
    decision = std::string(powered ? "Successful" : "Inconclusive") + ": maxDuration " +
               duration(config.maxDuration) + " reached without evidence of regression (" +
               evalue(verdict.logEvidence) + " < " + thresholdText + ")" +
               (powered ? "" : " and with too little traffic to say more") + power;
  } else {
    verdict.phase = Phase::kRunning;
    decision =
        "Running: " + combinedName + " " + evalue(verdict.logEvidence) + " < " + thresholdText;
  }
  return decision;
}

// The look's explanation: what was counted, each metric's evidence, then the decision.
std::string explain(const JudgeConfig& config, const Grids& grids, const JudgeVerdict& verdict,
                    Duration elapsed, const std::string& notes, const std::string& decision) {
  const JudgeState& s = verdict.state;
  const bool wantLatency = config.latency.has_value();
  const MetricEvidence& err = verdict.metrics.front();
  std::string text = "look " + std::to_string(s.looks) + " at " + duration(elapsed) + ": " + notes;
  const double share =
      s.errors.canaryRequests + s.errors.stableRequests > 0
          ? s.errors.canaryRequests / (s.errors.canaryRequests + s.errors.stableRequests)
          : 0;
  text += describeSplit("errors", s.errors) + " at " + percent(share, 1) +
          " canary traffic; evidence " + evalue(err.logRegression) + "; non-inferiority (rate < " +
          fmt("%g", effectiveMargin(config.margin, config.minRegression)) + "× stable's) " +
          evalue(err.logNonInferiority) + ". ";
  if (wantLatency) {
    for (size_t i = 0; i < s.latency.size() && i < 3; ++i) {
      text += describeSplit("slower than " + boundName(s.latencyBounds[i]), s.latency[i]) +
              "; evidence " + evalue(logEValue(grids.latencyUp, s.latency[i].regression)) + ". ";
    }
    if (s.latency.size() > 3) {
      text += "(" + std::to_string(s.latency.size() - 3) + " more latency bounds) ";
    }
    if (s.latency.size() > 1) {
      text += "latency evidence (average over bounds) " + evalue(verdict.metrics[1].logRegression) +
              ". ";
    }
  }
  if (config.canaryWeight) {
    text += "sample ratio: canary got " + percent(share, 1) + " of requests, expected " +
            percent(*config.canaryWeight, 1) + "; evidence of mismatch " +
            evalue(verdict.metrics.back().logRegression) + ". ";
  }
  return text + "→ " + decision;
}

}  // namespace

const char* phaseName(Phase phase) {
  switch (phase) {
    case Phase::kRunning: return "Running";
    case Phase::kSuccessful: return "Successful";
    case Phase::kFailed: return "Failed";
    case Phase::kInconclusive: return "Inconclusive";
  }
  return "";
}

Result<JudgeVerdict> judgeLook(const JudgeConfig& config, JudgeState previous,
                               const JudgeInput& input, bool explainRunning) {
  if (auto st = checkInput(config, input); !st) return std::unexpected(st.error());
  const Grids& grids = gridsFor(config);
  JudgeVerdict verdict;
  JudgeState& s = verdict.state;
  s = std::move(previous);
  if (!stateFits(s, grids, config.latency.has_value())) {
    return makeError(ErrorCode::kInvalidArgument,
                     "judge state does not fit the judge's config (was the template changed "
                     "during the run?)");
  }
  auto notes = recordLook(config, grids, input, s);
  if (!notes) return std::unexpected(notes.error());
  ++s.looks;
  s.last = input.time;
  s.lastCanary = input.canary;
  s.lastStable = input.stable;

  const Evidence evidence = gatherEvidence(config, grids, verdict);
  const Duration elapsed = input.time - s.start;
  const std::string decision = decide(config, grids, evidence, elapsed, verdict);
  verdict.displayValue = "evidence " + evalue(verdict.logEvidence) + " (threshold " +
                         evalue(verdict.logThreshold) + ")";
  if (verdict.phase == Phase::kRunning && !explainRunning) return verdict;
  verdict.explanation = explain(config, grids, verdict, elapsed, *notes, decision);
  return verdict;
}

// ---- state serialisation -------------------------------------------------------------------

namespace {

std::string num(double v) { return fmt("%.17g", v); }

std::string joinNums(const std::vector<double>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + num(v[i]);
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return out;
}

bool parseNum(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && !std::isnan(out);
}

bool parseNums(const std::string& s, std::vector<double>& out) {
  out.clear();
  for (const auto& part : split(s, ',')) {
    double v;
    if (!parseNum(part, v)) return false;
    out.push_back(v);
  }
  return true;
}

// "requests,errors;le:count,le:count"
std::string armToString(const ArmCounts& a) {
  std::string out = num(a.requests) + "," + num(a.errors) + ";";
  for (size_t i = 0; i < a.buckets.size(); ++i) {
    out += (i ? "," : "") + num(a.buckets[i].le) + ":" + num(a.buckets[i].count);
  }
  return out;
}

bool armFromString(const std::string& s, ArmCounts& a) {
  const auto parts = split(s, ';');
  if (parts.size() != 2) return false;
  std::vector<double> head;
  if (!parseNums(parts[0], head) || head.size() != 2) return false;
  a.requests = head[0];
  a.errors = head[1];
  a.buckets.clear();
  for (const auto& b : split(parts[1], ',')) {
    const auto kv = split(b, ':');
    Bucket bucket;
    if (kv.size() != 2 || !parseNum(kv[0], bucket.le) || !parseNum(kv[1], bucket.count)) {
      return false;
    }
    a.buckets.push_back(bucket);
  }
  return true;
}

// "canaryRequests,canaryEvents,stableRequests,stableEvents|regression...|nonInferiority..."
std::string splitToString(const SplitStats& s) {
  return joinNums({s.canaryRequests, s.canaryEvents, s.stableRequests, s.stableEvents}) + "|" +
         joinNums(s.regression) + "|" + joinNums(s.nonInferiority);
}

bool splitFromString(const std::string& text, SplitStats& s) {
  const auto parts = split(text, '|');
  std::vector<double> head;
  if (parts.size() != 3 || !parseNums(parts[0], head) || head.size() != 4) return false;
  s.canaryRequests = head[0];
  s.canaryEvents = head[1];
  s.stableRequests = head[2];
  s.stableEvents = head[3];
  return parseNums(parts[1], s.regression) && parseNums(parts[2], s.nonInferiority);
}

}  // namespace

std::map<std::string, std::string> JudgeState::toMap() const {
  std::map<std::string, std::string> m;
  m["judge.version"] = "1";
  m["judge.looks"] = std::to_string(looks);
  m["judge.start"] = std::to_string(start.time_since_epoch().count());
  m["judge.last"] = std::to_string(last.time_since_epoch().count());
  m["judge.lastCanary"] = armToString(lastCanary);
  m["judge.lastStable"] = armToString(lastStable);
  m["judge.errors"] = splitToString(errors);
  m["judge.latencyBounds"] = joinNums(latencyBounds);
  for (size_t i = 0; i < latency.size(); ++i) {
    m["judge.latency." + std::to_string(i)] = splitToString(latency[i]);
  }
  m["judge.srm"] = joinNums(srm);
  m["judge.counters"] = std::to_string(resets) + "," + std::to_string(skippedWindows) + "," +
                        std::to_string(fetchErrors);
  return m;
}

Result<JudgeState> JudgeState::fromMap(const std::map<std::string, std::string>& m) {
  auto get = [&](const std::string& key) -> const std::string* {
    auto it = m.find(key);
    return it == m.end() ? nullptr : &it->second;
  };
  auto bad = [](const std::string& key) {
    return makeError(ErrorCode::kInvalidArgument,
                     "judge state: metadata key " + key + " is missing or malformed");
  };
  JudgeState s;
  const std::string* v = get("judge.version");
  if (!v || *v != "1") return bad("judge.version");
  auto getInt = [&](const std::string& key, int64_t& out) {
    const std::string* t = get(key);
    if (!t) return false;
    char* end = nullptr;
    out = std::strtoll(t->c_str(), &end, 10);
    return !t->empty() && end == t->c_str() + t->size();
  };
  int64_t start = 0, last = 0;
  if (!getInt("judge.looks", s.looks) || s.looks < 0) return bad("judge.looks");
  if (!getInt("judge.start", start)) return bad("judge.start");
  if (!getInt("judge.last", last)) return bad("judge.last");
  s.start = Time(Duration(start));
  s.last = Time(Duration(last));
  // Whether `key` is present and `parse` accepts its value.
  auto read = [&](const std::string& key, const auto& parse) {
    const std::string* t = get(key);
    return t != nullptr && parse(*t);
  };
  if (!read("judge.lastCanary",
            [&](const std::string& t) { return armFromString(t, s.lastCanary); })) {
    return bad("judge.lastCanary");
  }
  if (!read("judge.lastStable",
            [&](const std::string& t) { return armFromString(t, s.lastStable); })) {
    return bad("judge.lastStable");
  }
  if (!read("judge.errors", [&](const std::string& t) { return splitFromString(t, s.errors); })) {
    return bad("judge.errors");
  }
  if (!read("judge.latencyBounds",
            [&](const std::string& t) { return parseNums(t, s.latencyBounds); })) {
    return bad("judge.latencyBounds");
  }
  s.latency.resize(s.latencyBounds.size());
  for (size_t i = 0; i < s.latency.size(); ++i) {
    const std::string key = "judge.latency." + std::to_string(i);
    if (!read(key, [&](const std::string& t) { return splitFromString(t, s.latency[i]); })) {
      return bad(key);
    }
  }
  if (!read("judge.srm", [&](const std::string& t) { return parseNums(t, s.srm); })) {
    return bad("judge.srm");
  }
  std::vector<double> counters;
  if (!read("judge.counters", [&](const std::string& t) { return parseNums(t, counters); }) ||
      counters.size() != 3 || !std::all_of(counters.begin(), counters.end(), [](double c) {
        return c >= 0 && c <= 1e15;
      })) {
    return bad("judge.counters");
  }
  s.resets = static_cast<int64_t>(counters[0]);
  s.skippedWindows = static_cast<int64_t>(counters[1]);
  s.fetchErrors = static_cast<int64_t>(counters[2]);
  return s;
}

}  // namespace ramp::analysis::judge
