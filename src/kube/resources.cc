#include "kube/resources.h"

#include "common/http_client.h"

namespace ramp::kube {

#define RAMP_RESOURCE(fn, group, version, plural, kind, namespaced)        \
  const ResourceType& fn() {                                               \
    static const ResourceType t{group, version, plural, kind, namespaced}; \
    return t;                                                              \
  }

RAMP_RESOURCE(rollouts, "argoproj.io", "v1alpha1", "rollouts", "Rollout", true)
RAMP_RESOURCE(analysisRuns, "argoproj.io", "v1alpha1", "analysisruns", "AnalysisRun", true)
RAMP_RESOURCE(analysisTemplates, "argoproj.io", "v1alpha1", "analysistemplates", "AnalysisTemplate",
              true)
RAMP_RESOURCE(clusterAnalysisTemplates, "argoproj.io", "v1alpha1", "clusteranalysistemplates",
              "ClusterAnalysisTemplate", false)
RAMP_RESOURCE(replicaSets, "apps", "v1", "replicasets", "ReplicaSet", true)
RAMP_RESOURCE(deployments, "apps", "v1", "deployments", "Deployment", true)
RAMP_RESOURCE(pods, "", "v1", "pods", "Pod", true)
RAMP_RESOURCE(podTemplates, "", "v1", "podtemplates", "PodTemplate", true)
RAMP_RESOURCE(services, "", "v1", "services", "Service", true)
RAMP_RESOURCE(configMaps, "", "v1", "configmaps", "ConfigMap", true)
RAMP_RESOURCE(events, "events.k8s.io", "v1", "events", "Event", true)
RAMP_RESOURCE(leases, "coordination.k8s.io", "v1", "leases", "Lease", true)
RAMP_RESOURCE(jobs, "batch", "v1", "jobs", "Job", true)
RAMP_RESOURCE(customResourceDefinitions, "apiextensions.k8s.io", "v1", "customresourcedefinitions",
              "CustomResourceDefinition", false)

#undef RAMP_RESOURCE

std::string apiVersion(const ResourceType& type) {
  return type.group.empty() ? type.version : type.group + "/" + type.version;
}

std::string collectionPath(const ResourceType& type, std::string_view ns) {
  std::string path =
      type.group.empty() ? "/api/" + type.version : "/apis/" + type.group + "/" + type.version;
  if (type.namespaced && !ns.empty()) path += "/namespaces/" + http::urlEncode(ns);
  return path + "/" + type.plural;
}

std::string objectPath(const ResourceType& type, std::string_view ns, std::string_view name,
                       std::string_view subresource) {
  std::string path = collectionPath(type, ns) + "/" + http::urlEncode(name);
  if (!subresource.empty()) path += "/" + http::urlEncode(subresource);
  return path;
}

std::string describe(const ResourceType& type, std::string_view ns, std::string_view name) {
  std::string what = type.group.empty() ? type.plural : type.plural + "." + type.group;
  if (name.empty()) return what + (type.namespaced && !ns.empty() ? " in " + std::string(ns) : "");
  return what + " " + (type.namespaced && !ns.empty() ? std::string(ns) + "/" : "") +
         std::string(name);
}

namespace {

bool alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])? of at most 63 characters.
bool qualifiedNamePart(std::string_view s) {
  if (s.empty() || s.size() > 63 || !alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// A DNS-1123 subdomain: lowercase [a-z0-9]([-a-z0-9]*[a-z0-9])? labels joined by dots, at most
// 253 characters.
bool dnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63) return false;
    auto lowerAlnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!lowerAlnum(label.front()) || !lowerAlnum(label.back())) return false;
    for (char c : label) {
      if (!lowerAlnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

}  // namespace

Status checkLabelKey(std::string_view key) {
  size_t slash = key.find('/');
  std::string_view name = slash == std::string_view::npos ? key : key.substr(slash + 1);
  if (slash != std::string_view::npos && !dnsSubdomain(key.substr(0, slash))) {
    return makeError(ErrorCode::kInvalidArgument,
                     "label key \"" + std::string(key.substr(0, 317)) +
                         "\": the prefix must be a DNS subdomain (lowercase, dots, at most 253)");
  }
  if (!qualifiedNamePart(name)) {
    return makeError(ErrorCode::kInvalidArgument,
                     "label key \"" + std::string(key.substr(0, 317)) +
                         "\": the name must be at most 63 characters of [A-Za-z0-9-_.], starting "
                         "and ending with a letter or digit");
  }
  return {};
}

Status checkLabelValue(std::string_view value) {
  if (value.empty() || qualifiedNamePart(value)) return {};
  return makeError(ErrorCode::kInvalidArgument,
                   "label value \"" + std::string(value.substr(0, 64)) +
                       "\": at most 63 characters of [A-Za-z0-9-_.], starting and ending with a "
                       "letter or digit");
}

Result<std::string> encodeSelector(const std::vector<Requirement>& requirements) {
  std::string out;
  for (const Requirement& r : requirements) {
    if (auto s = checkLabelKey(r.key); !s) return std::unexpected(s.error());
    for (const std::string& v : r.values) {
      if (auto s = checkLabelValue(v); !s) return std::unexpected(s.error());
    }
    using Op = Requirement::Op;
    const bool single = r.op == Op::kEquals || r.op == Op::kNotEquals;
    const bool none = r.op == Op::kExists || r.op == Op::kDoesNotExist;
    if ((single && r.values.size() != 1) || (none && !r.values.empty()) ||
        (!single && !none && r.values.empty())) {
      return makeError(ErrorCode::kInvalidArgument,
                       "label selector requirement on \"" + r.key +
                           "\": wrong number of values for its operator");
    }
    if (!out.empty()) out += ",";
    switch (r.op) {
      case Op::kEquals: out += r.key + "=" + r.values[0]; break;
      case Op::kNotEquals: out += r.key + "!=" + r.values[0]; break;
      case Op::kExists: out += r.key; break;
      case Op::kDoesNotExist: out += "!" + r.key; break;
      case Op::kIn:
      case Op::kNotIn: {
        out += r.key + (r.op == Op::kIn ? " in (" : " notin (");
        for (size_t i = 0; i < r.values.size(); ++i) out += (i ? "," : "") + r.values[i];
        out += ")";
        break;
      }
    }
  }
  return out;
}

namespace {

void param(std::string& q, std::string_view name, std::string_view value) {
  q += q.empty() ? "?" : "&";
  q += std::string(name) + "=" + http::urlEncode(value);
}

}  // namespace

std::string listQuery(const ListOptions& o) {
  std::string q;
  if (!o.labelSelector.empty()) param(q, "labelSelector", o.labelSelector);
  if (!o.fieldSelector.empty()) param(q, "fieldSelector", o.fieldSelector);
  if (o.limit > 0) param(q, "limit", std::to_string(o.limit));
  if (!o.continueToken.empty()) param(q, "continue", o.continueToken);
  if (!o.resourceVersion.empty()) param(q, "resourceVersion", o.resourceVersion);
  return q;
}

std::string watchQuery(const WatchOptions& o) {
  std::string q = "?watch=1";
  if (!o.resourceVersion.empty()) param(q, "resourceVersion", o.resourceVersion);
  if (o.bookmarks) param(q, "allowWatchBookmarks", "true");
  if (o.timeoutSeconds > 0) param(q, "timeoutSeconds", std::to_string(o.timeoutSeconds));
  if (!o.labelSelector.empty()) param(q, "labelSelector", o.labelSelector);
  if (!o.fieldSelector.empty()) param(q, "fieldSelector", o.fieldSelector);
  return q;
}

}  // namespace ramp::kube
