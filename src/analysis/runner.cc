#include "analysis/runner.h"

#include <algorithm>
#include <future>
#include <utility>

#include "analysis/args.h"
#include "common/redact.h"

namespace ramp::analysis {

using spec::AnalysisPhase;

namespace {

// How long an async measurement without a resumeAt waits before it is resumed.
constexpr Duration kDefaultResumeDelay = std::chrono::seconds(10);
// How long runToCompletion sleeps when nothing is scheduled (an in-flight measurement whose
// provider gave no resumeAt and never will).
constexpr Duration kIdlePoll = std::chrono::seconds(10);
// Granularity of sleeps while watching the stop flag.
constexpr Duration kStopPoll = std::chrono::milliseconds(50);

spec::Measurement errorMeasurement(spec::Measurement base, const std::string& message) {
  base.phase = AnalysisPhase::kError;
  base.message = message;
  base.resumeAt.reset();
  return base;
}

spec::Measurement fromReply(const spec::Metric& metric, spec::Measurement base,
                            const ProviderReply& reply, Clock& clock) {
  for (const auto& [k, v] : reply.metadata) base.metadata[k] = v;
  switch (reply.kind) {
    case ProviderReply::Kind::kValue: {
      spec::Measurement judged = judgeValue(metric, reply.value);
      base.phase = judged.phase;
      base.value = reply.displayValue.empty() ? judged.value : reply.displayValue;
      base.message = judged.message.empty() ? reply.message : judged.message;
      base.resumeAt.reset();
      break;
    }
    case ProviderReply::Kind::kDecided:
      base.value = reply.displayValue;
      base.message = reply.message;
      base.resumeAt.reset();
      if (phaseCompleted(reply.phase)) {
        base.phase = reply.phase;
      } else if (reply.phase == AnalysisPhase::kRunning || reply.phase == AnalysisPhase::kPending) {
        base.phase = reply.phase;
        base.resumeAt = reply.resumeAt.value_or(clock.now() + kDefaultResumeDelay);
      } else {
        base.phase = AnalysisPhase::kError;
        base.message = "provider decided no phase";
      }
      break;
    case ProviderReply::Kind::kRunning:
      base.phase = AnalysisPhase::kRunning;
      base.value = reply.displayValue;
      base.message = reply.message;
      base.resumeAt = reply.resumeAt.value_or(clock.now() + kDefaultResumeDelay);
      break;
  }
  return base;
}

// Performs one task; returns the measurement to record (not yet redacted).
spec::Measurement perform(const MetricTask& task, const std::string& resultName,
                          const spec::Metric& metric, const spec::AnalysisRun& run,
                          const ReconcileEnv& env, Time now) {
  const spec::MetricResult* result = nullptr;
  for (const auto& r : run.status.metricResults) {
    if (r.name == resultName) result = &r;
  }
  spec::Measurement base;
  if (task.kind != TaskKind::kRun && result != nullptr && !result->measurements.empty()) {
    base = result->measurements.back();
  } else {
    base.startedAt = now;
  }
  if (!env.resolve) return errorMeasurement(base, "no metric provider resolver configured");
  Result<MetricProvider*> provider = env.resolve(metric);
  if (!provider) return errorMeasurement(base, provider.error().message);
  if (*provider == nullptr) return errorMeasurement(base, "no provider for metric " + metric.name);
  MeasureContext ctx{&run, &metric, now};
  switch (task.kind) {
    case TaskKind::kRun: {
      Result<ProviderReply> reply = (*provider)->run(ctx);
      if (!reply) return errorMeasurement(base, reply.error().message);
      return fromReply(metric, base, *reply, *env.clock);
    }
    case TaskKind::kResume: {
      Result<ProviderReply> reply = (*provider)->resume(ctx, base);
      if (!reply) return errorMeasurement(base, reply.error().message);
      return fromReply(metric, base, *reply, *env.clock);
    }
    case TaskKind::kTerminate: {
      Status s = (*provider)->terminate(ctx, base);
      if (!s) return errorMeasurement(base, s.error().message);
      base.phase = AnalysisPhase::kSuccessful;
      base.message = "Metric Terminated";
      base.resumeAt.reset();
      return base;
    }
  }
  return base;
}

void redactMeasurement(spec::Measurement& m, const Redactor& secrets) {
  if (secrets.size() == 0) return;
  m.message = secrets.redact(m.message);
  m.value = secrets.redact(m.value);
  for (auto& [k, v] : m.metadata) v = secrets.redact(v);
}

RunPassOutcome finishWithError(spec::AnalysisRun& run, const std::string& message, Time now) {
  RunPassOutcome out;
  out.events.push_back(failRun(run, message, now));
  out.completed = true;
  return out;
}

}  // namespace

RunPassOutcome reconcileAnalysisRun(spec::AnalysisRun& run, const ReconcileEnv& env) {
  RunPassOutcome out;
  if (phaseCompleted(run.status.phase)) {
    out.completed = true;
    return out;
  }
  Clock& clock = *env.clock;
  Time now = clock.now();
  Result<RunPlan> plan = planRun(run);
  if (!plan) return finishWithError(run, plan.error().message, now);

  std::vector<MetricTask> tasks = dueTasks(run, *plan, now);

  // Secrets are read on every pass, as Argo does, so a secret that disappears errors the run.
  Result<ArgValues> args =
      resolveArgValues(run.spec.args, run.metadata.namespace_, env.secrets, false);
  if (!args) {
    return finishWithError(run, "Unable to resolve metric arguments: " + args.error().message, now);
  }
  const Redactor secrets(args->secrets);
  if (env.onSecret) {
    for (const std::string& s : args->secrets) env.onSecret(s);
  }

  std::vector<spec::Metric> metrics;
  metrics.reserve(tasks.size());
  for (const MetricTask& task : tasks) {
    Result<spec::Metric> m = substituteArgs(run.spec.metrics[task.metric], args->values);
    if (!m) {
      return finishWithError(
          run, secrets.redact("Unable to resolve metric arguments: " + m.error().message), now);
    }
    metrics.push_back(std::move(*m));
  }

  std::vector<spec::Measurement> results(tasks.size());
  if (tasks.size() == 1) {
    results[0] =
        perform(tasks[0], plan->metrics[tasks[0].metric].metric.name, metrics[0], run, env, now);
  } else if (!tasks.empty()) {
    std::vector<std::future<spec::Measurement>> futures;
    futures.reserve(tasks.size());
    for (size_t i = 0; i < tasks.size(); ++i) {
      futures.push_back(std::async(std::launch::async, [&, i] {
        return perform(tasks[i], plan->metrics[tasks[i].metric].metric.name, metrics[i], run, env,
                       now);
      }));
    }
    for (size_t i = 0; i < tasks.size(); ++i) results[i] = futures[i].get();
  }

  Time done = clock.now();
  for (size_t i = 0; i < tasks.size(); ++i) {
    spec::Measurement& m = results[i];
    redactMeasurement(m, secrets);
    const MetricPlan& p = plan->metrics[tasks[i].metric];
    bool replaces = tasks[i].kind != TaskKind::kRun;
    recordMeasurement(run, p, m, replaces, done);
    // Report the stored form (with the times recordMeasurement filled in).
    for (const spec::MetricResult& r : run.status.metricResults) {
      if (r.name == p.metric.name && !r.measurements.empty()) {
        out.measurements.push_back({p.metric.name, p.dryRun, tasks[i].kind, r.measurements.back()});
      }
    }
  }

  Assessment a = assess(run, *plan, done);
  out.events = std::move(a.events);
  out.completed = a.completed;
  out.nextDue = a.nextDue;
  return out;
}

spec::AnalysisPhase runToCompletion(spec::AnalysisRun& run, const ReconcileEnv& env,
                                    const RunnerCallbacks& callbacks,
                                    const std::atomic<bool>* stop) {
  Clock& clock = *env.clock;
  while (true) {
    if (stop != nullptr && stop->load() && !run.spec.terminate) run.spec.terminate = true;
    RunPassOutcome o = reconcileAnalysisRun(run, env);
    for (const RecordedMeasurement& m : o.measurements) {
      if (callbacks.onMeasurement) callbacks.onMeasurement(m);
    }
    for (const PhaseEvent& e : o.events) {
      if (callbacks.onEvent) callbacks.onEvent(e);
    }
    if (o.completed) return run.status.phase;
    Time due = o.nextDue.value_or(clock.now() + kIdlePoll);
    while (true) {
      Time now = clock.now();
      if (now >= due) break;
      if (stop != nullptr) {
        if (stop->load()) break;
        clock.sleepFor(std::min<Duration>(due - now, kStopPoll));
      } else {
        clock.sleepFor(due - now);
      }
    }
  }
}

}  // namespace ramp::analysis
