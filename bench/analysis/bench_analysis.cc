// AnalysisRun engine: the cost of one assessment of a run of 10 metrics x 10 measurements (the
// work the controller does on every reconcile of a running analysis), plus the pieces around it.
// Target (issue 3): assess < 20 us.

#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "analysis/engine.h"

namespace ramp::analysis {
namespace {

using namespace std::chrono_literals;

spec::AnalysisRun makeRun(int metrics, int measurements) {
  spec::AnalysisRun run;
  run.metadata.name = "bench";
  for (int i = 0; i < metrics; ++i) {
    spec::Metric m;
    m.name = "metric-" + std::to_string(i);
    m.interval = "1m";
    m.count = spec::IntOrString{int64_t{measurements * 2}};
    m.failureLimit = spec::IntOrString{int64_t{3}};
    m.successCondition = "result[0] >= 0.95";
    spec::PrometheusMetric prom;
    prom.address = "http://127.0.0.1:9090";
    prom.query = "sum(rate(http_requests_total{job=\"{{args.svc}}\",code!~\"5..\"}[1m]))";
    m.provider.prometheus = prom;
    run.spec.metrics.push_back(m);
  }
  run.spec.args = {{"svc", "web", std::nullopt}};
  auto plan = planRun(run);
  Time t0 = Time(Duration(1767225600000));
  for (int k = 0; k < measurements; ++k) {
    for (const MetricPlan& p : plan->metrics) {
      spec::Measurement m;
      m.phase = k % 7 == 3 ? spec::AnalysisPhase::kFailed : spec::AnalysisPhase::kSuccessful;
      m.value = "[0.99]";
      m.startedAt = t0 + std::chrono::minutes(k);
      recordMeasurement(run, p, m, false, t0 + std::chrono::minutes(k));
    }
  }
  return run;
}

void BM_Assess10x10(benchmark::State& state) {
  spec::AnalysisRun run = makeRun(10, 10);
  RunPlan plan = *planRun(run);
  Time now = Time(Duration(1767225600000)) + 10min;
  for (auto _ : state) {
    Assessment a = assess(run, plan, now);
    benchmark::DoNotOptimize(a);
  }
  state.counters["metrics"] = 10;
  state.counters["measurements"] = 100;
}
BENCHMARK(BM_Assess10x10);

void BM_DueTasks10x10(benchmark::State& state) {
  spec::AnalysisRun run = makeRun(10, 10);
  RunPlan plan = *planRun(run);
  Time now = Time(Duration(1767225600000)) + 10min;
  for (auto _ : state) benchmark::DoNotOptimize(dueTasks(run, plan, now));
}
BENCHMARK(BM_DueTasks10x10);

// planRun: args substitution and validation of 10 metrics (done once per reconcile).
void BM_PlanRun10(benchmark::State& state) {
  spec::AnalysisRun run = makeRun(10, 0);
  for (auto _ : state) benchmark::DoNotOptimize(planRun(run));
}
BENCHMARK(BM_PlanRun10);

// One whole core pass without providers: plan + due + assess, on a copy of the run.
void BM_CorePass10x10(benchmark::State& state) {
  const spec::AnalysisRun base = makeRun(10, 10);
  Time now = Time(Duration(1767225600000)) + 10min;
  for (auto _ : state) {
    spec::AnalysisRun run = base;
    RunPlan plan = *planRun(run);
    benchmark::DoNotOptimize(dueTasks(run, plan, now));
    benchmark::DoNotOptimize(assess(run, plan, now));
  }
}
BENCHMARK(BM_CorePass10x10);

// Judging one Prometheus-style value with a typical condition (compile + evaluate).
void BM_JudgeValue(benchmark::State& state) {
  spec::Metric m;
  m.name = "m";
  m.successCondition = "len(result) > 0 && result[0] >= 0.95";
  Value v = Value::list({Value::floating(0.99)});
  for (auto _ : state) benchmark::DoNotOptimize(judgeValue(m, v));
}
BENCHMARK(BM_JudgeValue);

}  // namespace
}  // namespace ramp::analysis
