#pragma once

// The AnalysisRun engine's shell: one reconcile pass over a run (reconcileAnalysisRun) and a loop
// that drives a run to completion on a Clock (runToCompletion, used by `ramp analyze`).
//
// A pass asks the pure core (engine.h) which measurements are due, resolves the run's args
// (reading secrets from the SecretSource), calls the providers — run() for a new measurement,
// resume() for an in-flight async one, terminate() for an in-flight one of a terminating run —
// concurrently, records what they answer and assesses the run:
//   provider error            -> Error measurement with the error's message
//   ProviderReply::kValue     -> judged with successCondition / failureCondition
//   ProviderReply::kDecided   -> the provider's phase
//   ProviderReply::kRunning   -> persisted in flight with resumeAt (now + 10 s when unset)
//   terminate() succeeded     -> Successful, message "Metric Terminated" (Argo's semantics)
// Every secret value read for the run is replaced by "*****" in measurement messages, values and
// metadata before they are stored or reported (any non-empty secret, longest first, as Argo).
//
// Thread safety: one pass per run at a time (the caller serialises); providers are called from
// several threads at once (MetricProvider's contract).

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "analysis/engine.h"
#include "ramp/analysis/metric_provider.h"
#include "ramp/analysis/secret_source.h"
#include "ramp/clock.h"

namespace ramp::analysis {

// Finds the provider for a metric (args and secrets substituted). The engine never owns
// providers: the resolver keeps them alive at least until the pass returns. On error (unknown or
// unsupported provider) the measurement is recorded as Error with the error's message.
using ProviderResolver = std::function<Result<MetricProvider*>(const spec::Metric& metric)>;

// A measurement recorded during a pass (completed, or in flight), already redacted.
struct RecordedMeasurement {
  std::string metric;
  bool dryRun = false;
  TaskKind kind = TaskKind::kRun;
  spec::Measurement measurement;
};

// What one reconcile pass over an AnalysisRun produced. (The controller's work queue has its own
// controller::ReconcileOutcome, which only says when to requeue a key.)
struct RunPassOutcome {
  std::vector<RecordedMeasurement> measurements;
  std::vector<PhaseEvent> events;  // for the caller to record (AnalysisRun<Phase>, Metric<Phase>)
  bool completed = false;
  std::optional<Time> nextDue;  // when to call again; nullopt when completed
};

struct ReconcileEnv {
  ProviderResolver resolve;
  Clock* clock = nullptr;                 // required
  const SecretSource* secrets = nullptr;  // required only by runs with secretKeyRef args
  // Called with every secret value read, so the caller can scrub its own logs (e.g. feed a
  // ramp::Redactor). Optional.
  std::function<void(const std::string& secret)> onSecret;
};

// Runs one reconcile pass over `run` (a completed run is returned unchanged). Never fails: an
// invalid spec, unresolvable args or an unreadable secret end the run in phase Error with Argo's
// message ("Analysis spec invalid: …", "Unable to resolve metric arguments: …").
RunPassOutcome reconcileAnalysisRun(spec::AnalysisRun& run, const ReconcileEnv& env);

struct RunnerCallbacks {
  std::function<void(const RecordedMeasurement&)> onMeasurement;  // each recorded measurement
  std::function<void(const PhaseEvent&)> onEvent;                 // each phase event
};

// Reconciles `run` until it completes, sleeping on env.clock until the next due time. When
// `stop` becomes true the run is terminated as Argo's `spec.terminate` does (in-flight async
// measurements are terminated; unmet counts end Successful unless a limit was breached) and the
// loop continues until the run reports its final phase, which it returns.
spec::AnalysisPhase runToCompletion(spec::AnalysisRun& run, const ReconcileEnv& env,
                                    const RunnerCallbacks& callbacks,
                                    const std::atomic<bool>* stop = nullptr);

}  // namespace ramp::analysis
