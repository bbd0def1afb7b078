#pragma once

// MetricProvider: one kind of measurement source (Prometheus, web, job, ramp's judge, …).
//
// The analysis engine calls run() when a metric's measurement is due. A provider either
// returns a value for the engine to judge with the metric's successCondition/failureCondition,
// or decides the measurement's phase itself (job: exit status; judge: its sequential test), or
// starts asynchronous work and reports kRunning with a resumeAt time, after which the engine
// calls resume() until the measurement completes. Every bit of in-flight state the provider
// needs to resume or terminate lives in the returned metadata, which the engine persists, so a
// restarted daemon carries on with a fresh provider instance.
//
// Thread safety: run/resume/terminate may be called concurrently for different measurements,
// so implementations must be thread-safe. They must not block longer than the metric's own
// timeout. A provider error (unreachable server, non-2xx, bad response) is returned as an Error
// Result; the engine records it as an Error measurement with the message (secrets redacted).

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/spec/analysis.h"
#include "ramp/value.h"

namespace ramp::analysis {

struct ProviderReply {
  enum class Kind {
    kValue,    // `value` is the result; the engine evaluates the metric's conditions on it
    kDecided,  // `phase` was decided by the provider (Successful, Failed, Inconclusive, Error)
    kRunning,  // asynchronous; call resume() at or after `resumeAt`
  };
  Kind kind = Kind::kValue;
  Value value;
  spec::AnalysisPhase phase = spec::AnalysisPhase::kNone;
  std::string message;
  std::string displayValue;  // shown as Measurement.value when kind != kValue (optional)
  std::map<std::string, std::string> metadata;
  std::optional<Time> resumeAt;
};

// What a provider knows about the run it measures for.
struct MeasureContext {
  const spec::AnalysisRun* run = nullptr;  // never null
  const spec::Metric* metric = nullptr;    // args already substituted; never null
  Time now;
};

class MetricProvider {
 public:
  virtual ~MetricProvider() = default;

  // Starts (and for synchronous providers, completes) one measurement.
  // On success returns the reply; on error returns an Error whose message says what failed and
  // where (endpoint, status code), with any secret redacted.
  virtual Result<ProviderReply> run(const MeasureContext& ctx) = 0;

  // Continues a measurement that returned kRunning. `inFlight` is the persisted measurement
  // (with the metadata the provider wrote). The default says the provider is synchronous.
  virtual Result<ProviderReply> resume(const MeasureContext& ctx,
                                       const spec::Measurement& inFlight) {
    return makeError(ErrorCode::kUnsupported, type() + " measurements cannot be resumed");
  }

  // Stops a running measurement (kill the job, cancel the query). Idempotent.
  virtual Status terminate(const MeasureContext& ctx, const spec::Measurement& inFlight) {
    return {};
  }

  // Argo's provider type name, e.g. "Prometheus", "Web", "Job", or "ramp/judge".
  virtual std::string type() const = 0;
};

using MetricProviderPtr = std::unique_ptr<MetricProvider>;

}  // namespace ramp::analysis
