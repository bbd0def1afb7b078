#pragma once

// ClaimIndex: which Rollout claims which router resource (a HAProxy backend, an nginx upstream),
// so a reconcile can tell, without listing the store, whether another Rollout already owns the
// backend this one names. The controller fills it from the full listing (enqueueAll), updates a
// Rollout's entry on each of its reconciles and drops it when the Rollout is deleted. Ownership
// follows claimConflicts (registry.h): the Rollout created first owns a resource.
//
// Thread safety: every method may be called concurrently (one internal mutex).

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ramp/registry.h"
#include "ramp/spec/diagnostic.h"

namespace ramp::controller {

class ClaimIndex {
 public:
  // Replaces the whole index with `claims` (every Rollout's, as Registry::claimsOf gives them).
  void reset(const std::vector<ClaimHolder>& claims);

  // Records `claims` as everything `rolloutKey` claims now (replacing what it claimed before)
  // and returns one error per claim another Rollout owns ("backend be_app is managed by rollout
  // default/web"), with the claim's field path. Empty when it owns all of them. `displaced`
  // receives the other claimants of what `rolloutKey` owns: they must be reconciled again, to
  // learn they lost it.
  std::vector<spec::Diagnostic> update(const std::string& rolloutKey,
                                       const std::vector<ClaimHolder>& claims,
                                       std::vector<std::string>& displaced);

  // Forgets every claim of `rolloutKey` (deleted) and returns the other Rollouts that claimed
  // the same resources: one of them may own them now and must be reconciled again.
  std::vector<std::string> erase(const std::string& rolloutKey);

 private:
  void eraseLocked(const std::string& rolloutKey);

  std::mutex mu_;
  std::map<std::string, std::vector<ClaimHolder>> byResource_;  // resource -> its claimants
  std::map<std::string, std::vector<std::string>> byRollout_;   // rollout key -> its resources
};

}  // namespace ramp::controller
