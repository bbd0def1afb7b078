#include "analysis/engine.h"

#include <algorithm>
#include <charconv>
#include <regex>
#include <string>

#include "analysis/args.h"
#include "common/go_duration.h"
#include "expr/expr.h"

namespace ramp::analysis {

using spec::AnalysisPhase;

namespace {

std::string str(int64_t v) { return std::to_string(v); }

// Reads an IntOrString that must hold an integer (after args substitution). Argo's IntValue()
// silently turns a non-numeric string into 0; ramp refuses it (missing data never counts).
Result<std::optional<int64_t>> readInt(const std::optional<spec::IntOrString>& v,
                                       std::string_view field) {
  if (!v) return std::optional<int64_t>();
  if (v->isInt()) return std::optional<int64_t>(v->intValue());
  const std::string& s = v->stringValue();
  int64_t out = 0;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  if (!s.empty() && *first == '+') ++first;
  auto [ptr, ec] = std::from_chars(first, last, out);
  if (s.empty() || ec != std::errc() || ptr != last) {
    return makeError(ErrorCode::kInvalidArgument,
                     std::string(field) + " must be an integer, got \"" + s + "\"");
  }
  return std::optional<int64_t>(out);
}

int providerCount(const spec::MetricProviderSpec& p) {
  int n = 0;
  if (p.prometheus) ++n;
  if (p.web) ++n;
  if (p.job) ++n;
  n += static_cast<int>(p.plugin.size());
  n += static_cast<int>(p.other.size());
  return n;
}

// Fills the parsed fields of `plan` from plan.metric and validates them.
Status parseMetric(MetricPlan& plan) {
  const spec::Metric& m = plan.metric;
  auto count = readInt(m.count, "count");
  if (!count) return std::unexpected(count.error());
  auto failureLimit = readInt(m.failureLimit, "failureLimit");
  if (!failureLimit) return std::unexpected(failureLimit.error());
  auto inconclusiveLimit = readInt(m.inconclusiveLimit, "inconclusiveLimit");
  if (!inconclusiveLimit) return std::unexpected(inconclusiveLimit.error());
  auto consecutiveErrorLimit = readInt(m.consecutiveErrorLimit, "consecutiveErrorLimit");
  if (!consecutiveErrorLimit) return std::unexpected(consecutiveErrorLimit.error());
  auto consecutiveSuccessLimit = readInt(m.consecutiveSuccessLimit, "consecutiveSuccessLimit");
  if (!consecutiveSuccessLimit) return std::unexpected(consecutiveSuccessLimit.error());

  plan.count = *count;
  plan.failureLimit = failureLimit->value_or(0);
  plan.inconclusiveLimit = inconclusiveLimit->value_or(0);
  plan.consecutiveErrorLimit = consecutiveErrorLimit->value_or(kDefaultConsecutiveErrorLimit);
  plan.consecutiveSuccessLimit = consecutiveSuccessLimit->value_or(0);
  int64_t c = plan.count.value_or(0);

  auto bad = [](std::string msg) { return makeError(ErrorCode::kInvalidArgument, msg); };
  if (c < 0) return bad("count must be >= 0");
  if (c > 0) {
    if (plan.failureLimit >= 0 && plan.consecutiveSuccessLimit >= 0 &&
        c < plan.failureLimit + plan.consecutiveSuccessLimit) {
      return bad(plan.consecutiveSuccessLimit > 0
                     ? "count must be >= failureLimit + consecutiveSuccessLimit"
                     : "count must be >= failureLimit");
    }
    if (c < plan.inconclusiveLimit) return bad("count must be >= inconclusiveLimit");
  }
  if (c > 1 && m.interval.empty()) return bad("interval must be specified when count > 1");
  if (!m.interval.empty()) {
    auto d = parseGoDurationMillis(m.interval);
    if (!d) return bad("invalid interval string: " + d.error().message);
    plan.interval = *d;
  }
  if (!m.initialDelay.empty()) {
    auto d = parseGoDurationMillis(m.initialDelay);
    if (!d) return bad("invalid startDelay string: " + d.error().message);
    plan.initialDelay = *d;
  }
  if (plan.failureLimit < -1) return bad("failureLimit must be >= -1");
  if (plan.inconclusiveLimit < 0) return bad("inconclusiveLimit must be >= 0");
  if (plan.consecutiveErrorLimit < 0) return bad("consecutiveErrorLimit must be >= 0");
  if (plan.consecutiveSuccessLimit < 0) return bad("consecutiveSuccessLimit must be >= 0");
  if (plan.failureLimit == -1 && plan.consecutiveSuccessLimit == 0) {
    return bad("failureLimit -1 requires consecutiveSuccessLimit > 0");
  }
  int providers = providerCount(m.provider);
  if (providers == 0) return bad("no provider specified");
  if (providers > 1) return bad("multiple providers specified");

  // Argo's EffectiveCount: unset or 0 means one measurement without interval, indefinite with.
  if (c == 0) {
    plan.effectiveCount = m.interval.empty() ? std::optional<int64_t>(1) : std::nullopt;
  } else {
    plan.effectiveCount = c;
  }
  return {};
}

// Unanchored match of an Argo (Go RE2) pattern; an invalid pattern matches nothing, as in Argo.
bool regexMatches(const std::string& pattern, const std::string& name) {
  try {
    return std::regex_search(name, std::regex(pattern, std::regex::ECMAScript));
  } catch (const std::regex_error&) {
    return false;
  }
}

const spec::MetricResult* findResult(const spec::AnalysisRun& run, const std::string& name) {
  for (const spec::MetricResult& r : run.status.metricResults) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

spec::MetricResult* findResult(spec::AnalysisRun& run, const std::string& name) {
  for (spec::MetricResult& r : run.status.metricResults) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

const spec::Measurement* lastMeasurement(const spec::MetricResult* r) {
  if (r == nullptr || r->measurements.empty()) return nullptr;
  return &r->measurements.back();
}

// Argo's assessMetricFailureInconclusiveOrError: checked in the order failed, inconclusive,
// error with later ones overriding, so the precedence is Error > Inconclusive > Failed.
std::pair<AnalysisPhase, std::string> limitsBreached(const MetricPlan& p,
                                                     const spec::MetricResult& r) {
  AnalysisPhase phase = AnalysisPhase::kNone;
  std::string message;
  if (p.failureLimit >= 0 && r.failed > p.failureLimit) {
    phase = AnalysisPhase::kFailed;
    message = "failed (" + str(r.failed) + ") > failureLimit (" + str(p.failureLimit) + ")";
  }
  if (r.inconclusive > p.inconclusiveLimit) {
    phase = AnalysisPhase::kInconclusive;
    message = "inconclusive (" + str(r.inconclusive) + ") > inconclusiveLimit (" +
              str(p.inconclusiveLimit) + ")";
  }
  if (r.consecutiveError > p.consecutiveErrorLimit) {
    phase = AnalysisPhase::kError;
    message = "consecutiveErrors (" + str(r.consecutiveError) + ") > consecutiveErrorLimit (" +
              str(p.consecutiveErrorLimit) + ")";
  }
  return {phase, message};
}

// Why a metric that breached no limit ended Inconclusive or Failed: its count was reached
// without consecutiveSuccessLimit successes in a row (ramp's wording; Argo leaves it empty).
std::string consecutiveSuccessShortfall(const MetricPlan& p, const spec::MetricResult& r) {
  return "consecutiveSuccess (" + str(r.consecutiveSuccess) + ") < consecutiveSuccessLimit (" +
         str(p.consecutiveSuccessLimit) + ") after count (" + str(r.count) + ")";
}

const char* goTypeName(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNil: return "<nil>";
    case Value::Kind::kBool: return "bool";
    case Value::Kind::kInt: return "int";
    case Value::Kind::kFloat: return "float64";
    case Value::Kind::kString: return "string";
    case Value::Kind::kList: return "[]interface {}";
    case Value::Kind::kMap: return "map[string]interface {}";
  }
  return "unknown";
}

bool nilOrEmpty(const Value& v) { return v.isNil() || (v.isList() && v.asList().empty()); }

// Evaluates one condition. On success returns its bool; on error the message after
// "could not evaluate <kind> \"<cond>\": ".
Result<bool> evalCondition(const std::string& condition, const Value& value) {
  auto program = expr::compile(condition);
  if (!program) return std::unexpected(program.error());
  auto out = expr::evaluate(**program, value);
  if (!out) return std::unexpected(out.error());
  if (!out->isBool()) {
    return makeError(ErrorCode::kInvalidArgument,
                     std::string("expected bool, but got ") + goTypeName(*out));
  }
  return out->asBool();
}

std::string evalErrorMessage(std::string_view kind, const std::string& condition,
                             const Value& value, const Error& err) {
  std::string head = "could not evaluate " + std::string(kind) + " \"" + condition + "\": ";
  if (nilOrEmpty(value)) {
    return head + "metric result is nil or empty: no data returned from the metric provider";
  }
  return head + err.message;
}

int severity(AnalysisPhase p) {
  switch (p) {
    case AnalysisPhase::kSuccessful: return 0;
    case AnalysisPhase::kRunning: return 1;
    case AnalysisPhase::kPending: return 2;
    case AnalysisPhase::kInconclusive: return 3;
    case AnalysisPhase::kError: return 4;
    case AnalysisPhase::kFailed: return 5;
    default: return 0;
  }
}

void countPhase(spec::RunSummary& s, AnalysisPhase p) {
  switch (p) {
    case AnalysisPhase::kError: ++s.error; break;
    case AnalysisPhase::kFailed: ++s.failed; break;
    case AnalysisPhase::kInconclusive: ++s.inconclusive; break;
    default: ++s.successful; break;
  }
}

PhaseEvent runEvent(AnalysisPhase phase) {
  PhaseEvent e;
  e.reason = std::string("AnalysisRun") + spec::analysisPhaseName(phase);
  e.phase = phase;
  e.message = std::string("Analysis Completed. Result: ") + spec::analysisPhaseName(phase);
  e.warning = phase == AnalysisPhase::kError || phase == AnalysisPhase::kFailed;
  return e;
}

std::string trimSpace(std::string s) {
  auto b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\n");
  return s.substr(b, e - b + 1);
}

std::optional<Time> earliest(std::optional<Time> a, Time b) {
  if (!a || b < *a) return b;
  return a;
}

}  // namespace

bool phaseCompleted(AnalysisPhase phase) {
  return phase == AnalysisPhase::kSuccessful || phase == AnalysisPhase::kFailed ||
         phase == AnalysisPhase::kError || phase == AnalysisPhase::kInconclusive;
}

bool isWorse(AnalysisPhase current, AnalysisPhase candidate) {
  return severity(candidate) > severity(current);
}

Status validateMetric(const spec::Metric& metric) {
  MetricPlan plan;
  plan.metric = metric;
  return parseMetric(plan);
}

Status validateMetrics(const std::vector<spec::Metric>& metrics) {
  if (metrics.empty()) return makeError(ErrorCode::kInvalidArgument, "no metrics specified");
  for (size_t i = 0; i < metrics.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (metrics[j].name == metrics[i].name) {
        return makeError(
            ErrorCode::kInvalidArgument,
            "metrics[" + std::to_string(i) + "]: duplicate name '" + metrics[i].name + "'");
      }
    }
    Status s = validateMetric(metrics[i]);
    if (!s) {
      return makeError(ErrorCode::kInvalidArgument,
                       "metrics[" + std::to_string(i) + "]: " + s.error().message);
    }
  }
  return {};
}

Result<RunPlan> planRun(const spec::AnalysisRun& run) {
  auto argValues = resolveArgValues(run.spec.args, run.metadata.namespace_, nullptr, true);
  if (!argValues) {
    return makeError(ErrorCode::kInvalidArgument,
                     "Unable to resolve metric arguments: " + argValues.error().message);
  }
  RunPlan plan;
  std::vector<spec::Metric> resolved;
  for (const spec::Metric& m : run.spec.metrics) {
    auto sub = substituteArgs(m, argValues->values);
    if (!sub) {
      return makeError(ErrorCode::kInvalidArgument,
                       "Unable to resolve metric arguments: " + sub.error().message);
    }
    resolved.push_back(std::move(*sub));
  }
  if (Status s = validateMetrics(resolved); !s) {
    return makeError(ErrorCode::kInvalidArgument, "Analysis spec invalid: " + s.error().message);
  }
  plan.metrics.reserve(resolved.size());
  for (spec::Metric& m : resolved) {
    MetricPlan p;
    p.metric = std::move(m);
    (void)parseMetric(p);  // validated above
    plan.metrics.push_back(std::move(p));
  }
  for (size_t i = 0; i < run.spec.dryRun.size(); ++i) {
    int matches = 0;
    for (MetricPlan& p : plan.metrics) {
      if (regexMatches(run.spec.dryRun[i].metricName, p.metric.name)) {
        p.dryRun = true;
        ++matches;
      }
    }
    if (matches == 0) {
      return makeError(ErrorCode::kInvalidArgument, "Analysis spec invalid: dryRun[" +
                                                        std::to_string(i) +
                                                        "]: Rule didn't match any metric name(s)");
    }
  }
  for (size_t i = 0; i < run.spec.measurementRetention.size(); ++i) {
    const spec::MeasurementRetention& rule = run.spec.measurementRetention[i];
    int matches = 0;
    for (MetricPlan& p : plan.metrics) {
      if (regexMatches(rule.metricName, p.metric.name)) {
        p.retentionLimit = rule.limit > 0 ? rule.limit : kDefaultMeasurementHistoryLimit;
        ++matches;
      }
    }
    if (matches == 0) {
      return makeError(ErrorCode::kInvalidArgument, "Analysis spec invalid: measurementRetention[" +
                                                        std::to_string(i) +
                                                        "]: Rule didn't match any metric name(s)");
    }
  }
  return plan;
}

bool isTerminating(const spec::AnalysisRun& run) {
  if (run.spec.terminate) return true;
  for (const spec::MetricResult& r : run.status.metricResults) {
    if (r.dryRun) continue;
    if (r.phase == AnalysisPhase::kFailed || r.phase == AnalysisPhase::kError ||
        r.phase == AnalysisPhase::kInconclusive) {
      return true;
    }
  }
  return false;
}

std::vector<MetricTask> dueTasks(const spec::AnalysisRun& run, const RunPlan& plan, Time now) {
  std::vector<MetricTask> tasks;
  if (phaseCompleted(run.status.phase)) return tasks;
  const bool terminating = isTerminating(run);
  for (size_t i = 0; i < plan.metrics.size(); ++i) {
    const MetricPlan& p = plan.metrics[i];
    const spec::MetricResult* result = findResult(run, p.metric.name);
    if (result != nullptr && phaseCompleted(result->phase)) continue;
    const spec::Measurement* last = lastMeasurement(result);
    if (last != nullptr && !last->finishedAt) {
      // In flight. Argo waits for resumeAt even to terminate; ramp stops it at once.
      if (terminating) {
        tasks.push_back({i, TaskKind::kTerminate});
      } else if (!last->resumeAt || *last->resumeAt <= now) {
        tasks.push_back({i, TaskKind::kResume});
      }
      continue;
    }
    if (terminating) continue;
    if (last == nullptr) {
      if (p.initialDelay) {
        if (!run.status.startedAt) continue;
        if (*run.status.startedAt + *p.initialDelay > now) continue;
      }
      tasks.push_back({i, TaskKind::kRun});
      continue;
    }
    if (p.effectiveCount && result->count >= *p.effectiveCount) continue;
    Duration interval = kDefaultErrorRetryInterval;
    if (last->phase != AnalysisPhase::kError && p.interval) interval = *p.interval;
    if (*last->finishedAt + interval <= now) tasks.push_back({i, TaskKind::kRun});
  }
  return tasks;
}

spec::Measurement judgeValue(const spec::Metric& metric, const Value& value) {
  spec::Measurement m;
  m.value = formatValue(value);
  bool success = false;
  bool failure = false;
  const bool hasSuccess = !metric.successCondition.empty();
  const bool hasFailure = !metric.failureCondition.empty();
  if (hasSuccess) {
    auto r = evalCondition(metric.successCondition, value);
    if (!r) {
      m.phase = AnalysisPhase::kError;
      m.message = evalErrorMessage("successCondition", metric.successCondition, value, r.error());
      return m;
    }
    success = *r;
  }
  if (hasFailure) {
    auto r = evalCondition(metric.failureCondition, value);
    if (!r) {
      m.phase = AnalysisPhase::kError;
      m.message = evalErrorMessage("failureCondition", metric.failureCondition, value, r.error());
      return m;
    }
    failure = *r;
  }
  if (!hasSuccess && !hasFailure) {
    m.phase = AnalysisPhase::kSuccessful;
    return m;
  }
  if (hasSuccess && !hasFailure) failure = !success;
  if (!hasSuccess && hasFailure) success = !failure;
  if (failure) {
    m.phase = AnalysisPhase::kFailed;
  } else if (!success) {
    m.phase = AnalysisPhase::kInconclusive;
  } else {
    m.phase = AnalysisPhase::kSuccessful;
  }
  return m;
}

void recordMeasurement(spec::AnalysisRun& run, const MetricPlan& metricPlan, spec::Measurement m,
                       bool replacesInFlight, Time now) {
  spec::MetricResult* result = findResult(run, metricPlan.metric.name);
  if (result == nullptr) {
    spec::MetricResult fresh;
    fresh.name = metricPlan.metric.name;
    fresh.phase = AnalysisPhase::kRunning;
    fresh.dryRun = metricPlan.dryRun;
    run.status.metricResults.push_back(std::move(fresh));
    result = &run.status.metricResults.back();
  }
  if (!m.startedAt) m.startedAt = now;
  if (phaseCompleted(m.phase)) {
    if (!m.finishedAt) m.finishedAt = now;
    m.resumeAt.reset();
    switch (m.phase) {
      case AnalysisPhase::kSuccessful:
        ++result->successful;
        ++result->count;
        result->consecutiveError = 0;
        ++result->consecutiveSuccess;
        break;
      case AnalysisPhase::kFailed:
        ++result->failed;
        ++result->count;
        result->consecutiveError = 0;
        result->consecutiveSuccess = 0;
        break;
      case AnalysisPhase::kInconclusive:
        ++result->inconclusive;
        ++result->count;
        result->consecutiveError = 0;
        result->consecutiveSuccess = 0;
        break;
      case AnalysisPhase::kError:
        ++result->error;
        ++result->consecutiveError;
        result->consecutiveSuccess = 0;
        break;
      default: break;
    }
  } else {
    m.finishedAt.reset();
  }
  if (replacesInFlight && !result->measurements.empty()) {
    result->measurements.back() = std::move(m);
  } else {
    result->measurements.push_back(std::move(m));
  }
}

AnalysisPhase assessMetricStatus(const MetricPlan& p, const spec::MetricResult& r,
                                 bool terminating) {
  if (phaseCompleted(r.phase)) return r.phase;
  if (r.measurements.empty()) {
    return terminating ? AnalysisPhase::kSuccessful : AnalysisPhase::kPending;
  }
  if (!phaseCompleted(r.measurements.back().phase)) return AnalysisPhase::kRunning;
  auto [breached, message] = limitsBreached(p, r);
  if (breached != AnalysisPhase::kNone) return breached;
  if (p.consecutiveSuccessLimit > 0 && r.consecutiveSuccess >= p.consecutiveSuccessLimit) {
    return AnalysisPhase::kSuccessful;
  }
  if (p.effectiveCount && r.count >= *p.effectiveCount) {
    if (p.consecutiveSuccessLimit > 0) {
      return p.failureLimit >= 0 ? AnalysisPhase::kInconclusive : AnalysisPhase::kFailed;
    }
    return AnalysisPhase::kSuccessful;
  }
  return terminating ? AnalysisPhase::kSuccessful : AnalysisPhase::kRunning;
}

PhaseEvent failRun(spec::AnalysisRun& run, const std::string& message, Time now) {
  run.status.phase = AnalysisPhase::kError;
  run.status.message = message;
  if (!run.status.completedAt) run.status.completedAt = now;
  return runEvent(AnalysisPhase::kError);
}

Assessment assess(spec::AnalysisRun& run, const RunPlan& plan, Time now) {
  Assessment out;
  if (phaseCompleted(run.status.phase)) {
    out.phase = run.status.phase;
    out.completed = true;
    return out;
  }
  const bool terminating = isTerminating(run);
  if (!run.status.startedAt) run.status.startedAt = now;

  AnalysisPhase worst = AnalysisPhase::kNone;
  std::string worstMessage = run.spec.terminate ? "Run Terminated" : "";
  bool everythingCompleted = true;
  spec::RunSummary summary;
  spec::RunSummary dryRunSummary;

  for (const MetricPlan& p : plan.metrics) {
    if (p.dryRun) {
      ++dryRunSummary.count;
    } else {
      ++summary.count;
    }
    spec::MetricResult* result = findResult(run, p.metric.name);
    if (result == nullptr) {
      everythingCompleted = false;  // not started yet (initialDelay)
      continue;
    }
    AnalysisPhase status = assessMetricStatus(p, *result, terminating);
    if (result->phase != status) {
      if (phaseCompleted(status)) {
        PhaseEvent e;
        e.reason = std::string("Metric") + spec::analysisPhaseName(status);
        e.metric = p.metric.name;
        e.phase = status;
        e.message =
            "Metric '" + p.metric.name + "' Completed. Result: " + spec::analysisPhaseName(status);
        e.warning = status == AnalysisPhase::kError || status == AnalysisPhase::kFailed;
        out.events.push_back(std::move(e));
      }
      if (!result->measurements.empty()) result->message = result->measurements.back().message;
      result->phase = status;
    }
    if (!phaseCompleted(status)) {
      everythingCompleted = false;
      continue;
    }
    auto [limitPhase, message] = limitsBreached(p, *result);
    if (message.empty() && status != AnalysisPhase::kSuccessful && p.consecutiveSuccessLimit > 0 &&
        p.effectiveCount && result->count >= *p.effectiveCount) {
      message = consecutiveSuccessShortfall(p, *result);
    }
    if (!p.dryRun) {
      if (worst == AnalysisPhase::kNone || isWorse(worst, status)) {
        worst = status;
        if (!message.empty()) {
          worstMessage = "Metric \"" + p.metric.name + "\" assessed " +
                         spec::analysisPhaseName(status) + " due to " + message;
          if (!result->message.empty()) {
            worstMessage += ": \"Error Message: " + result->message + "\"";
          }
        }
      }
      countPhase(summary, status);
    } else {
      if (worst == AnalysisPhase::kNone) worst = AnalysisPhase::kSuccessful;
      if (!message.empty()) {
        result->message = std::string("Metric assessed ") + spec::analysisPhaseName(status) +
                          " due to " + message;
      }
      countPhase(dryRunSummary, status);
    }
  }
  run.status.runSummary = summary;
  run.status.dryRunSummary = dryRunSummary;
  worstMessage = trimSpace(worstMessage);

  AnalysisPhase phase;
  std::string message;
  if (terminating) {
    phase = worst == AnalysisPhase::kNone ? AnalysisPhase::kSuccessful : worst;
    message = worstMessage;
  } else if (!everythingCompleted || worst == AnalysisPhase::kNone) {
    phase = AnalysisPhase::kRunning;
  } else {
    phase = worst;
    message = worstMessage;
  }
  if (phase != run.status.phase) {
    run.status.phase = phase;
    run.status.message = message;
    if (phaseCompleted(phase)) {
      run.status.completedAt = now;
      out.events.push_back(runEvent(phase));
    }
  }

  // Trim history (Argo's garbageCollectMeasurements).
  for (const MetricPlan& p : plan.metrics) {
    spec::MetricResult* result = findResult(run, p.metric.name);
    if (result == nullptr) continue;
    auto limit = static_cast<size_t>(p.retentionLimit);
    if (result->measurements.size() > limit) {
      result->measurements.erase(result->measurements.begin(),
                                 result->measurements.end() - static_cast<ptrdiff_t>(limit));
    }
  }

  out.phase = run.status.phase;
  out.completed = phaseCompleted(run.status.phase);
  if (out.completed) return out;

  // Next due time (Argo's calculateNextReconcileTime). A run that became terminating during
  // this pass is due again at once: the next pass stops in-flight work and completes it (Argo
  // gets there through the watch event its own status update triggers).
  if (isTerminating(run)) {
    out.nextDue = now;
    return out;
  }
  for (const MetricPlan& p : plan.metrics) {
    const spec::MetricResult* result = findResult(run, p.metric.name);
    if (result != nullptr && phaseCompleted(result->phase)) continue;
    const spec::Measurement* last = lastMeasurement(result);
    if (last == nullptr) {
      if (p.initialDelay) {
        Time start = run.status.startedAt.value_or(now);
        out.nextDue = earliest(out.nextDue, start + *p.initialDelay);
      }
      continue;
    }
    if (!last->finishedAt) {
      if (last->resumeAt) out.nextDue = earliest(out.nextDue, *last->resumeAt);
      continue;
    }
    if (p.effectiveCount && result->count >= *p.effectiveCount) continue;
    std::optional<Duration> interval;
    if (last->phase == AnalysisPhase::kError) {
      interval = kDefaultErrorRetryInterval;
    } else if (p.interval) {
      interval = p.interval;
    }
    if (!interval) continue;
    out.nextDue = earliest(out.nextDue, *last->finishedAt + *interval);
  }
  return out;
}

}  // namespace ramp::analysis
