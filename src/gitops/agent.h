#pragma once

// Agent: the shell around reconcileApplication (reconcile.h), ramp's own Argo CD application
// controller. For each stored Application it observes (the AppProject, the Git revision through
// GitSource, the stored objects it owns), calls the pure core, then persists: the revision's
// objects through `apply` (one store transaction, or nothing), then the Application's status
// (and the consumed operation) with a compare-and-swap write and an event per thing done.
//
// The agent writes specs into the store and never calls the controller: the controller reacts to
// the stored Rollouts as it does to any apply.
//
// Scheduling is steppable, like controller/work_queue.h: step(now) reconciles what is due and
// returns when the next one is; run() is that loop on a Clock. An Application is due when it is
// new or changed, when refresh() names its repository (a webhook, `ramp app refresh`), when an
// object it owns changed in the store (drift, for selfHeal), or when its requeue time comes (the
// poll interval, or a backoff after a failed read of the repository).
//
// Thread safety: step() and run() from one thread; refresh() from any thread.

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "gitops/operations.h"
#include "gitops/reconcile.h"
#include "ramp/clock.h"
#include "ramp/gitops/git_source.h"
#include "ramp/store/state_store.h"

namespace ramp::gitops {

// Creates or updates the `apply` documents and deletes the `prune` objects (at their version) in
// one store transaction, as `caller`, with the checks of `ramp apply`; `change` (change.h's
// changeRecord) is the Git change they carry out, for the events' audit records. Ok, or the
// refusal (e.g. the diagnostics of an object the platform cannot run).
using ApplyFn =
    std::function<Status(const std::string& caller, const std::vector<spec::Document>& apply,
                         const std::vector<ObjectDiff>& prune, const std::string& change)>;

struct AgentOptions {
  ReconcileOptions reconcile;
  Duration maxSleep = std::chrono::seconds(1);  // run(): how often new work is looked for
};

class Agent {
 public:
  Agent(store::StateStore& store, GitSource& git, ApplyFn apply, AgentOptions options = {});

  // Reconciles every Application due at `now`; returns the next time one is due (at most
  // now + the poll interval). Errors of one Application are in its status, never thrown.
  Time step(Time now);

  // Makes the Applications reading `repoURL` due now ("" = all; URLs compared as
  // sameRepository does). Returns how many there are.
  int refresh(const std::string& repoURL);

  // Reconciles one Application now. kNotFound when it is not stored; the store's errors.
  Status reconcile(const store::ObjectKey& key, Time now);
  // As reconcile(), reading the repository only when `fetch` (else the cached revision, when
  // it is still the one the Application asks for).
  Status reconcile(const store::ObjectKey& key, Time now, bool fetch);

  // step() until `stop`, sleeping on `clock` between steps (at most options.maxSleep).
  void run(Clock& clock, std::stop_token stop);

 private:
  struct Tracked {
    int64_t version = 0;  // the Application's stored version after our last write
    Time due{};           // next reconcile
    Time fetchDue{};      // next read of the repository (poll); earlier = cached revision
    int failures = 0;
    std::string repoURL;
    std::string revision;  // what the cached revision was resolved from
    std::optional<GitRevision> cached;
  };
  Result<std::vector<store::StoredObject>> owned(const spec::Application& app,
                                                 const std::vector<store::ObjectKey>& desired);
  Result<GitRevision> observeRevision(const spec::Application& app, Tracked& t, Time now,
                                      bool fetch);
  void noteChanges(Time now);
  // A rollback's revert commit is pushed only when the sync that follows would be allowed (the
  // project permits the source and destination, and no sync window refuses it): a refused
  // rollback leaves Git untouched.
  bool mayPushRevert(const spec::Application& app, const std::optional<spec::AppProject>& project,
                     Time now) const;
  // Pushes the revert commit and returns its id (or the branch head when the branch already has
  // the target's files); GitSource's errors otherwise.
  Result<std::string> pushRevert(const spec::Application& app, const RollbackIntent& rollback);

  store::StateStore& store_;
  GitSource& git_;
  ApplyFn apply_;
  AgentOptions options_;
  std::map<store::ObjectKey, Tracked> tracked_;
  std::map<store::ObjectKey, store::ObjectKey> owner_;  // owned object -> Application
  int64_t seenRevision_ = 0;

  std::mutex mu_;  // guards refreshes_
  std::set<std::string> refreshes_;
  bool refreshAll_ = false;
};

}  // namespace ramp::gitops
