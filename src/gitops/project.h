#pragma once

// What an AppProject permits, as Argo CD decides it: which repositories an Application may read
// (sourceRepos globs, a leading '!' denies and wins), which namespaces it may deploy to
// (destinations), and whether a sync may run now (syncWindows: allow and deny windows on a cron
// schedule, with manualSync letting people override). Globs are fnmatch(3) patterns ('*'
// crosses '/', as Argo CD's glob does for URLs).
//
// Pure functions of the project, the application and `now`; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/spec/gitops.h"

namespace ramp::gitops {

bool globMatch(std::string_view pattern, std::string_view text);

// Ok, or kPermissionDenied naming the rule: the repository is not in sourceRepos (or is denied
// by a '!' entry), or the destination namespace is not in destinations.
Status checkSource(const spec::AppProject& project, const spec::Application& app);
Status checkDestination(const spec::AppProject& project, const spec::Application& app);

// The decision of the sync windows for one sync.
struct WindowDecision {
  bool allowed = true;
  bool overridden = false;  // blocked for automation, allowed because manualSync lets a person
  std::string reason;       // why (the blocking or opening window), for status and events
  bool operator==(const WindowDecision&) const = default;
};

// Argo CD's SyncWindows.CanSync for `app` at `now`: the windows matching the application (by
// name, destination namespace or cluster; all of them with andOperator) that are open now. An open
// deny blocks unless `manual` and every open deny has manualSync; otherwise an open allow permits;
// otherwise, when allow windows match but none is open, only a manual sync with one of them
// marked manualSync may run; with no matching window every sync may run. A window whose
// schedule or zone cannot be read blocks (missing data never counts as success).
WindowDecision evaluateWindows(const spec::AppProject& project, const spec::Application& app,
                               Time now, bool manual);

}  // namespace ramp::gitops
