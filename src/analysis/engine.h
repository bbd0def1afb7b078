#pragma once

// The AnalysisRun engine's pure core: Argo Rollouts' analysis semantics as value-in/value-out
// functions over a spec::AnalysisRun and the current time. No I/O, no clock, no providers: the
// shell (runner.h) calls providers for the tasks dueTasks() returns, records what they answer
// with recordMeasurement(), then calls assess(), which decides every metric's and the run's
// phase, trims history and says when the run is next due.
//
// One reconcile pass, as Argo's reconcileAnalysisRun:
//   plan = planRun(run)            // args (without secrets) + validation; error -> failRun()
//   tasks = dueTasks(run, plan, now)
//   for each task: provider run/resume/terminate -> recordMeasurement(run, metric, m, ...)
//   a = assess(run, plan, now)     // phases, message, summaries, history trim, nextDue, events
//
// Thread safety: pure functions; callers serialise access to one run.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/spec/analysis.h"
#include "ramp/value.h"

namespace ramp::analysis {

// Argo's defaults (analysis/analysis.go, utils/defaults).
inline constexpr int kDefaultMeasurementHistoryLimit = 10;
inline constexpr int64_t kDefaultConsecutiveErrorLimit = 4;
inline constexpr Duration kDefaultErrorRetryInterval = std::chrono::seconds(10);

// One metric of a run, with its args substituted (secret args replaced by a placeholder) and its
// fields parsed and validated.
struct MetricPlan {
  spec::Metric metric;
  std::optional<Duration> interval;
  std::optional<Duration> initialDelay;
  std::optional<int64_t> count;           // as written (after args); nullopt when unset
  std::optional<int64_t> effectiveCount;  // nullopt: runs until terminated
  int64_t failureLimit = 0;               // -1: disabled
  int64_t inconclusiveLimit = 0;
  int64_t consecutiveErrorLimit = kDefaultConsecutiveErrorLimit;
  int64_t consecutiveSuccessLimit = 0;  // 0: disabled
  bool dryRun = false;
  int retentionLimit = kDefaultMeasurementHistoryLimit;
};

struct RunPlan {
  std::vector<MetricPlan> metrics;  // in spec order
};

// Validates one metric whose args are already substituted (Argo's ValidateMetric plus ramp's
// integer checks). On error returns kInvalidArgument naming the rule, e.g.
// "interval must be specified when count > 1".
Status validateMetric(const spec::Metric& metric);

// Validates the metrics of a run or template: at least one, unique names, each valid.
// On error returns kInvalidArgument "metrics[i]: <rule>" or "no metrics specified".
Status validateMetrics(const std::vector<spec::Metric>& metrics);

// Resolves the run's args (secrets as a placeholder), validates metrics, dryRun and
// measurementRetention rules. On success returns the plan. On error returns kInvalidArgument
// whose message is the run's Error message: "Unable to resolve metric arguments: failed to
// resolve {{args.x}}" or "Analysis spec invalid: <why>".
Result<RunPlan> planRun(const spec::AnalysisRun& run);

// True if spec.terminate is set or a non-dry-run metric already ended Failed, Error or
// Inconclusive (Argo's IsTerminating).
bool isTerminating(const spec::AnalysisRun& run);

enum class TaskKind {
  kRun,        // take a new measurement
  kResume,     // resume the in-flight (async) measurement
  kTerminate,  // terminate the in-flight measurement: the run is terminating
};

struct MetricTask {
  size_t metric = 0;  // index into RunPlan::metrics
  TaskKind kind = TaskKind::kRun;
};

// Returns the measurements due at `now` (Argo's generateMetricTasks): a metric's first
// measurement at once, or once initialDelay has passed since status.startedAt; the next one at
// lastFinishedAt + interval (10 s after an Error); none once the effective count is reached or
// the metric completed; none but resume/terminate of in-flight ones while terminating.
std::vector<MetricTask> dueTasks(const spec::AnalysisRun& run, const RunPlan& plan, Time now);

// Judges a provider value with the metric's conditions (Argo's EvaluateResult):
//   neither condition  -> Successful
//   success only       -> Successful if true, else Failed
//   failure only       -> Failed if true, else Successful
//   both               -> Failed if failure true, Successful if success true, else Inconclusive
//   an evaluation error or a non-bool result -> Error with "could not evaluate <cond> …".
// Returns a Measurement with phase, message and value (formatValue) set; times are not set.
spec::Measurement judgeValue(const spec::Metric& metric, const Value& value);

// Records `m` for metric `metricPlan` (Argo's runMeasurements bookkeeping): creates the
// MetricResult on the first measurement, sets startedAt/finishedAt to `now` when unset, and for a
// completed measurement updates the counters:
//   Successful   -> successful++, count++, consecutiveError = 0, consecutiveSuccess++
//   Failed       -> failed++,     count++, consecutiveError = 0, consecutiveSuccess = 0
//   Inconclusive -> inconclusive++, count++, consecutiveError = 0, consecutiveSuccess = 0
//   Error        -> error++, consecutiveError++, consecutiveSuccess = 0 (count unchanged)
// `replacesInFlight` replaces the last (in-flight) measurement instead of appending.
void recordMeasurement(spec::AnalysisRun& run, const MetricPlan& metricPlan, spec::Measurement m,
                       bool replacesInFlight, Time now);

// A phase change worth an event: a metric or the run reached a completed phase.
struct PhaseEvent {
  std::string reason;  // "MetricFailed", "AnalysisRunSuccessful", …
  std::string metric;  // empty for the run
  spec::AnalysisPhase phase = spec::AnalysisPhase::kNone;
  std::string message;  // "Metric 'x' Completed. Result: Failed" / "Analysis Completed. Result: …"
  bool warning = false;  // Failed or Error
};

struct Assessment {
  spec::AnalysisPhase phase = spec::AnalysisPhase::kNone;
  bool completed = false;
  std::optional<Time> nextDue;  // when to reconcile next; nullopt when completed
  std::vector<PhaseEvent> events;
};

// Phase of one metric from its result (Argo's assessMetricStatus), given whether the run is
// terminating. Exposed for tests and the CLI.
spec::AnalysisPhase assessMetricStatus(const MetricPlan& metric, const spec::MetricResult& result,
                                       bool terminating);

// Assesses the run at `now` (Argo's assessRunStatus + reconcile epilogue): sets startedAt on the
// first call, each metric's phase and message, the run's phase and message, runSummary and
// dryRunSummary, completedAt on completion; trims measurement history; computes the next due
// time (earliest initialDelay end, next interval, error retry or async resumeAt; `now` while the
// run is terminating but not yet complete). A completed run is left unchanged.
Assessment assess(spec::AnalysisRun& run, const RunPlan& plan, Time now);

// Ends the run in phase Error with `message` (invalid spec, unresolvable args or secrets).
// Returns the completion event.
PhaseEvent failRun(spec::AnalysisRun& run, const std::string& message, Time now);

// True for Successful, Failed, Error, Inconclusive.
bool phaseCompleted(spec::AnalysisPhase phase);

// Argo's severity order: Successful < Running < Pending < Inconclusive < Error < Failed.
bool isWorse(spec::AnalysisPhase current, spec::AnalysisPhase candidate);

}  // namespace ramp::analysis
