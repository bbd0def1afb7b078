#pragma once

// Builders and a harness shared by the analysis engine tests: metrics and runs in a few words,
// scripted providers by metric name, and a SimulatedClock driving reconcile passes.

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "analysis/engine.h"
#include "analysis/runner.h"
#include "fakes/scripted_provider.h"
#include "fakes/simulated_clock.h"

namespace ramp::analysis::testutil {

using namespace std::chrono_literals;
using spec::AnalysisPhase;
using testing::ScriptedProvider;

inline spec::IntOrString ios(int64_t v) { return spec::IntOrString{v}; }
inline spec::IntOrString ios(std::string s) { return spec::IntOrString{std::move(s)}; }

// A web metric named `name` with no conditions, count/interval unset.
inline spec::Metric metric(std::string name) {
  spec::Metric m;
  m.name = std::move(name);
  spec::WebMetric web;
  web.url = "http://127.0.0.1:1/" + m.name;
  m.provider.web = web;
  return m;
}

inline spec::AnalysisRun runOf(std::vector<spec::Metric> metrics) {
  spec::AnalysisRun run;
  run.metadata.name = "run";
  run.spec.metrics = std::move(metrics);
  return run;
}

inline spec::Measurement done(AnalysisPhase phase, Time finishedAt) {
  spec::Measurement m;
  m.phase = phase;
  m.startedAt = finishedAt;
  m.finishedAt = finishedAt;
  return m;
}

inline const spec::MetricResult* resultOf(const spec::AnalysisRun& run, const std::string& name) {
  for (const auto& r : run.status.metricResults) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

// Drives one run with scripted providers (one per metric name) on a simulated clock.
class Harness {
 public:
  explicit Harness(spec::AnalysisRun run) : run_(std::move(run)) {
    env_.clock = &clock_;
    env_.resolve = [this](const spec::Metric& m) -> Result<MetricProvider*> {
      auto it = providers_.find(m.name);
      if (it == providers_.end()) {
        return makeError(ErrorCode::kNotFound, "no scripted provider for " + m.name);
      }
      return it->second.get();
    };
  }

  ScriptedProvider& provider(const std::string& metric) {
    auto& p = providers_[metric];
    if (!p) p = std::make_unique<ScriptedProvider>();
    return *p;
  }

  // One reconcile pass at the current simulated time.
  RunPassOutcome pass() {
    RunPassOutcome o = reconcileAnalysisRun(run_, env_);
    for (auto& m : o.measurements) measurements_.push_back(m);
    for (auto& e : o.events) events_.push_back(e);
    return o;
  }

  // Passes at each due time until the run completes or `limit` passes ran.
  AnalysisPhase runToEnd(int limit = 1000) {
    for (int i = 0; i < limit; ++i) {
      RunPassOutcome o = pass();
      if (o.completed) break;
      if (o.nextDue && *o.nextDue > clock_.now()) clock_.set(*o.nextDue);
    }
    return run_.status.phase;
  }

  testing::SimulatedClock& clock() { return clock_; }
  spec::AnalysisRun& run() { return run_; }
  ReconcileEnv& env() { return env_; }
  const std::vector<RecordedMeasurement>& measurements() const { return measurements_; }
  const std::vector<PhaseEvent>& events() const { return events_; }
  Time start() const { return start_; }

 private:
  testing::SimulatedClock clock_;
  Time start_ = clock_.now();
  spec::AnalysisRun run_;
  ReconcileEnv env_;
  std::map<std::string, std::unique_ptr<ScriptedProvider>> providers_;
  std::vector<RecordedMeasurement> measurements_;
  std::vector<PhaseEvent> events_;
};

}  // namespace ramp::analysis::testutil
