#pragma once

// User operations on an Application, as intents written into it (like rollout/operations.h):
// a sync request is Argo CD's top-level `operation` (what `argocd app sync` patches in), a
// refresh is Argo CD's annotation argocd.argoproj.io/refresh. The agent carries them out and
// removes them. Pure functions; thread-safe.

#include <optional>
#include <string>

#include "ramp/error.h"
#include "ramp/spec/gitops.h"

namespace ramp::gitops {

inline constexpr const char* kRefreshAnnotation = "argocd.argoproj.io/refresh";
// Set by the agent after a rollback --no-git: auto-sync stays off (its value says why) until a
// manual sync that is not a rollback succeeds, or a user removes it.
inline constexpr const char* kAutoSyncSuspendedAnnotation = "gitops.ramp.dev/auto-sync-suspended";

// sync: the Application with operation {sync {revision, prune}, initiatedBy {user}} and, when
// `mayOverrideWindows` (the caller's role may), info overrideSyncWindows=true.
// kFailedPrecondition when a sync is already pending. refresh (sync false): the refresh
// annotation set to "normal" (unchanged when already set).
Result<spec::Application> requestOperation(const spec::Application& app, bool sync,
                                           const std::string& revision, bool prune,
                                           const std::string& user, bool mayOverrideWindows);

struct RollbackRequest {
  std::optional<int64_t> id;  // status.history id; nullopt = the one before the newest
  bool noGit = false;         // sync the old revision as it is (Argo CD's rollback)
  bool prune = false;
  std::string reason;  // the caller's words, for the commit message and the record
  std::string user;
};

// rollback: the Application with a sync operation of history entry `id`'s revision and the
// rollback info (spec::kRollbackInfo …). Errors: kFailedPrecondition when an operation is
// pending or there is no earlier revision; kNotFound when `id` is not in the history (Argo CD's
// "does not have history id" wording).
Result<spec::Application> requestRollback(const spec::Application& app,
                                          const RollbackRequest& request);

// Whether `op` carries info overrideSyncWindows=true (written by the API for an admin's request).
bool overridesSyncWindows(const spec::Operation& op);

// What a pending rollback asks for, read back from the operation; nullopt when the pending
// operation (if any) is not a rollback.
struct RollbackIntent {
  int64_t id = 0;
  std::string revision;      // the history entry's commit: what the path returns to
  bool revert = true;        // rollbackMode "revert"; false = "no-git"
  std::string revertCommit;  // set by the agent once the revert commit is pushed
  std::string reason;
  std::string user;
};
std::optional<RollbackIntent> rollbackOf(const spec::Application& app);

// The revert commit's message: a subject naming the path and the commit returned to, and a body
// naming the reverted commit (`from`), the history id, the reason and who asked.
std::string revertMessage(const spec::Application& app, const RollbackIntent& intent,
                          const std::string& from);

}  // namespace ramp::gitops
