#include "gitops/project.h"

#include <fnmatch.h>

#include "common/cron.h"
#include "common/go_duration.h"

namespace ramp::gitops {
namespace {

bool anyMatch(const std::vector<std::string>& patterns, std::string_view text) {
  for (const std::string& p : patterns) {
    if (globMatch(p, text)) return true;
  }
  return false;
}

bool windowMatches(const spec::SyncWindow& w, const spec::Application& app) {
  const bool byName = !w.applications.empty() && anyMatch(w.applications, app.metadata.name);
  const bool byNamespace =
      !w.namespaces.empty() && anyMatch(w.namespaces, app.spec.destination.namespace_);
  const std::string cluster =
      app.spec.destination.server.empty() ? "in-cluster" : app.spec.destination.server;
  const bool byCluster = !w.clusters.empty() && anyMatch(w.clusters, cluster);
  if (w.andOperator) {
    return (w.applications.empty() || byName) && (w.namespaces.empty() || byNamespace) &&
           (w.clusters.empty() || byCluster) &&
           !(w.applications.empty() && w.namespaces.empty() && w.clusters.empty());
  }
  return byName || byNamespace || byCluster;
}

std::string describe(const spec::SyncWindow& w, size_t index) {
  std::string out = w.kind + " window " + std::to_string(index) + " (\"" + w.schedule + "\" for " +
                    w.duration + (w.timeZone.empty() ? "" : " " + w.timeZone) + ")";
  if (!w.description.empty()) out += " " + w.description;
  return out;
}

}  // namespace

bool globMatch(std::string_view pattern, std::string_view text) {
  return fnmatch(std::string(pattern).c_str(), std::string(text).c_str(), 0) == 0;
}

Status checkSource(const spec::AppProject& project, const spec::Application& app) {
  const std::string& repo = app.spec.source.repoURL;
  bool allowed = false;
  for (const std::string& p : project.spec.sourceRepos) {
    if (p.starts_with("!")) {
      if (globMatch(std::string_view(p).substr(1), repo)) {
        return makeError(ErrorCode::kPermissionDenied,
                         "repository " + repo + " is denied by project " + project.metadata.name +
                             " (sourceRepos \"" + p + "\")");
      }
    } else if (globMatch(p, repo)) {
      allowed = true;
    }
  }
  if (!allowed) {
    return makeError(ErrorCode::kPermissionDenied,
                     "repository " + repo + " is not permitted in project " +
                         project.metadata.name + " (not in spec.sourceRepos)");
  }
  return {};
}

Status checkDestination(const spec::AppProject& project, const spec::Application& app) {
  const std::string& ns = app.spec.destination.namespace_;
  for (const spec::ApplicationDestination& d : project.spec.destinations) {
    if (globMatch(d.namespace_, ns)) return {};
  }
  return makeError(ErrorCode::kPermissionDenied,
                   "namespace " + (ns.empty() ? std::string("\"\"") : ns) +
                       " is not a permitted destination of project " + project.metadata.name);
}

WindowDecision evaluateWindows(const spec::AppProject& project, const spec::Application& app,
                               Time now, bool manual) {
  bool anyDeny = false, denyManual = true, anyAllow = false;
  bool inactiveAllow = false, inactiveAllowManual = false;
  std::string denyReason, allowReason, inactiveReason;
  const auto& windows = project.spec.syncWindows;
  for (size_t i = 0; i < windows.size(); ++i) {
    const spec::SyncWindow& w = windows[i];
    if (!windowMatches(w, app)) continue;
    auto schedule = parseCron(w.schedule);
    auto length = parseGoDurationMillis(w.duration);
    Result<CronWindow> open = makeError(ErrorCode::kInvalidArgument, "");
    if (schedule && length) open = cronWindowAt(*schedule, w.timeZone, *length, now);
    if (!open) {
      return {false, false,
              describe(w, i) + " cannot be read: " +
                  (!schedule ? schedule.error().message
                   : !length ? length.error().message
                             : open.error().message)};
    }
    if (w.kind == "deny" && open->open) {
      if (!anyDeny) denyReason = describe(w, i) + " is open";
      anyDeny = true;
      denyManual = denyManual && w.manualSync;
    } else if (w.kind == "allow" && open->open) {
      if (!anyAllow) allowReason = describe(w, i) + " is open";
      anyAllow = true;
    } else if (w.kind == "allow") {
      if (!inactiveAllow) inactiveReason = "no allow window is open (" + describe(w, i) + ")";
      inactiveAllow = true;
      inactiveAllowManual = inactiveAllowManual || w.manualSync;
    }
  }
  if (anyDeny) {
    if (manual && denyManual) return {true, true, denyReason + "; manualSync permits a person"};
    return {false, false, denyReason};
  }
  if (anyAllow) return {true, false, allowReason};
  if (inactiveAllow) {
    if (manual && inactiveAllowManual) {
      return {true, true, inactiveReason + "; manualSync permits a person"};
    }
    return {false, false, inactiveReason};
  }
  return {};
}

}  // namespace ramp::gitops
