#pragma once

// User operations on an Application, as intents written into it (like rollout/operations.h):
// a sync request is Argo CD's top-level `operation` (what `argocd app sync` patches in), a
// refresh is Argo CD's annotation argocd.argoproj.io/refresh. The agent carries them out and
// removes them. Pure functions; thread-safe.

#include <string>

#include "ramp/error.h"
#include "ramp/spec/gitops.h"

namespace ramp::gitops {

inline constexpr const char* kRefreshAnnotation = "argocd.argoproj.io/refresh";

// sync: the Application with operation {sync {revision, prune}, initiatedBy {user}} and, when
// `mayOverrideWindows` (the caller's role may), info overrideSyncWindows=true.
// kFailedPrecondition when a sync is already pending. refresh (sync false): the refresh
// annotation set to "normal" (unchanged when already set).
Result<spec::Application> requestOperation(const spec::Application& app, bool sync,
                                           const std::string& revision, bool prune,
                                           const std::string& user, bool mayOverrideWindows);

}  // namespace ramp::gitops
