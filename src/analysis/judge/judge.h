#pragma once

// The canary judge: a pure function from (config, state so far, this look's cumulative
// counters) to a verdict — Running, Successful, Failed or Inconclusive — with its evidence in
// numbers and in words, and the new state.
//
// What it decides (see docs/judge.md for the operator's view):
// - Failed (roll back) as soon as the combined regression evidence reaches 1/alpha. The
//   evidence for each metric is an e-process (split_test.h) on the split of that metric's
//   events between canary and stable; metrics combine by the average of their e-values (or by
//   Bonferroni), which keeps the overall false-rollback rate <= alpha at every look. A
//   sample-ratio check (the canary's share of requests against the configured weight) is one of
//   the combined e-processes, so a broken split also rolls back, inside the same alpha.
// - Successful early when every metric is shown non-inferior (canary rate < margin x stable's,
//   at promotionAlpha), or when the canary has served maxCanaryRequests without a regression.
// - At maxDuration without a verdict: Successful only if the traffic seen could have caught a
//   regression of mustDetect x stable's rate; otherwise Inconclusive (too little traffic to say
//   anything). Never Successful on missing data.
//
// The state is small and round-trips through a string map (Measurement.metadata), so a
// restarted daemon carries on exactly where it was.
//
// Plain values and pure functions: thread-safe as long as callers don't share mutable values.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/clock.h"
#include "ramp/error.h"

namespace ramp::analysis::judge {

enum class Combine { kAverage, kBonferroni };

// PromQL for one arm. Each query must return one number: a cumulative counter (requests,
// errors) or, for latencyBuckets, one series per `le` bucket of a cumulative histogram.
struct ArmQueries {
  std::string requests;
  std::string errors;
  std::string latencyBuckets;
  bool operator==(const ArmQueries&) const = default;
};

struct LatencyConfig {
  // The bound (seconds, one of the histogram's `le` values) of "slow". Unset: every finite
  // bucket bound is tested and their e-values averaged (a distribution-free test of a shift
  // anywhere in the distribution).
  std::optional<double> thresholdSeconds;
  double minRegression = 1.25;  // smallest ratio of slow shares worth catching
  double margin = 0;            // non-inferiority margin; 0 = minRegression
  bool operator==(const LatencyConfig&) const = default;
};

struct JudgeConfig {
  double alpha = 0.01;           // false-rollback rate, held at every look
  double promotionAlpha = 0.05;  // chance of promoting early a canary worse than the margin
  double minRegression = 1.5;    // smallest error-rate ratio (canary/stable) worth catching
  double margin = 0;             // error non-inferiority margin (ratio); 0 = minRegression
  double mustDetect = 5;         // promotion at maxDuration needs power against this ratio
  std::optional<double> maxCanaryRequests;
  Duration maxDuration = std::chrono::hours(1);
  Duration lookInterval = std::chrono::seconds(15);
  std::optional<double> canaryWeight;  // expected canary share of requests, in (0, 1)
  double srmTolerance = 0.2;           // share may deviate by this fraction of min(w, 1-w)
  Combine combine = Combine::kAverage;
  std::optional<LatencyConfig> latency;

  // For the provider glue (not used by the statistics): where and what to query.
  std::string address;
  std::string preset;  // "", "demo" or "haproxy" (the queries below are then filled in)
  ArmQueries canary;
  ArmQueries stable;
  bool operator==(const JudgeConfig&) const = default;
};

// Parses the plugin config (`provider.plugin["ramp/judge"]`, as JSON text). On error the
// message names the field, e.g. "ramp/judge.alpha: must be a number in (0, 0.5], got 2".
Result<JudgeConfig> parseJudgeConfig(std::string_view json);

// One histogram bucket: cumulative count of requests at most `le` seconds (le = +inf last).
struct Bucket {
  double le = 0;
  double count = 0;
  bool operator==(const Bucket&) const = default;
};

// Cumulative counters of one arm at one look.
struct ArmCounts {
  double requests = 0;
  double errors = 0;
  std::vector<Bucket> buckets;  // empty unless latency is configured
  bool operator==(const ArmCounts&) const = default;
};

struct JudgeInput {
  Time time;
  ArmCounts canary;
  ArmCounts stable;
};

// Running statistics of one event kind (errors, or slow requests at one bound).
struct SplitStats {
  double canaryRequests = 0, canaryEvents = 0, stableRequests = 0, stableEvents = 0;
  std::vector<double> regression;      // running log-likelihood ratios, one per grid point
  std::vector<double> nonInferiority;  // same, for the non-inferiority grid
  bool operator==(const SplitStats&) const = default;
};

struct JudgeState {
  int64_t looks = 0;  // 0: nothing seen yet (the next look records the baseline)
  Time start{};
  Time last{};
  ArmCounts lastCanary;  // cumulative counters at the previous look
  ArmCounts lastStable;
  SplitStats errors;
  std::vector<double> latencyBounds;  // bounds under test
  std::vector<SplitStats> latency;    // one per bound
  std::vector<double> srm;            // sample-ratio log-likelihood ratios
  int64_t resets = 0;                 // counter resets seen
  int64_t skippedWindows = 0;         // windows dropped as inconsistent
  int64_t fetchErrors = 0;            // consecutive failed fetches (provider's bookkeeping)

  // Serialises to / parses from the string map kept in Measurement.metadata (keys "judge.*").
  // fromMap fails, naming the key, on a missing or malformed entry.
  std::map<std::string, std::string> toMap() const;
  static Result<JudgeState> fromMap(const std::map<std::string, std::string>& map);
  bool operator==(const JudgeState&) const = default;
};

enum class Phase { kRunning, kSuccessful, kFailed, kInconclusive };
const char* phaseName(Phase phase);

struct MetricEvidence {
  std::string name;              // "errors", "latency>0.25s", "sample-ratio"
  double logRegression = 0;      // log e-value against "canary no worse"
  double logNonInferiority = 0;  // log e-value against "canary worse by the margin"
  bool hasNonInferiority = false;
};

struct JudgeVerdict {
  Phase phase = Phase::kRunning;
  double logEvidence = 0;   // combined regression evidence (log e-value)
  double logThreshold = 0;  // log(1/alpha) (average) or log(K/alpha) (Bonferroni, per metric)
  std::vector<MetricEvidence> metrics;
  std::string explanation;   // the counts, the statistic and the threshold, in words
  std::string displayValue;  // short, e.g. "evidence 312 (threshold 100)"
  JudgeState state;
};

// Takes one look. `previous` is the state returned by the last look (default-constructed for
// the first). On success returns the verdict and the state to keep. Fails (kInvalidArgument) on
// input the judge cannot use: negative counters, histograms whose bounds differ between arms
// or lack the configured threshold. With explainRunning false, Running verdicts carry no
// explanation text (used by the benchmark; decisions are always explained).
Result<JudgeVerdict> judgeLook(const JudgeConfig& config, JudgeState previous,
                               const JudgeInput& input, bool explainRunning = true);

}  // namespace ramp::analysis::judge
