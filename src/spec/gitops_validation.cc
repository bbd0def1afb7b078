// Validation of Argo CD's Application and AppProject (declared in spec/validation.h): the fields
// ramp's GitOps agent reads are checked as Argo CD checks them; what ramp does not apply is a
// warning, so an Argo CD manifest still loads.
#include <fmt/format.h>

#include "common/cron.h"
#include "common/go_duration.h"
#include "spec/gitops_values.h"
#include "spec/validation.h"

namespace ramp::spec {
namespace {

std::string at(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

void add(std::vector<Diagnostic>& out, std::string path, std::string message,
         Severity severity = Severity::kError) {
  Diagnostic d;
  d.path = std::move(path);
  d.message = std::move(message);
  d.severity = severity;
  out.push_back(std::move(d));
}

bool inCluster(const ApplicationDestination& d) {
  return (d.server.empty() || d.server == "https://kubernetes.default.svc") &&
         (d.name.empty() || d.name == "in-cluster");
}

void validateSource(const ApplicationSource& s, std::vector<Diagnostic>& out) {
  if (s.repoURL.empty()) {
    add(out, "spec.source.repoURL", "must be set (the Git repository to read)");
  }
  if (!s.path.empty() && (s.path.front() == '/' || s.path == ".." || s.path.starts_with("../") ||
                          s.path.find("/../") != std::string::npos || s.path.ends_with("/.."))) {
    add(out, "spec.source.path",
        "must be a relative path inside the repository, got \"" + s.path + "\"");
  }
  if (s.kustomize) {
    for (size_t i = 0; i < s.kustomize->images.size(); ++i) {
      if (auto o = parseImageOverride(s.kustomize->images[i]); !o) {
        add(out, at("spec.source.kustomize.images", i), o.error().message);
      }
    }
  }
}

void validateSyncPolicy(const SyncPolicy& p, std::vector<Diagnostic>& out) {
  for (size_t i = 0; i < p.syncOptions.size(); ++i) {
    const std::string& o = p.syncOptions[i];
    const std::string path = at("spec.syncPolicy.syncOptions", i);
    const size_t eq = o.find('=');
    if (eq == std::string::npos || eq == 0) {
      add(out, path, "\"" + o + "\" is not Key=Value");
      continue;
    }
    const std::string key = o.substr(0, eq);
    if (syncOptionApplies(key)) continue;
    add(out, path,
        syncOptionKnown(key)
            ? fmt::format("sync option {} does not apply to ramp: ignored", key)
            : fmt::format("\"{}\" is not a sync option Argo CD knows: ignored", key),
        Severity::kWarning);
  }
}

void validateWindow(const SyncWindow& w, const std::string& path, std::vector<Diagnostic>& out) {
  if (w.kind != "allow" && w.kind != "deny") {
    add(out, path + ".kind", "must be allow or deny, got \"" + w.kind + "\"");
  }
  if (w.schedule.empty()) {
    add(out, path + ".schedule", "must be set (a cron schedule such as \"0 22 * * *\")");
  } else if (auto s = parseCron(w.schedule); !s) {
    add(out, path + ".schedule", s.error().message);
  }
  if (w.duration.empty()) {
    add(out, path + ".duration", "must be set (how long the window stays open, e.g. \"1h\")");
  } else if (auto d = parseGoDurationMillis(w.duration); !d) {
    add(out, path + ".duration", d.error().message);
  } else if (d->count() <= 0) {
    add(out, path + ".duration", "must be positive, got \"" + w.duration + "\"");
  }
  if (auto z = checkTimeZone(w.timeZone); !z) add(out, path + ".timeZone", z.error().message);
  if (w.applications.empty() && w.namespaces.empty() && w.clusters.empty()) {
    add(out, path, "matches no application: set applications, namespaces or clusters",
        Severity::kWarning);
  }
}

}  // namespace

std::vector<Diagnostic> validateApplication(const Application& app) {
  std::vector<Diagnostic> out = validateMetadata(app.metadata);
  validateSource(app.spec.source, out);
  if (!inCluster(app.spec.destination)) {
    add(out, "spec.destination",
        "ramp deploys into its own store, not to another cluster: server and name are ignored",
        Severity::kWarning);
  }
  if (app.spec.syncPolicy) validateSyncPolicy(*app.spec.syncPolicy, out);
  if (app.operation && !app.operation->sync) {
    add(out, "operation", "only a sync operation is supported (operation.sync)");
  }
  return out;
}

std::vector<Diagnostic> validateAppProject(const AppProject& project) {
  std::vector<Diagnostic> out = validateMetadata(project.metadata);
  for (size_t i = 0; i < project.spec.sourceRepos.size(); ++i) {
    const std::string& r = project.spec.sourceRepos[i];
    if (r.empty() || r == "!") {
      add(out, at("spec.sourceRepos", i), "must be a repository URL or glob (\"*\" for any)");
    }
  }
  for (size_t i = 0; i < project.spec.destinations.size(); ++i) {
    const ApplicationDestination& d = project.spec.destinations[i];
    if (d.namespace_.empty()) {
      add(out, at("spec.destinations", i) + ".namespace",
          "must be set (a namespace or glob; \"*\" for any)");
    }
  }
  for (size_t i = 0; i < project.spec.syncWindows.size(); ++i) {
    validateWindow(project.spec.syncWindows[i], at("spec.syncWindows", i), out);
  }
  return out;
}

}  // namespace ramp::spec
