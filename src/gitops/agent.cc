#include "gitops/agent.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "gitops/change.h"
#include "gitops/operations.h"
#include "gitops/webhook.h"
#include "spec/kinds.h"

namespace ramp::gitops {
namespace {

constexpr const char* kApplication = "Application";
constexpr const char* kActor = "gitops";

store::Event event(const store::ObjectKey& key, Time now, std::string reason, std::string message,
                   std::string actor, bool warning) {
  store::Event e;
  e.time = now;
  e.object = key;
  e.type = warning ? store::EventType::kWarning : store::EventType::kNormal;
  e.reason = std::move(reason);
  e.message = std::move(message);
  e.actor = std::move(actor);
  return e;
}

std::string targetOf(const spec::Application& app) {
  if (app.operation && app.operation->sync && !app.operation->sync->revision.empty()) {
    return app.operation->sync->revision;
  }
  return app.spec.source.targetRevision;
}

spec::Application withoutOperation(spec::Application app) {
  app.operation.reset();
  return app;
}

}  // namespace

Agent::Agent(store::StateStore& store, GitSource& git, ApplyFn apply, AgentOptions options)
    : store_(store), git_(git), apply_(std::move(apply)), options_(options) {}

int Agent::refresh(const std::string& repoURL) {
  std::lock_guard lock(mu_);
  if (repoURL.empty()) {
    refreshAll_ = true;
  } else {
    refreshes_.insert(repoURL);
  }
  auto apps = store_.list(kApplication, "");
  if (!apps) return 0;
  int n = 0;
  for (const store::StoredObject& o : apps->items) {
    auto app = spec::applicationFromJson(o.json);
    if (app.value && (repoURL.empty() || sameRepository(app.value->spec.source.repoURL, repoURL))) {
      ++n;
    }
  }
  return n;
}

void Agent::noteChanges(Time now) {
  if (seenRevision_ == 0) {
    auto rev = store_.currentRevision();
    if (rev) seenRevision_ = *rev;
    return;
  }
  while (true) {
    auto changes = store_.changesSince(seenRevision_, 1000);
    if (!changes) {  // compacted: look at everything again
      auto rev = store_.currentRevision();
      if (rev) seenRevision_ = *rev;
      for (auto& [key, t] : tracked_) t.due = now;
      return;
    }
    if (changes->empty()) return;
    for (const store::Change& c : *changes) {
      seenRevision_ = c.revision;
      if (c.key.kind == kApplication) {
        auto it = tracked_.find(c.key);
        if (it != tracked_.end() && it->second.version != c.revision) {
          it->second.due = now;
          it->second.fetchDue = now;  // the spec or an operation may name another revision
        }
      } else if (auto owner = owner_.find(c.key); owner != owner_.end()) {
        auto it = tracked_.find(owner->second);
        if (it != tracked_.end()) it->second.due = now;  // drift or health: no fetch needed
      }
    }
  }
}

Time Agent::step(Time now) {
  noteChanges(now);
  std::set<std::string> refreshes;
  bool all = false;
  {
    std::lock_guard lock(mu_);
    refreshes.swap(refreshes_);
    all = refreshAll_;
    refreshAll_ = false;
  }
  Time next = now + options_.reconcile.pollInterval;
  auto apps = store_.list(kApplication, "");
  if (!apps) return now + options_.maxSleep;
  std::set<store::ObjectKey> present;
  for (const store::StoredObject& o : apps->items) {
    present.insert(o.key);
    auto [it, isNew] = tracked_.try_emplace(o.key);
    Tracked& t = it->second;
    const bool refreshed =
        all || std::any_of(refreshes.begin(), refreshes.end(), [&](const std::string& url) {
          return !t.repoURL.empty() && sameRepository(t.repoURL, url);
        });
    if (isNew || refreshed) {
      t.due = now;
      t.fetchDue = now;
    }
    if (t.due <= now) {
      const bool fetch = t.fetchDue <= now;
      if (auto ok = reconcile(o.key, now, fetch); !ok && ok.error().code == ErrorCode::kConflict) {
        t.due = now;  // changed while reconciling: again on the next step
      }
    }
    next = std::min(next, t.due);
  }
  std::erase_if(tracked_, [&](const auto& kv) { return present.count(kv.first) == 0; });
  std::erase_if(owner_, [&](const auto& kv) { return present.count(kv.second) == 0; });
  // What others wrote while this step ran (a refresh, a sync request, drift) is news now, not at
  // the next poll: skipping to the store's current revision here lost such a write when it came
  // between our own. Our own Application writes are recognised by their version; our own applies
  // cost one comparison without a fetch.
  noteChanges(now);
  for (const auto& [key, t] : tracked_) next = std::min(next, t.due);
  return std::max(next, now);
}

void Agent::run(Clock& clock, std::stop_token stop) {
  while (!stop.stop_requested()) {
    const Time now = clock.now();
    const Time next = step(now);
    clock.sleepFor(std::clamp(std::chrono::duration_cast<Duration>(next - now), Duration(1),
                              options_.maxSleep));
  }
}

Result<std::vector<store::StoredObject>> Agent::owned(
    const spec::Application& app, const std::vector<store::ObjectKey>& desired) {
  std::vector<store::StoredObject> out;
  for (const spec::KindInfo& kind : spec::kKinds) {
    if (kind.kind == spec::Kind::kApplication || kind.kind == spec::Kind::kAppProject) continue;
    auto list = store_.list(kind.name, "");
    if (!list) return std::unexpected(list.error());
    for (store::StoredObject& o : list->items) {
      bool mine = std::find(desired.begin(), desired.end(), o.key) != desired.end();
      if (!mine && o.json.find(kTrackingAnnotation) != std::string::npos) {
        auto decoded = spec::objectFromJson(o.json);
        if (decoded.value) {
          const auto& ann = spec::metadataOf(*decoded.value).annotations;
          auto a = ann.find(kTrackingAnnotation);
          mine = a != ann.end() && trackedApp(a->second) == app.metadata.name;
        }
      }
      if (mine) out.push_back(std::move(o));
    }
  }
  return out;
}

Result<GitRevision> Agent::observeRevision(const spec::Application& app, Tracked& t, Time now,
                                           bool fetch) {
  const std::string target = targetOf(app);
  if (!fetch && t.cached && t.revision == target && t.repoURL == app.spec.source.repoURL) {
    return *t.cached;
  }
  t.repoURL = app.spec.source.repoURL;
  t.fetchDue = now + options_.reconcile.pollInterval;
  auto sha = git_.resolve(app.spec.source.repoURL, target);
  if (!sha) return std::unexpected(sha.error());
  auto files = git_.readTree(app.spec.source.repoURL, *sha, app.spec.source.path);
  if (!files) return std::unexpected(files.error());
  // Who wrote the commit and what it says, for the sync's audit records only: a commit whose
  // message cannot be read is still synced, recorded by its id alone.
  auto commit = git_.commitInfo(app.spec.source.repoURL, *sha);
  t.revision = target;
  t.cached = GitRevision{*sha, std::move(*files), commit ? *commit : GitCommitInfo{*sha}};
  return *t.cached;
}

bool Agent::mayPushRevert(const spec::Application& app,
                          const std::optional<spec::AppProject>& project, Time now) const {
  const std::string projectName = app.spec.project.empty() ? "default" : app.spec.project;
  if (!project) return projectName == "default";
  if (!checkSource(*project, app) || !checkDestination(*project, app)) return false;
  return evaluateWindows(*project, app, now, true).allowed || overridesSyncWindows(*app.operation);
}

Result<std::string> Agent::pushRevert(const spec::Application& app,
                                      const RollbackIntent& rollback) {
  const spec::ApplicationSource& source = app.spec.source;
  auto commit =
      git_.revertPath(source.repoURL, source.targetRevision, source.path, rollback.revision,
                      rollback.user, revertMessage(app, rollback, app.status.sync.revision));
  if (commit) return commit->sha;
  // The branch already has those files: a revert pushed before a crash, or a commit by hand.
  if (commit.error().code == ErrorCode::kAlreadyExists) {
    return git_.resolve(source.repoURL, source.targetRevision);
  }
  return std::unexpected(commit.error());
}

Status Agent::reconcile(const store::ObjectKey& key, Time now) { return reconcile(key, now, true); }

Status Agent::reconcile(const store::ObjectKey& key, Time now, bool fetch) {
  auto stored = store_.get(key);
  if (!stored) return std::unexpected(stored.error());
  Tracked& t = tracked_[key];
  auto decoded = spec::applicationFromJson(stored->json, key.toString());
  if (!decoded.value) {
    t.due = now + options_.reconcile.pollInterval;
    return makeError(ErrorCode::kInvalidArgument,
                     "the stored " + key.toString() + " cannot be decoded");
  }
  spec::Application app = std::move(*decoded.value);
  // A requested refresh (`ramp app refresh`, the API's refresh action) reads the repository.
  if (app.metadata.annotations.contains(kRefreshAnnotation)) fetch = true;
  Observed observed;
  const std::string projectName = app.spec.project.empty() ? "default" : app.spec.project;
  if (auto p = store_.get({"AppProject", key.namespace_, projectName}); p) {
    auto project = spec::appProjectFromJson(p->json);
    if (project.value) observed.project = std::move(*project.value);
  } else if (p.error().code != ErrorCode::kNotFound) {
    return std::unexpected(p.error());
  }
  if (auto rollback = rollbackOf(app);
      rollback && rollback->revert && rollback->revertCommit.empty()) {
    if (mayPushRevert(app, observed.project, now)) {
      auto pushed = pushRevert(app, *rollback);
      if (pushed) {
        app.operation->sync->revision = *pushed;
        app.operation->info.push_back({spec::kRevertCommitInfo, *pushed});
        fetch = true;
      } else {
        observed.revertError = pushed.error();
      }
    }
  }
  // A refused rollback compares with the branch, not with the revision it asked for.
  observed.revision = observed.revertError ? observeRevision(withoutOperation(app), t, now, fetch)
                                           : observeRevision(app, t, now, fetch);
  observed.failures = t.failures;
  t.failures = observed.revision ? 0 : t.failures + 1;
  std::vector<store::ObjectKey> desired;
  if (observed.revision) {
    for (const spec::Document& d : render(observed.revision->files, app).documents) {
      desired.push_back(keyOf(d));
    }
  }
  auto live = owned(app, desired);
  if (!live) return std::unexpected(live.error());
  observed.live = std::move(*live);
  for (const store::StoredObject& o : observed.live) owner_[o.key] = key;
  for (const store::ObjectKey& k : desired) owner_[k] = key;

  Plan plan = reconcileApplication(app, observed, now, options_.reconcile);
  std::vector<store::Event> events;
  bool synced = false;
  // The Git change a sync (or its refusal) carries out, for the audit records of its events.
  const std::string change =
      observed.revision ? changeRecord(app, observed.revision->commit, plan.windowOverride) : "";
  if (plan.sync) {
    if (auto ok = apply_(plan.initiatedBy, plan.apply, plan.prune, change); !ok) {
      failSync(plan, app, ok.error().message);
    } else {
      synced = true;
    }
  }
  // Who: the sync's initiator, or the requester of an operation refused before any sync.
  std::string who = plan.initiatedBy;
  if (who.empty() && app.operation) who = app.operation->initiatedBy.username;
  for (const std::string& line : plan.events) {
    const bool failed =
        line.find("failed") != std::string::npos || line.find("refused") != std::string::npos;
    const bool rollback =
        line.find("rolled back") != std::string::npos || line.starts_with("rollback ");
    const char* reason =
        rollback ? (failed ? "RollbackFailed" : "RolledBack") : (failed ? "SyncFailed" : "Synced");
    events.push_back(event(key, now, reason, line, plan.sync || failed ? who : kActor, failed));
    events.back().origin = kActor;
    events.back().change = change;
  }
  for (const spec::ApplicationCondition& c : plan.status.conditions) {
    const bool known = std::any_of(app.status.conditions.begin(), app.status.conditions.end(),
                                   [&](const spec::ApplicationCondition& o) {
                                     return o.type == c.type && o.message == c.message;
                                   });
    if (!known) {
      events.push_back(event(key, now, c.type, c.message, kActor, true));
      events.back().origin = kActor;
    }
  }
  spec::Application next = app;
  next.status = plan.status;
  if (plan.clearOperation) next.operation.reset();
  next.metadata.annotations.erase(kRefreshAnnotation);  // done: the repository was just read
  if (plan.suspendAutoSync) {
    next.metadata.annotations[kAutoSyncSuspendedAnnotation] = *plan.suspendAutoSync;
  } else if (plan.resumeAutoSync) {
    next.metadata.annotations.erase(kAutoSyncSuspendedAnnotation);
  }
  next.metadata.resourceVersion.clear();
  store::WriteOp op{store::WriteOp::Type::kPut, key, spec::toJson(next), stored->version};
  auto written = store_.writeWithEvents(std::span(&op, 1), events);
  // The status was compared with the store before the sync: compare again at once (with the
  // cached revision), as Argo CD requeues a comparison after an operation, so health and objects
  // describe what was applied. Our own writes are not news to noteChanges(). A reconcile without
  // a fetch (this one, drift) never postpones the next poll.
  t.due = synced ? now : std::min(now + plan.requeueAfter, std::max(t.fetchDue, now));
  if (!written) return std::unexpected(written.error());
  t.version = written->versions.front();
  return {};
}

}  // namespace ramp::gitops
