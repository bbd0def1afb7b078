// Condition language benchmarks: compiling a condition, evaluating the most common Prometheus
// check on a one-element vector, and closures over a 100-sample range-query result.

#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "expr/expr.h"

namespace {

using ramp::Value;

Value samples(int n) {
  Value::List l;
  for (int i = 0; i < n; ++i) l.push_back(Value::floating(0.5 + i * 0.001));
  return Value::list(std::move(l));
}

void BM_Compile(benchmark::State& state, const char* src) {
  for (auto _ : state) {
    auto p = ramp::expr::compile(src);
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK_CAPTURE(BM_Compile, simple, "result[0] >= 0.95");
BENCHMARK_CAPTURE(BM_Compile, guarded,
                  "len(result) == 1 && !isNaN(result[0]) && !isInf(result[0]) && result[0] >= 20");

void BM_Evaluate(benchmark::State& state, const char* src, int n) {
  auto p = ramp::expr::compile(src);
  if (!p) {
    state.SkipWithError("compile failed");
    return;
  }
  Value result = samples(n);
  for (auto _ : state) {
    auto v = ramp::expr::evaluate(**p, result);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK_CAPTURE(BM_Evaluate, index_1, "result[0] >= 0.95", 1);
BENCHMARK_CAPTURE(BM_Evaluate, guarded_1,
                  "len(result) == 1 && !isNaN(result[0]) && !isInf(result[0]) && result[0] >= 20",
                  1);
BENCHMARK_CAPTURE(BM_Evaluate, all_100, "all(result, # < 1000)", 100);
BENCHMARK_CAPTURE(BM_Evaluate, all_braces_100, "all(result, {# >= 0.5 && # < 1000})", 100);
BENCHMARK_CAPTURE(BM_Evaluate, filter_len_100, "len(filter(result, # > 0.55)) < 60", 100);
BENCHMARK_CAPTURE(BM_Evaluate, max_100, "max(result) < 0.95", 100);

void BM_CompileAndEvaluate(benchmark::State& state) {
  Value result = samples(1);
  for (auto _ : state) {
    auto p = ramp::expr::compile("result[0] >= 0.95");
    auto v = ramp::expr::evaluate(**p, result);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_CompileAndEvaluate);

void BM_EvaluateTime(benchmark::State& state) {
  ramp::Time now(std::chrono::milliseconds(1'700'000'000'000));
  for (auto _ : state) {
    auto t = ramp::expr::evaluateTime("now() - duration('5m')", now);
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_EvaluateTime);

}  // namespace
