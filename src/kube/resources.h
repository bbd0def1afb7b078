#pragma once

// The API server's URL space, as pure functions: which group, version and plural name a kind is
// served under, the path of a collection, an object or a subresource, and the query strings of
// list (paging, selectors) and watch (resourceVersion, bookmarks, timeout). Label selectors are
// built from requirements and checked against Kubernetes' label rules before they are sent.
//
// Thread safety: pure functions and constants.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/error.h"

namespace ramp::kube {

// One kind as the API server serves it.
struct ResourceType {
  std::string group;    // "" for the core group
  std::string version;  // "v1", "v1alpha1"
  std::string plural;   // "rollouts"
  std::string kind;     // "Rollout"
  bool namespaced = true;
  bool operator==(const ResourceType&) const = default;
};

// The kinds ramp reads and writes.
const ResourceType& rollouts();
const ResourceType& analysisRuns();
const ResourceType& analysisTemplates();
const ResourceType& clusterAnalysisTemplates();
const ResourceType& replicaSets();
const ResourceType& pods();
const ResourceType& podTemplates();
const ResourceType& services();
const ResourceType& configMaps();
const ResourceType& events();
const ResourceType& leases();
const ResourceType& jobs();
const ResourceType& deployments();
const ResourceType& customResourceDefinitions();

// "argoproj.io/v1alpha1" or "v1".
std::string apiVersion(const ResourceType& type);

// /api/v1/namespaces/NS/pods, /apis/argoproj.io/v1alpha1/rollouts (ns "" on a namespaced kind =
// every namespace). The namespace of a cluster-scoped kind is ignored.
std::string collectionPath(const ResourceType& type, std::string_view ns);
// collectionPath + "/NAME" [+ "/SUBRESOURCE"]; name and subresource are percent-encoded.
std::string objectPath(const ResourceType& type, std::string_view ns, std::string_view name,
                       std::string_view subresource = "");

// A human name for messages: "rollouts.argoproj.io shop/web", "pods default/x".
std::string describe(const ResourceType& type, std::string_view ns, std::string_view name);

// One requirement of a label selector.
struct Requirement {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kEquals;
  std::vector<std::string> values;  // one for kEquals/kNotEquals, several for kIn/kNotIn
  bool operator==(const Requirement&) const = default;
};

// The selector's text ("app=web,tier in (a,b),!argo-rollouts.argoproj.io/controller-instance-id")
// in the order given. Errors: kInvalidArgument naming the key or value that breaks Kubernetes'
// label rules (a qualified name: optional DNS-subdomain prefix "/" name of at most 63
// characters [A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]; values likewise or empty) or a requirement
// with the wrong number of values.
Result<std::string> encodeSelector(const std::vector<Requirement>& requirements);

// Kubernetes' label rules (above), for one key and one value.
Status checkLabelKey(std::string_view key);
Status checkLabelValue(std::string_view value);

struct ListOptions {
  std::string labelSelector;  // encoded (encodeSelector)
  std::string fieldSelector;
  int64_t limit = 500;  // page size; 0 = no paging
  std::string continueToken;
  std::string resourceVersion;  // "" = most recent (a quorum read)
};
// "?labelSelector=…&limit=500&continue=…" (only the options that are set; "" when none).
std::string listQuery(const ListOptions& options);

struct WatchOptions {
  std::string labelSelector;
  std::string fieldSelector;
  std::string resourceVersion;  // from the list, or the last event or bookmark seen
  bool bookmarks = true;
  int64_t timeoutSeconds = 300;
};
// "?watch=1&resourceVersion=…&allowWatchBookmarks=true&timeoutSeconds=300[&labelSelector=…]".
std::string watchQuery(const WatchOptions& options);

}  // namespace ramp::kube
