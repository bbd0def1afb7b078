// How a Rollout creates, watches, terminates and garbage-collects its AnalysisRuns (Argo's
// rollout/analysis.go and utils/analysis/factory.go).

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "rollout/context.h"
#include "spec/codec.h"

namespace ramp::rollout::internal {
namespace {

using json = nlohmann::json;

bool completed(spec::AnalysisPhase p) {
  return p == spec::AnalysisPhase::kSuccessful || p == spec::AnalysisPhase::kFailed ||
         p == spec::AnalysisPhase::kError || p == spec::AnalysisPhase::kInconclusive;
}

const spec::AnalysisTemplate* findTemplate(const Context& c, const spec::AnalysisTemplateRef& ref) {
  for (const auto& t : c.observed.templates)
    if (t.metadata.name == ref.templateName && t.clusterScoped == ref.clusterScope) return &t;
  return nullptr;
}

// Collects `ref` and the templates it references, each once, namespaced before cluster-scoped.
Result<void> collectTemplates(const Context& c, const spec::AnalysisTemplateRef& ref,
                              std::vector<const spec::AnalysisTemplate*>& out,
                              std::vector<std::string>& path) {
  const std::string key = (ref.clusterScope ? "cluster/" : "") + ref.templateName;
  if (std::find(path.begin(), path.end(), key) != path.end())
    return makeError(ErrorCode::kInvalidArgument, "template reference cycle at " + key);
  const spec::AnalysisTemplate* t = findTemplate(c, ref);
  if (!t) {
    return makeError(ErrorCode::kNotFound, std::string(ref.clusterScope ? "ClusterAnalysisTemplate"
                                                                        : "AnalysisTemplate") +
                                               " '" + ref.templateName + "' not found");
  }
  if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  path.push_back(key);
  for (const auto& nested : t->spec.templates) {
    auto r = collectTemplates(c, nested, out, path);
    if (!r) return r;
  }
  path.pop_back();
  return {};
}

// Walks "a.b[0].c" or "metadata.labels['k']" through the Rollout's JSON to a primitive.
Result<std::string> resolveFieldPath(const spec::Rollout& rollout, const std::string& path) {
  json doc = json::parse(spec::toJson(rollout), nullptr, false);
  const json* cur = &doc;
  size_t i = 0;
  auto fail = [&]() {
    return makeError(ErrorCode::kInvalidArgument,
                     "fieldRef '" + path + "' does not resolve to a value in the Rollout");
  };
  while (i < path.size()) {
    if (path[i] == '.') {
      ++i;
      continue;
    }
    if (path[i] == '[') {
      const size_t close = path.find(']', i);
      if (close == std::string::npos) return fail();
      std::string inner = path.substr(i + 1, close - i - 1);
      i = close + 1;
      if (!inner.empty() && (inner.front() == '\'' || inner.front() == '"')) {
        inner = inner.substr(1, inner.size() >= 2 ? inner.size() - 2 : 0);
        if (!cur->is_object() || !cur->contains(inner)) return fail();
        cur = &(*cur)[inner];
      } else {
        if (!cur->is_array()) return fail();
        size_t idx = 0;
        try {
          idx = std::stoul(inner);
        } catch (...) {
          return fail();
        }
        if (idx >= cur->size()) return fail();
        cur = &(*cur)[idx];
      }
      continue;
    }
    const size_t end = path.find_first_of(".[", i);
    const std::string key = path.substr(i, end == std::string::npos ? std::string::npos : end - i);
    i = end == std::string::npos ? path.size() : end;
    if (!cur->is_object() || !cur->contains(key)) return fail();
    cur = &(*cur)[key];
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_number() || cur->is_boolean()) return cur->dump();
  return fail();
}

// Resolves the Rollout-side valueFrom of `args` (podTemplateHashValue, fieldRef); secret
// references stay for the analysis engine to read at measurement time.
Result<std::vector<spec::Argument>> rolloutArgs(const Context& c,
                                                const std::vector<spec::Argument>& args) {
  std::vector<spec::Argument> out;
  for (spec::Argument a : args) {
    if (a.valueFrom && a.valueFrom->podTemplateHashValue) {
      const std::string& which = *a.valueFrom->podTemplateHashValue;
      if (which == "Stable") {
        a.value = c.old.stableRS;
      } else if (which == "Latest") {
        a.value = c.podHash;
      } else {
        return makeError(ErrorCode::kInvalidArgument,
                         "args." + a.name + ": podTemplateHashValue must be Stable or Latest");
      }
      a.valueFrom.reset();
    } else if (a.valueFrom && a.valueFrom->fieldRef) {
      auto v = resolveFieldPath(c.rollout, a.valueFrom->fieldRef->fieldPath);
      if (!v) return std::unexpected(v.error());
      a.value = *v;
      a.valueFrom.reset();
    }
    out.push_back(std::move(a));
  }
  return out;
}

Result<spec::AnalysisRunSpec> buildRunSpec(const Context& c,
                                           const spec::RolloutAnalysis& analysis) {
  std::vector<const spec::AnalysisTemplate*> templates;
  for (const auto& ref : analysis.templates) {
    std::vector<std::string> path;
    auto r = collectTemplates(c, ref, templates, path);
    if (!r) return std::unexpected(r.error());
  }
  std::stable_partition(templates.begin(), templates.end(),
                        [](const spec::AnalysisTemplate* t) { return !t->clusterScoped; });
  spec::AnalysisRunSpec run;
  std::set<std::string> metricNames;
  for (const auto* t : templates) {
    for (const auto& m : t->spec.metrics) {
      if (!metricNames.insert(m.name).second)
        return makeError(ErrorCode::kInvalidArgument,
                         "two metrics have the same name '" + m.name + "'");
      run.metrics.push_back(m);
    }
    for (const auto& a : t->spec.args) {
      auto it = std::find_if(run.args.begin(), run.args.end(),
                             [&](const spec::Argument& x) { return x.name == a.name; });
      if (it == run.args.end()) {
        run.args.push_back(a);
      } else if (a.value && it->value && *a.value != *it->value) {
        return makeError(ErrorCode::kInvalidArgument,
                         "Argument `" + a.name +
                             "` specified multiple times with different "
                             "values: '" +
                             *it->value + "', '" + *a.value + "'");
      } else if (!it->value && !it->valueFrom) {
        *it = a;
      }
    }
    run.dryRun.insert(run.dryRun.end(), t->spec.dryRun.begin(), t->spec.dryRun.end());
    run.measurementRetention.insert(run.measurementRetention.end(),
                                    t->spec.measurementRetention.begin(),
                                    t->spec.measurementRetention.end());
  }
  auto incoming = rolloutArgs(c, analysis.args);
  if (!incoming) return std::unexpected(incoming.error());
  // Rollout args fill the declared args by name; undeclared ones are ignored (as in Argo).
  for (auto& declared : run.args) {
    for (const auto& in : *incoming) {
      if (in.name != declared.name) continue;
      if (in.value || in.valueFrom) {
        declared.value = in.value;
        declared.valueFrom = in.valueFrom;
      }
    }
    if (!declared.value && !declared.valueFrom)
      return makeError(ErrorCode::kInvalidArgument, "args." + declared.name + " was not resolved");
  }
  run.dryRun.insert(run.dryRun.end(), analysis.dryRun.begin(), analysis.dryRun.end());
  run.measurementRetention.insert(run.measurementRetention.end(),
                                  analysis.measurementRetention.begin(),
                                  analysis.measurementRetention.end());
  return run;
}

bool nameTaken(const Context& c, const std::string& name) {
  for (const auto& r : c.observed.analysisRuns)
    if (r.metadata.name == name) return true;
  for (const auto& a : c.plan.actions)
    if (auto* cr = std::get_if<CreateAnalysisRun>(&a); cr && cr->run.metadata.name == name)
      return true;
  return false;
}

}  // namespace

spec::AnalysisPhase CurrentRun::phase() const {
  if (run) return run->status.phase;
  return status ? status->status : spec::AnalysisPhase::kNone;
}

std::string CurrentRun::name() const {
  if (run) return run->metadata.name;
  return status ? status->name : "";
}

CurrentRun findRun(const Context& c, const std::optional<spec::RolloutAnalysisRunStatus>& s) {
  CurrentRun cur;
  if (!s || s->name.empty()) return cur;
  cur.status = s;
  for (const auto& r : c.observed.analysisRuns)
    if (r.metadata.name == s->name) cur.run = &r;
  return cur;
}

bool needsNewAnalysisRun(const Context& c, const CurrentRun& current) {
  if (!current.exists()) return true;
  // Paused for an inconclusive run (not at a pause step or the blue-green pause, which set
  // controllerPause too): a new run only once a user resumed. Otherwise the inconclusive run
  // still has to pause the rollout.
  if (c.old.controllerPause && !c.oldPause(spec::kPauseReasonCanaryPauseStep) &&
      !c.oldPause(spec::kPauseReasonBlueGreenPause))
    return current.phase() == spec::AnalysisPhase::kInconclusive;
  return c.old.abortedAt.has_value();
}

void forgetRunsBeforeAbort(Context& c) {
  if (!c.retrying()) return;
  c.next.canary.currentStepAnalysisRunStatus.reset();
  c.next.canary.currentBackgroundAnalysisRunStatus.reset();
  c.next.blueGreen.prePromotionAnalysisRunStatus.reset();
  c.next.blueGreen.postPromotionAnalysisRunStatus.reset();
}

bool passedGate(const Context& c, const std::optional<spec::RolloutAnalysisRunStatus>& s) {
  if (!s || s->status != spec::AnalysisPhase::kSuccessful) return false;
  for (const auto& r : c.observed.analysisRuns)
    if (r.metadata.name == s->name && r.spec.terminate) return false;
  return true;
}

std::optional<spec::RolloutAnalysisRunStatus> createAnalysisRun(
    Context& c, const spec::RolloutAnalysis& analysis, const std::string& infix,
    const std::string& type, std::optional<int32_t> stepIndex) {
  auto runSpec = buildRunSpec(c, analysis);
  if (!runSpec) {
    const std::string message = type + " analysis cannot start: " + runSpec.error().message;
    setCondition(c.next, newCondition(spec::kConditionInvalidSpec, "True", kReasonInvalidSpec,
                                      message, c.now));
    c.event("Warning", "AnalysisRunError", message, {{"rolloutType", type}});
    return std::nullopt;
  }
  spec::AnalysisRun run;
  std::string name = c.rollout.metadata.name + "-" + c.podHash + "-" + std::to_string(c.revision);
  if (!infix.empty()) name += "-" + infix;
  const std::string base = name;
  for (int n = 1; nameTaken(c, name); ++n) {
    // A run of this rollout under the name, still running the same spec, is this one: its
    // status was not recorded (a controller stopped between creating the run and writing the
    // Rollout, or read a stale Rollout). Adopted, not started again (Argo's
    // CreateWithCollisionCounter in utils/analysis/helpers.go).
    for (const auto& r : c.observed.analysisRuns) {
      if (r.metadata.name == name && !completed(r.status.phase) && !r.spec.terminate &&
          r.spec == *runSpec) {
        return spec::RolloutAnalysisRunStatus{name, r.status.phase, r.status.message};
      }
    }
    name = base + "." + std::to_string(n);
  }
  run.metadata.name = name;
  run.metadata.namespace_ = c.rollout.metadata.namespace_;
  run.metadata.labels[kPodTemplateHashLabel] = c.podHash;
  run.metadata.labels[kRolloutTypeLabel] = type;
  if (stepIndex) run.metadata.labels[kStepIndexLabel] = std::to_string(*stepIndex);
  // The Rollout's controller instance, so the run stays with that controller (Argo's
  // GetInstanceID + *Labels in utils/analysis/factory.go).
  if (auto id = c.rollout.metadata.labels.find(kControllerInstanceIdLabel);
      id != c.rollout.metadata.labels.end()) {
    run.metadata.labels[kControllerInstanceIdLabel] = id->second;
  }
  if (analysis.analysisRunMetadata)
    for (const auto& [k, v] : analysis.analysisRunMetadata->labels) run.metadata.labels[k] = v;
  if (c.spec.selector)
    for (const auto& [k, v] : c.spec.selector->matchLabels) run.metadata.labels[k] = v;
  run.metadata.annotations[kRevisionAnnotation] = std::to_string(c.revision);
  if (analysis.analysisRunMetadata)
    for (const auto& [k, v] : analysis.analysisRunMetadata->annotations)
      run.metadata.annotations[k] = v;
  run.metadata.creationTimestamp = c.now;
  run.spec = std::move(*runSpec);
  c.action(CreateAnalysisRun{run});
  c.event("Normal", "AnalysisRunCreated", "Created " + type + " AnalysisRun '" + name + "'",
          {{"analysisRun", name},
           {"rolloutType", type},
           {"stepIndex", stepIndex ? std::to_string(*stepIndex) : ""}});
  return spec::RolloutAnalysisRunStatus{name, spec::AnalysisPhase::kNone, ""};
}

void terminateRun(Context& c, const CurrentRun& run) {
  if (!run.exists()) return;
  if (run.run && (run.run->spec.terminate || completed(run.run->status.phase))) return;
  if (!run.run && completed(run.phase())) return;
  c.action(TerminateAnalysisRun{run.name()});
}

std::map<std::string, std::string> runEvidence(const spec::AnalysisRun& run) {
  std::map<std::string, std::string> ev{{"analysisRun", run.metadata.name},
                                        {"phase", spec::analysisPhaseName(run.status.phase)}};
  if (!run.status.message.empty()) ev["message"] = run.status.message;
  for (const auto& m : run.status.metricResults) {
    if (m.dryRun) continue;
    if (m.phase != spec::AnalysisPhase::kFailed && m.phase != spec::AnalysisPhase::kError &&
        m.phase != spec::AnalysisPhase::kInconclusive)
      continue;
    ev["metric"] = m.name;
    ev["metricPhase"] = spec::analysisPhaseName(m.phase);
    if (!m.message.empty()) ev["metricMessage"] = m.message;
    ev["failed"] = std::to_string(m.failed);
    ev["inconclusive"] = std::to_string(m.inconclusive);
    ev["errors"] = std::to_string(m.error);
    if (!m.measurements.empty()) {
      ev["measuredValue"] = m.measurements.back().value;
      if (!m.measurements.back().message.empty())
        ev["measurementMessage"] = m.measurements.back().message;
    }
    for (const auto& spec : run.spec.metrics) {
      if (spec.name != m.name) continue;
      if (!spec.failureCondition.empty()) ev["failureCondition"] = spec.failureCondition;
      if (!spec.successCondition.empty()) ev["successCondition"] = spec.successCondition;
    }
    break;
  }
  return ev;
}

void pauseOrAbortOn(Context& c, const CurrentRun& run, const std::string& type) {
  switch (run.phase()) {
    case spec::AnalysisPhase::kInconclusive: c.pause(spec::kPauseReasonInconclusiveAnalysis); break;
    case spec::AnalysisPhase::kFailed:
    case spec::AnalysisPhase::kError: {
      std::map<std::string, std::string> ev =
          run.run ? runEvidence(*run.run)
                  : std::map<std::string, std::string>{{"analysisRun", run.name()}};
      ev["rolloutType"] = type;
      std::string message = run.run ? run.run->status.message : run.status->message;
      if (message.empty())
        message = "AnalysisRun '" + run.name() + "' " + spec::analysisPhaseName(run.phase());
      c.abort(message, ev);
      break;
    }
    default: break;
  }
}

void emitRunStatusChange(Context& c, const std::optional<spec::RolloutAnalysisRunStatus>& prev,
                         const std::optional<spec::RolloutAnalysisRunStatus>& cur,
                         const std::string& type) {
  if (!cur || cur->status == spec::AnalysisPhase::kNone) return;
  if (prev && (prev->name != cur->name || prev->status == cur->status)) return;
  const std::string previous = prev ? spec::analysisPhaseName(prev->status) : "NoPreviousStatus";
  const std::string phase = spec::analysisPhaseName(cur->status);
  const bool bad =
      cur->status == spec::AnalysisPhase::kFailed || cur->status == spec::AnalysisPhase::kError;
  std::map<std::string, std::string> ev{{"analysisRun", cur->name}, {"rolloutType", type}};
  for (const auto& r : c.observed.analysisRuns)
    if (r.metadata.name == cur->name) ev = runEvidence(r), ev["rolloutType"] = type;
  c.event(bad ? "Warning" : "Normal", "AnalysisRun" + phase,
          type + " Analysis Run '" + cur->name + "' Status New: '" + phase + "' Previous: '" +
              (previous.empty() ? std::string("NoPreviousStatus") : previous) + "'",
          ev);
}

void cancelAndCollectOtherRuns(Context& c, const std::vector<std::string>& currentNames) {
  std::vector<const spec::AnalysisRun*> others;
  for (const auto& r : c.observed.analysisRuns) {
    if (std::find(currentNames.begin(), currentNames.end(), r.metadata.name) != currentNames.end())
      continue;
    others.push_back(&r);
    if (!r.spec.terminate && !completed(r.status.phase))
      c.action(TerminateAnalysisRun{r.metadata.name});
  }
  // History limits: keep the newest N successful and M unsuccessful completed runs.
  std::sort(others.begin(), others.end(),
            [](const spec::AnalysisRun* a, const spec::AnalysisRun* b) {
              const Time ta = a->metadata.creationTimestamp.value_or(Time{});
              const Time tb = b->metadata.creationTimestamp.value_or(Time{});
              if (ta != tb) return ta > tb;
              return a->metadata.name > b->metadata.name;
            });
  int32_t successful = 0, unsuccessful = 0;
  const int32_t keepOk = spec::successfulRunHistoryLimitOrDefault(c.spec);
  const int32_t keepBad = spec::unsuccessfulRunHistoryLimitOrDefault(c.spec);
  for (const auto* r : others) {
    if (!completed(r->status.phase)) continue;
    if (r->status.phase == spec::AnalysisPhase::kSuccessful) {
      if (++successful > keepOk) c.action(DeleteAnalysisRun{r->metadata.name});
    } else if (++unsuccessful > keepBad) {
      c.action(DeleteAnalysisRun{r->metadata.name});
    }
  }
}

}  // namespace ramp::rollout::internal
