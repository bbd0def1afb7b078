#include "controller/writes.h"

#include <nlohmann/json.hpp>

#include "controller/controller.h"
#include "spec/codec.h"
#include "spec/kinds.h"

namespace ramp::controller {

namespace {

constexpr const char* kAnalysisRun = spec::kindInfo(spec::Kind::kAnalysisRun).name;

}  // namespace

store::Event toStoreEvent(const rollout::Event& event, const store::ObjectKey& object, Time now,
                          const std::string& actor) {
  store::Event out;
  out.time = now;
  out.object = object;
  out.type = event.type == "Warning" ? store::EventType::kWarning : store::EventType::kNormal;
  out.reason = event.reason;
  out.message = event.message;
  if (!event.evidence.empty()) out.evidence = nlohmann::json(event.evidence).dump();
  out.actor = actor;
  return out;
}

std::vector<store::Event> runEvents(const analysis::RunPassOutcome& outcome,
                                    const store::ObjectKey& object, Time now,
                                    const std::string& actor) {
  std::vector<store::Event> events;
  for (const auto& pe : outcome.events) {
    store::Event e;
    e.time = now;
    e.object = object;
    e.type = pe.warning ? store::EventType::kWarning : store::EventType::kNormal;
    e.reason = pe.reason;
    e.message = pe.message;
    nlohmann::json evidence = nlohmann::json::object();
    if (!pe.metric.empty()) evidence["metric"] = pe.metric;
    evidence["phase"] = spec::analysisPhaseName(pe.phase);
    // The last measurement of the metric is the evidence behind its phase.
    for (auto it = outcome.measurements.rbegin(); it != outcome.measurements.rend(); ++it) {
      if (it->metric != pe.metric) continue;
      evidence["value"] = it->measurement.value;
      if (!it->measurement.message.empty()) evidence["message"] = it->measurement.message;
      break;
    }
    e.evidence = evidence.dump();
    e.actor = actor;
    events.push_back(std::move(e));
  }
  return events;
}

RolloutWrites rolloutWrites(const StoredRollout& stored, const rollout::Plan& plan, Time now,
                            const std::string& actor) {
  RolloutWrites out;
  const store::ObjectKey& key = stored.key;
  const auto runKey = [&](const std::string& name) {
    return store::ObjectKey{kAnalysisRun, key.namespace_, name};
  };
  for (const auto& action : plan.actions) {
    if (const auto* create = std::get_if<rollout::CreateAnalysisRun>(&action)) {
      spec::AnalysisRun run = create->run;
      run.metadata.labels[kOwnerLabel] = key.name;
      out.ops.push_back(
          {store::WriteOp::Type::kPut, runKey(run.metadata.name), spec::toJson(run), 0});
      out.createdRuns.push_back(run.metadata.name);
    }
  }
  // Only the status changes, so the text is the stored head plus the new status.
  out.statusChanged = plan.status != stored.rollout->status;
  if (out.statusChanged) {
    out.statusOp = out.ops.size();
    out.ops.push_back({store::WriteOp::Type::kPut, key,
                       spec::rolloutJsonWithStatus(stored.jsonHead, plan.status), stored.version});
  }
  for (const auto& action : plan.actions) {
    if (std::holds_alternative<rollout::CreateAnalysisRun>(action)) {
      continue;  // written above, before the status
    } else if (const auto* terminate = std::get_if<rollout::TerminateAnalysisRun>(&action)) {
      if (stored.runs == nullptr || stored.runVersions == nullptr) continue;
      for (const auto& run : *stored.runs) {
        if (run.metadata.name != terminate->name || run.spec.terminate) continue;
        auto version = stored.runVersions->find(run.metadata.name);
        if (version == stored.runVersions->end()) continue;
        spec::AnalysisRun next = run;
        next.spec.terminate = true;
        out.ops.push_back({store::WriteOp::Type::kPut, runKey(run.metadata.name),
                           spec::toJson(next), version->second});
      }
    } else if (const auto* del = std::get_if<rollout::DeleteAnalysisRun>(&action)) {
      if (stored.runVersions == nullptr) continue;
      auto version = stored.runVersions->find(del->name);
      if (version == stored.runVersions->end()) continue;
      store::WriteOp op;
      op.type = store::WriteOp::Type::kDelete;
      op.key = runKey(del->name);
      op.expectedVersion = version->second;
      out.ops.push_back(std::move(op));
    }
  }
  for (const auto& e : plan.events) out.events.push_back(toStoreEvent(e, key, now, actor));
  return out;
}

}  // namespace ramp::controller
