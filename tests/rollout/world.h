#pragma once

// Test support for the rollout core: Rollouts from YAML, and a tiny simulated world that applies
// a Plan's actions the way a well-behaved platform would (scaled replicas become available at
// once unless the revision is marked broken), so multi-step scenarios can be driven reconcile
// by reconcile on fixed times. No clock reads: tests move `now` explicitly.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "rollout/engine.h"
#include "rollout/operations.h"
#include "spec/codec.h"

namespace ramp::rollout::testing {

inline Time t0() { return Time(Duration(1767225600000)); }  // 2026-01-01T00:00:00Z
inline Time at(int64_t seconds) { return t0() + std::chrono::seconds(seconds); }

inline spec::Rollout parseRollout(const std::string& yaml) {
  spec::ParseOutput out = spec::parseDocuments(yaml, "test.yaml");
  for (const auto& d : out.diagnostics) ADD_FAILURE() << d.message;
  EXPECT_EQ(out.documents.size(), 1u);
  if (out.documents.empty()) return {};
  spec::Rollout r = std::get<spec::Rollout>(out.documents.front().object);
  r.metadata.generation = 1;
  return r;
}

inline spec::AnalysisTemplate parseTemplate(const std::string& yaml) {
  spec::ParseOutput out = spec::parseDocuments(yaml, "template.yaml");
  for (const auto& d : out.diagnostics) ADD_FAILURE() << d.message;
  EXPECT_EQ(out.documents.size(), 1u);
  if (out.documents.empty()) return {};
  return std::get<spec::AnalysisTemplate>(out.documents.front().object);
}

// A manifest with a canary strategy; `strategy` is the YAML under `canary:` (indented 6).
inline std::string canaryYaml(const std::string& strategy, int replicas = 5,
                              const std::string& image = "demo:v1",
                              const std::string& extraSpec = "") {
  return "apiVersion: argoproj.io/v1alpha1\n"
         "kind: Rollout\n"
         "metadata:\n"
         "  name: demo\n"
         "spec:\n"
         "  replicas: " +
         std::to_string(replicas) + "\n" + extraSpec +
         "  selector:\n"
         "    matchLabels: {app: demo}\n"
         "  template:\n"
         "    metadata:\n"
         "      labels: {app: demo}\n"
         "    spec:\n"
         "      containers:\n"
         "      - name: app\n"
         "        image: " +
         image +
         "\n"
         "  strategy:\n"
         "    canary:\n" +
         strategy;
}

inline std::string blueGreenYaml(const std::string& strategy, int replicas = 3,
                                 const std::string& image = "demo:v1") {
  return "apiVersion: argoproj.io/v1alpha1\n"
         "kind: Rollout\n"
         "metadata:\n"
         "  name: demo\n"
         "spec:\n"
         "  replicas: " +
         std::to_string(replicas) +
         "\n"
         "  selector:\n"
         "    matchLabels: {app: demo}\n"
         "  template:\n"
         "    metadata:\n"
         "      labels: {app: demo}\n"
         "    spec:\n"
         "      containers:\n"
         "      - name: app\n"
         "        image: " +
         image +
         "\n"
         "  strategy:\n"
         "    blueGreen:\n" +
         strategy;
}

inline void setImage(spec::Rollout& r, const std::string& image) {
  r.spec.template_->spec.containers.at(0).image = image;
  r.metadata.generation++;
}

template <class T>
std::vector<T> actionsOf(const Plan& p) {
  std::vector<T> out;
  for (const auto& a : p.actions)
    if (const T* x = std::get_if<T>(&a)) out.push_back(*x);
  return out;
}

inline std::vector<std::string> reasons(const Plan& p) {
  std::vector<std::string> out;
  for (const auto& e : p.events) out.push_back(e.reason);
  return out;
}

inline const Event* findEvent(const Plan& p, const std::string& reason) {
  for (const auto& e : p.events)
    if (e.reason == reason) return &e;
  return nullptr;
}

inline std::string phaseOf(const Plan& p) { return spec::rolloutPhaseName(p.status.phase); }

// The simulated platform + store: holds the Rollout (spec + status), the revisions, the
// AnalysisRuns, and applies plans.
struct World {
  spec::Rollout rollout;
  Observed observed;
  std::vector<std::string> brokenHashes;  // replicas of these never become available
  std::vector<std::string> crashLooping;  // and are reported as crash-looping
  std::vector<Plan> history;
  Time now = t0();
  int restarts = 0;  // RestartReplica actions that replaced a replica

  platform::ObservedRevision* revision(const std::string& hash) {
    for (auto& r : observed.workload.revisions)
      if (r.podTemplateHash == hash) return &r;
    return nullptr;
  }
  spec::AnalysisRun* run(const std::string& name) {
    for (auto& r : observed.analysisRuns)
      if (r.metadata.name == name) return &r;
    return nullptr;
  }
  bool broken(const std::string& hash) const {
    return std::find(brokenHashes.begin(), brokenHashes.end(), hash) != brokenHashes.end();
  }

