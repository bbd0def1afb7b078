#include "gitops/reconcile.h"

#include <algorithm>

#include "gitops/health.h"
#include "gitops/operations.h"

namespace ramp::gitops {
namespace {

constexpr const char* kAutomatedUser = "gitops";

std::string shortSha(const std::string& sha) { return sha.substr(0, 7); }

// Conditions are recomputed on every reconcile; one that was already there keeps its time.
void setCondition(spec::ApplicationStatus& status, const spec::ApplicationStatus& old,
                  const std::string& type, const std::string& message, Time now) {
  spec::ApplicationCondition c{type, message, now};
  for (const spec::ApplicationCondition& o : old.conditions) {
    if (o.type == type && o.message == message) c.lastTransitionTime = o.lastTransitionTime;
  }
  status.conditions.push_back(std::move(c));
}

std::string manifestErrors(const std::vector<spec::Diagnostic>& diagnostics) {
  std::string out;
  int shown = 0, errors = 0;
  for (const spec::Diagnostic& d : diagnostics) {
    if (d.severity != spec::Severity::kError) continue;
    ++errors;
    if (shown < 5) {
      out += (out.empty() ? "" : "; ") + spec::formatDiagnostic(d);
      ++shown;
    }
  }
  if (errors > shown) out += "; and " + std::to_string(errors - shown) + " more";
  return out;
}

Duration backoff(const Observed& observed, const ReconcileOptions& options) {
  Duration d = options.minBackoff;
  for (int i = 0; i < observed.failures && d < options.pollInterval; ++i) d *= 2;
  return std::min(d, options.pollInterval);
}

spec::ResourceStatus resourceOf(const ObjectDiff& diff) {
  spec::ResourceStatus r;
  r.group = "argoproj.io";
  r.version = "v1alpha1";
  r.kind = diff.key.kind;
  r.namespace_ = diff.key.namespace_;
  r.name = diff.key.name;
  r.status = diff.change == Change::kNone ? "Synced" : "OutOfSync";
  r.message = describeDiff(diff);
  if (!diff.liveJson.empty()) {
    if (auto o = spec::objectFromJson(diff.liveJson); o.value) r.health = objectHealth(*o.value);
  } else if (diff.change == Change::kCreate) {
    r.health = spec::ApplicationHealth{"Missing", "not in the store"};
  }
  return r;
}

// Whether auto-sync should act on `sha`: Argo CD syncs a new revision once; a revision already
// attempted is synced again only with selfHeal (drift), never after it failed.
bool autoSyncWanted(const spec::Application& app, const std::string& sha, bool outOfSync) {
  const auto& policy = app.spec.syncPolicy;
  if (!policy || !policy->automated || !outOfSync) return false;
  const auto& last = app.status.operationState;
  const bool attempted = last && last->syncResult && last->syncResult->revision == sha;
  if (!attempted) return true;
  if (last->phase != "Succeeded") return false;  // a failed revision waits for a new commit
  return policy->automated->selfHeal;
}

}  // namespace

Plan reconcileApplication(const spec::Application& app, const Observed& observed, Time now,
                          const ReconcileOptions& options) {
  Plan plan;
  const spec::ApplicationStatus& old = app.status;
  spec::ApplicationStatus& st = plan.status;
  st.history = old.history;
  st.operationState = old.operationState;
  st.health = old.health;
  st.sync = old.sync;
  st.reconciledAt = now;
  plan.requeueAfter = options.pollInterval;
  // A rollback whose revert commit could not be pushed is refused below, before the revision.
  bool pending = app.operation && app.operation->sync;
  const auto suspension = app.metadata.annotations.find(kAutoSyncSuspendedAnnotation);
  const bool suspended = suspension != app.metadata.annotations.end();
  if (suspended) setCondition(st, old, "AutoSyncSuspended", suspension->second, now);

  // The project: what it permits.
  const std::string projectName = app.spec.project.empty() ? "default" : app.spec.project;
  std::string invalid;
  if (!observed.project && projectName != "default") {
    invalid = "project " + projectName + " does not exist (no AppProject " + projectName + " in " +
              app.metadata.namespace_ + ")";
  } else if (observed.project) {
    if (auto ok = checkSource(*observed.project, app); !ok) invalid = ok.error().message;
    if (auto ok = checkDestination(*observed.project, app); !ok && invalid.empty()) {
      invalid = ok.error().message;
    }
  }
  if (!invalid.empty()) {
    setCondition(st, old, "InvalidSpecError", invalid, now);
    st.sync = {"Unknown", old.sync.revision};
    if (pending) {
      plan.clearOperation = true;
      st.operationState =
          spec::OperationState{*app.operation, "Failed", invalid, std::nullopt, now, now};
    }
    return plan;
  }

  if (app.operation && app.operation->sync && observed.revertError) {
    const auto rollback = rollbackOf(app);
    const std::string message = "rollback to " +
                                (rollback ? shortSha(rollback->revision) : std::string("?")) +
                                " failed: " + observed.revertError->message;
    plan.clearOperation = true;
    st.operationState =
        spec::OperationState{*app.operation, "Failed", message, std::nullopt, now, now};
    plan.events.push_back(message);
    pending = false;
  }

  // The revision.
  if (!observed.revision) {
    const Error& e = observed.revision.error();
    setCondition(st, old, e.code == ErrorCode::kNotFound ? "ComparisonError" : "RepositoryError",
                 e.message, now);
    st.sync = {"Unknown", old.sync.revision};
    plan.requeueAfter = backoff(observed, options);
    return plan;
  }
  const GitRevision& rev = *observed.revision;
  RenderOutput rendered = render(rev.files, app);
  if (spec::hasErrors(rendered.diagnostics)) {
    setCondition(
        st, old, "ManifestError",
        "revision " + shortSha(rev.sha) + " is invalid: " + manifestErrors(rendered.diagnostics),
        now);
    st.sync = {"Unknown", rev.sha};
    if (pending) {
      plan.clearOperation = true;
      st.operationState = spec::OperationState{
          *app.operation, "Failed", "revision " + shortSha(rev.sha) + " is invalid",
          std::nullopt,   now,      now};
    }
    return plan;
  }

  // Compare.
  std::vector<ObjectDiff> diffs = diffObjects(rendered.documents, observed.live);
  bool outOfSync = false;
  std::vector<spec::ApplicationHealth> healths;
  for (const ObjectDiff& d : diffs) {
    spec::ResourceStatus r = resourceOf(d);
    outOfSync = outOfSync || r.status == "OutOfSync";
    if (r.health && d.change != Change::kPrune) healths.push_back(*r.health);
    st.resources.push_back(std::move(r));
  }
  st.sync = {outOfSync ? "OutOfSync" : "Synced", rev.sha};
  st.health = worstHealth(healths);

  // Decide whether to sync.
  const bool manual = pending;
  const bool automatic = !manual && !suspended && autoSyncWanted(app, rev.sha, outOfSync);
  if (!manual && !automatic) return plan;
  spec::Operation op;
  if (manual) {
    op = *app.operation;
    plan.clearOperation = true;
  } else {
    op.sync = spec::SyncOperation{rev.sha, app.spec.syncPolicy->automated->prune};
    op.initiatedBy.automated = true;
  }
  std::string note;
  if (observed.project) {
    WindowDecision w = evaluateWindows(*observed.project, app, now, manual);
    const bool mayOverride = manual && overridesSyncWindows(op);
    if (!w.allowed && mayOverride) {
      plan.windowOverride = op.initiatedBy.username + " (" + w.reason + ")";
      note = "; sync window overridden by " + plan.windowOverride;
    } else if (!w.allowed) {
      const std::string message = "blocked by sync window: " + w.reason;
      if (manual) {
        st.operationState = spec::OperationState{op, "Failed", message, std::nullopt, now, now};
        plan.events.push_back("sync to " + shortSha(rev.sha) + " refused: " + message);
      } else {
        setCondition(st, old, "SyncError", "auto-sync " + message, now);
      }
      return plan;
    } else if (w.overridden) {
      note = "; " + w.reason;
    }
  }
  const bool prune = op.sync->prune;
  plan.sync = true;
  plan.initiatedBy = manual ? op.initiatedBy.username : kAutomatedUser;
  bool pruneSkipped = false;
  for (const ObjectDiff& d : diffs) {
    if (d.change == Change::kCreate || d.change == Change::kUpdate) {
      plan.apply.push_back(rendered.documents[*d.document]);
    } else if (d.change == Change::kPrune) {
      if (prune) {
        plan.prune.push_back(d);
      } else {
        pruneSkipped = true;
      }
    }
  }
  int64_t id = 0;
  for (const spec::RevisionHistory& h : st.history) id = std::max(id, h.id);
  st.history.push_back(spec::RevisionHistory{id + 1, rev.sha, now, now, op.initiatedBy});
  while (static_cast<int>(st.history.size()) > options.historyLimit) {
    st.history.erase(st.history.begin());
  }
  std::string message = "successfully synced (" + std::to_string(plan.apply.size()) + " applied, " +
                        std::to_string(plan.prune.size()) + " pruned)" + note;
  if (auto rollback = manual ? rollbackOf(app) : std::nullopt) {
    const std::string to =
        shortSha(rollback->revision) + " (history " + std::to_string(rollback->id) + ")";
    const std::string why = rollback->reason.empty() ? "" : ": " + rollback->reason;
    if (rollback->revert) {
      message =
          "rolled back to " + to + " by revert commit " + shortSha(rev.sha) + why + "; " + message;
    } else {
      message = "rolled back to " + to + " without Git" + why + "; " + message;
      plan.suspendAutoSync = "auto-sync suspended: rolled back to " + to + " by " +
                             op.initiatedBy.username + " without Git" + why +
                             "; a manual sync (ramp app sync " + app.metadata.name + ") resumes it";
      std::erase_if(st.conditions, [](const spec::ApplicationCondition& c) {
        return c.type == "AutoSyncSuspended";
      });
      setCondition(st, old, "AutoSyncSuspended", *plan.suspendAutoSync, now);
    }
  } else if (manual && suspended) {
    plan.resumeAutoSync = true;
    message += "; auto-sync resumed";
    std::erase_if(st.conditions, [](const spec::ApplicationCondition& c) {
      return c.type == "AutoSyncSuspended";
    });
  }
  st.operationState =
      spec::OperationState{op, "Succeeded", message, spec::SyncOperationResult{rev.sha}, now, now};
  st.sync.status = pruneSkipped ? "OutOfSync" : "Synced";
  for (spec::ResourceStatus& r : st.resources) {
    if (r.status == "OutOfSync" && !(pruneSkipped && r.message == "not in Git (prune)")) {
      r.status = "Synced";
      r.message.clear();
    }
  }
  std::erase_if(st.resources, [&](const spec::ResourceStatus& r) {
    return prune && r.message == "not in Git (prune)";
  });
  plan.events.push_back("sync to " + shortSha(rev.sha) + " by " + plan.initiatedBy + ": " +
                        message);
  return plan;
}

void failSync(Plan& plan, const spec::Application& app, const std::string& message) {
  spec::ApplicationStatus& st = plan.status;
  if (!st.history.empty()) st.history.pop_back();
  if (st.operationState) {
    st.operationState->phase = "Failed";
    st.operationState->message = "sync failed: " + message;
  }
  st.sync.status = "OutOfSync";
  st.resources = app.status.resources;
  plan.suspendAutoSync.reset();
  plan.resumeAutoSync = false;
  plan.sync = false;
  plan.apply.clear();
  plan.prune.clear();
  plan.events.push_back("sync failed: " + message);
}

}  // namespace ramp::gitops