  void apply(const Plan& p) {
    rollout.status = p.status;
    for (const auto& a : p.actions) {
      if (const auto* e = std::get_if<EnsureRevision>(&a)) {
        if (auto* r = revision(e->hash)) {
          r->revision = e->revision;
        } else {
          platform::ObservedRevision created;
          created.podTemplateHash = e->hash;
          created.revision = e->revision;
          created.template_ = e->template_;
          created.createdAt = now;
          observed.workload.revisions.push_back(created);
        }
      } else if (const auto* s = std::get_if<ScaleRevision>(&a)) {
        auto* r = revision(s->hash);
        ASSERT_NE(r, nullptr) << "scale of unknown revision " << s->hash;
        r->desiredReplicas = s->replicas;
        r->currentReplicas = s->replicas;
        r->replicaStartedAt.resize(static_cast<size_t>(s->replicas), now);  // newest go first
        const bool ok = !broken(s->hash);
        r->readyReplicas = ok ? s->replicas : 0;
        r->availableReplicas = ok ? s->replicas : 0;
        r->crashLoopingReplicas =
            std::find(crashLooping.begin(), crashLooping.end(), s->hash) != crashLooping.end()
                ? s->replicas
                : 0;
      } else if (const auto* rr = std::get_if<RestartReplica>(&a)) {
        // The oldest replica started before `before` is replaced by one started now, which is
        // not ready until replicasBecomeAvailable().
        auto* r = revision(rr->hash);
        ASSERT_NE(r, nullptr) << "restart of unknown revision " << rr->hash;
        auto& starts = r->replicaStartedAt;
        auto oldest = std::min_element(starts.begin(), starts.end());
        if (oldest == starts.end() || *oldest >= rr->before) continue;
        starts.erase(oldest);
        starts.push_back(now);
        r->readyReplicas = std::max(0, r->readyReplicas - 1);
        r->availableReplicas = std::max(0, r->availableReplicas - 1);
        ++restarts;
      } else if (const auto* d = std::get_if<SetScaleDownDeadline>(&a)) {
        if (auto* r = revision(d->hash)) r->scaleDownDeadline = d->deadline;
      } else if (const auto* rt = std::get_if<RetireRevision>(&a)) {
        std::erase_if(observed.workload.revisions, [&](const platform::ObservedRevision& r) {
          return r.podTemplateHash == rt->hash;
        });
      } else if (const auto* c = std::get_if<CreateAnalysisRun>(&a)) {
        spec::AnalysisRun run = c->run;
        run.status.phase = spec::AnalysisPhase::kRunning;
        observed.analysisRuns.push_back(run);
      } else if (const auto* t = std::get_if<TerminateAnalysisRun>(&a)) {
        if (auto* r = run(t->name)) {
          r->spec.terminate = true;
          if (r->status.phase == spec::AnalysisPhase::kRunning)
            r->status.phase = spec::AnalysisPhase::kSuccessful;
        }
      } else if (const auto* sw = std::get_if<ScaleWorkloadRef>(&a)) {
        ASSERT_TRUE(observed.referencedWorkload && observed.referencedWorkload->replicas)
            << "ScaleWorkloadRef without a referenced Deployment";
        observed.referencedWorkload->replicas = sw->replicas;
      } else if (const auto* del = std::get_if<DeleteAnalysisRun>(&a)) {
        std::erase_if(observed.analysisRuns,
                      [&](const spec::AnalysisRun& r) { return r.metadata.name == del->name; });
      }
    }
  }

  // Replicas replaced by RestartReplica become ready and available (except broken revisions).
  void replicasBecomeAvailable() {
    for (auto& r : observed.workload.revisions) {
      if (broken(r.podTemplateHash)) continue;
      r.readyReplicas = r.availableReplicas = r.currentReplicas;
    }
  }

  Plan step() {
    Plan p = reconcileRollout(rollout, observed, now);
    history.push_back(p);
    apply(p);
    return p;
  }

  // Reconciles until nothing more happens at this instant (no immediate requeue), at most n.
  Plan settle(int n = 30) {
    Plan p;
    for (int i = 0; i < n; ++i) {
      p = step();
      if (!p.requeueAfter || *p.requeueAfter > Duration(0)) {
        // One more pass to let the status catch up with the last actions.
        Plan q = reconcileRollout(rollout, observed, now);
        if (q.actions == p.actions && q.status.currentStepIndex == p.status.currentStepIndex &&
            q.status.pauseConditions == p.status.pauseConditions && q.events.empty())
          return p;
        history.push_back(q);
        apply(q);
        p = q;
        if (q.requeueAfter && *q.requeueAfter == Duration(0)) continue;
        if (q.events.empty()) return q;
      }
    }
    return p;
  }

  std::vector<std::string> allReasons() const {
    std::vector<std::string> out;
    for (const auto& p : history)
      for (const auto& e : p.events) out.push_back(e.reason);
    return out;
  }
  bool sawEvent(const std::string& reason) const {
    const auto all = allReasons();
    return std::find(all.begin(), all.end(), reason) != all.end();
  }
  const Event* lastEvent(const std::string& reason) const {
    for (auto it = history.rbegin(); it != history.rend(); ++it)
      for (const auto& e : it->events)
        if (e.reason == reason) return &e;
    return nullptr;
  }
  std::string hashOf(const std::string& image) const {
    spec::PodTemplateSpec t = *rollout.spec.template_;
    t.spec.containers.at(0).image = image;
    return podTemplateHash(t, std::nullopt);
  }
};

}  // namespace ramp::rollout::testing
