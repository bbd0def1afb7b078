#include "platform/kubernetes/replica_sets.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <map>

#include "ramp/spec/diagnostic.h"
#include "spec/codec.h"
#include "spec/values.h"

namespace ramp::platform::kubernetes {
namespace {

const json kEmpty = json::object();

// j[key] when j is an object holding it, else an empty object (never inserts).
const json& at(const json& j, const char* key) {
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  return it == j.end() ? kEmpty : *it;
}

std::string str(const json& j, const char* key) {
  const json& v = at(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

// An int32 field (replicas, ports, counts): values out of range are clamped, never wrapped.
int32_t int32(const json& j, const char* key, int32_t otherwise = 0) {
  const json& v = at(j, key);
  if (v.is_number_unsigned()) {
    return static_cast<int32_t>(std::min<uint64_t>(v.get<uint64_t>(), INT32_MAX));
  }
  if (!v.is_number_integer()) return otherwise;
  return static_cast<int32_t>(std::clamp<int64_t>(v.get<int64_t>(), INT32_MIN, INT32_MAX));
}

std::optional<Time> timeOf(const json& j, const char* key) {
  const std::string text = str(j, key);
  if (text.empty()) return std::nullopt;
  auto t = spec::parseRfc3339(text);
  if (!t) return std::nullopt;
  return *t;
}

// Removes `key` from object `j` when its value equals `value`.
void dropIf(json& j, const char* key, const json& value) {
  if (!j.is_object()) return;
  auto it = j.find(key);
  if (it != j.end() && *it == value) j.erase(it);
}

// Removes empty objects, arrays and nulls, deepest first.
void dropEmpty(json& j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end();) {
      dropEmpty(*it);
      if (it->is_null() || ((it->is_object() || it->is_array()) && it->empty())) {
        it = j.erase(it);
      } else {
        ++it;
      }
    }
  } else if (j.is_array()) {
    for (json& e : j) dropEmpty(e);
  }
}

// Kubernetes' default imagePullPolicy: Always for the tag "latest" or no tag (a digest counts as
// a tag), else IfNotPresent.
std::string defaultPullPolicy(const std::string& image) {
  if (image.find('@') != std::string::npos) return "IfNotPresent";
  const size_t slash = image.rfind('/');
  const size_t colon = image.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return "Always";
  return image.substr(colon + 1) == "latest" ? "Always" : "IfNotPresent";
}

void normalizeProbe(json& probe) {
  if (!probe.is_object()) return;
  dropIf(probe, "timeoutSeconds", 1);
  dropIf(probe, "periodSeconds", 10);
  dropIf(probe, "successThreshold", 1);
  dropIf(probe, "failureThreshold", 3);
  if (probe.contains("httpGet")) dropIf(probe["httpGet"], "scheme", "HTTP");
}

void normalizeContainer(json& c) {
  if (!c.is_object()) return;
  dropIf(c, "terminationMessagePath", "/dev/termination-log");
  dropIf(c, "terminationMessagePolicy", "File");
  dropIf(c, "imagePullPolicy", defaultPullPolicy(str(c, "image")));
  if (c.contains("ports") && c["ports"].is_array()) {
    for (json& p : c["ports"]) dropIf(p, "protocol", "TCP");
  }
  for (const char* probe : {"readinessProbe", "livenessProbe", "startupProbe"}) {
    if (c.contains(probe)) normalizeProbe(c[probe]);
  }
  if (c.contains("env") && c["env"].is_array()) {
    for (json& e : c["env"]) {
      if (e.contains("valueFrom") && e["valueFrom"].contains("fieldRef")) {
        dropIf(e["valueFrom"]["fieldRef"], "apiVersion", "v1");
      }
    }
  }
}

// The Ready condition of a Pod: (status, lastTransitionTime).
std::pair<bool, std::optional<Time>> readyCondition(const json& pod) {
  const json& conditions = at(at(pod, "status"), "conditions");
  if (!conditions.is_array()) return {false, std::nullopt};
  for (const json& c : conditions) {
    if (str(c, "type") == "Ready")
      return {str(c, "status") == "True", timeOf(c, "lastTransitionTime")};
  }
  return {false, std::nullopt};
}

bool terminating(const json& pod) { return at(pod, "metadata").contains("deletionTimestamp"); }

bool current(const json& pod) {
  const std::string phase = str(at(pod, "status"), "phase");
  return !terminating(pod) && phase != "Succeeded" && phase != "Failed";
}

// A container status waiting in `reason`.
bool waitingIn(const json& pod, std::string_view reason) {
  const json& statuses = at(at(pod, "status"), "containerStatuses");
  if (!statuses.is_array()) return false;
  for (const json& s : statuses) {
    if (str(at(at(s, "state"), "waiting"), "reason") == reason) return true;
  }
  return false;
}

std::optional<Time> createdAt(const json& object) {
  return timeOf(at(object, "metadata"), "creationTimestamp");
}

}  // namespace

Result<RolloutRef> parseRolloutKey(std::string_view rolloutKey) {
  const size_t slash = rolloutKey.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == rolloutKey.size() ||
      rolloutKey.find('/', slash + 1) != std::string_view::npos) {
    return makeError(
        ErrorCode::kInvalidArgument,
        "platform.kubernetes: rollout key '" + std::string(rolloutKey) + "' is not namespace/name");
  }
  return RolloutRef{std::string(rolloutKey.substr(0, slash)),
                    std::string(rolloutKey.substr(slash + 1)), ""};
}

std::string replicaSetName(const std::string& rollout, const std::string& hash) {
  return rollout + "-" + hash;
}

json templateJson(const spec::PodTemplateSpec& tmpl) {
  spec::Rollout holder;
  holder.metadata.namespace_.clear();
  holder.spec.template_ = tmpl;
  json j = json::parse(spec::toJson(holder));
  return at(at(j, "spec"), "template");
}

json normalizeTemplate(const json& tmpl) {
  json t = tmpl.is_object() ? tmpl : json::object();
  json metadata = json::object();
  const json& m = at(t, "metadata");
  if (m.contains("labels")) metadata["labels"] = m["labels"];
  if (m.contains("annotations")) metadata["annotations"] = m["annotations"];
  if (metadata.contains("labels") && metadata["labels"].is_object()) {
    metadata["labels"].erase(kHashLabel);
  }
  t["metadata"] = metadata;
  if (t.contains("spec") && t["spec"].is_object()) {
    json& s = t["spec"];
    dropIf(s, "restartPolicy", "Always");
    dropIf(s, "dnsPolicy", "ClusterFirst");
    dropIf(s, "schedulerName", "default-scheduler");
    dropIf(s, "terminationGracePeriodSeconds", 30);
    dropIf(s, "securityContext", json::object());
    if (s.contains("serviceAccount") && s["serviceAccount"] == at(s, "serviceAccountName")) {
      s.erase("serviceAccount");
    }
    for (const char* list : {"containers", "initContainers"}) {
      if (s.contains(list) && s[list].is_array()) {
        for (json& c : s[list]) normalizeContainer(c);
      }
    }
  }
  dropEmpty(t);
  return t;
}

bool sameTemplate(const json& live, const json& desired) {
  return normalizeTemplate(live) == normalizeTemplate(desired);
}

Result<spec::PodTemplateSpec> decodeTemplate(const json& tmpl) {
  json holder = {{"apiVersion", "argoproj.io/v1alpha1"},
                 {"kind", "Rollout"},
                 {"metadata", {{"name", "template"}}},
                 {"spec", {{"template", normalizeTemplate(tmpl)}}}};
  auto decoded = spec::rolloutFromJson(holder.dump());
  if (!decoded.value || !decoded.value->spec.template_) {
    std::string message = "platform.kubernetes: cannot read the pod template";
    for (const spec::Diagnostic& d : decoded.diagnostics) {
      if (d.severity == spec::Severity::kError) {
        message += ": " + d.path + ": " + d.message;
        break;
      }
    }
    return makeError(ErrorCode::kInvalidArgument, message);
  }
  return *decoded.value->spec.template_;
}

Result<ReferencedWorkload> referencedWorkload(const json& object, const spec::WorkloadRef& ref) {
  const json& meta = at(object, "metadata");
  const std::string what =
      "spec.workloadRef: " + ref.kind + " " + str(meta, "namespace") + "/" + str(meta, "name");
  const bool podTemplate = ref.kind == "PodTemplate";
  const json& tmpl = podTemplate ? at(object, "template") : at(at(object, "spec"), "template");
  if (tmpl.empty()) return makeError(ErrorCode::kInvalidArgument, what + " has no pod template");
  ReferencedWorkload out;
  auto decoded = decodeTemplate(tmpl);
  if (!decoded) {
    return makeError(ErrorCode::kInvalidArgument, what + ": " + decoded.error().message);
  }
  out.template_ = std::move(*decoded);
  if (!podTemplate) {
    const json& selector = at(at(object, "spec"), "selector");
    if (!selector.empty()) {
      json holder = {{"apiVersion", "argoproj.io/v1alpha1"},
                     {"kind", "Rollout"},
                     {"metadata", {{"name", "selector"}}},
                     {"spec", {{"selector", selector}}}};
      auto rollout = spec::rolloutFromJson(holder.dump());
      if (!rollout.value || !rollout.value->spec.selector) {
        return makeError(ErrorCode::kInvalidArgument, what + ": spec.selector cannot be read");
      }
      out.selector = rollout.value->spec.selector;
    }
  }
  const json& generation = at(meta, "generation");
  if (generation.is_number_integer()) out.generation = generation.get<int64_t>();
  if (ref.kind == "Deployment") out.replicas = specReplicas(object);
  return out;
}

namespace {

// Annotations of a Rollout that Argo does not copy to its ReplicaSets (annotationsToSkip).
bool copiedToReplicaSets(const std::string& key) {
  return key != "kubectl.kubernetes.io/last-applied-configuration" && key != kRevisionAnnotation &&
         key != kRevisionHistoryAnnotation && key != kDesiredReplicasAnnotation &&
         key != "notified.notifications.argoproj.io";
}

// Sets `desired` on `object`'s labels and annotations and takes off those of `injected` that
// `desired` does not keep, as merge-patch members (null takes off); false when none changes.
// `current`: the object's labels and annotations as they are (nullptr: unknown, so every key
// is written).
bool ephemeralChanges(const json* current, const std::optional<spec::PodTemplateMetadata>& injected,
                      const std::optional<spec::PodTemplateMetadata>& desired, json& patch) {
  bool changed = false;
  auto sync = [&](const char* field, const std::map<std::string, std::string>* want,
                  const std::map<std::string, std::string>* had) {
    const json& now = current != nullptr ? at(*current, field) : kEmpty;
    if (want != nullptr) {
      for (const auto& [k, v] : *want) {
        if (current != nullptr && str(now, k.c_str()) == v && now.contains(k)) continue;
        patch[field][k] = v;
        changed = true;
      }
    }
    if (had != nullptr) {
      for (const auto& [k, v] : *had) {
        if (want != nullptr && want->contains(k)) continue;
        if (current != nullptr && !now.contains(k)) continue;
        patch[field][k] = nullptr;
        changed = true;
      }
    }
  };
  sync("labels", desired ? &desired->labels : nullptr, injected ? &injected->labels : nullptr);
  sync("annotations", desired ? &desired->annotations : nullptr,
       injected ? &injected->annotations : nullptr);
  return changed;
}

}  // namespace

std::string ephemeralMetadataText(const spec::PodTemplateMetadata& metadata) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (!metadata.labels.empty()) out["labels"] = metadata.labels;
  if (!metadata.annotations.empty()) out["annotations"] = metadata.annotations;
  return out.dump();
}

std::optional<spec::PodTemplateMetadata> injectedMetadata(const json& rs) {
  const std::string text = str(at(at(rs, "metadata"), "annotations"), kEphemeralMetadataAnnotation);
  if (text.empty()) return std::nullopt;
  const json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  // As Go's json.Unmarshal into PodTemplateMetadata: a field of another type fails it all
  // (null is an absent map).
  spec::PodTemplateMetadata out;
  for (const auto& [field, into] :
       {std::pair{"labels", &out.labels}, std::pair{"annotations", &out.annotations}}) {
    auto it = j.find(field);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_object()) return std::nullopt;
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) return std::nullopt;
      (*into)[k] = v.get<std::string>();
    }
  }
  return out;
}

json templateWithoutInjected(const json& rs) {
  json tmpl = podTemplateOf(rs);
  if (!tmpl.is_object()) return tmpl;
  if (auto spec = tmpl.find("spec"); spec != tmpl.end() && spec->is_object()) {
    if (auto affinity = spec->find("affinity"); affinity != spec->end()) {
      json kept = withoutInjectedAntiAffinity(*affinity);
      if (kept.is_null()) {
        spec->erase(affinity);
      } else {
        *affinity = std::move(kept);
      }
    }
  }
  const auto injected = injectedMetadata(rs);
  if (!injected) return tmpl;
  json& meta = tmpl["metadata"];
  for (const auto& [field, keys] :
       {std::pair{"labels", &injected->labels}, std::pair{"annotations", &injected->annotations}}) {
    if (!meta.is_object() || !meta.contains(field) || !meta[field].is_object()) continue;
    for (const auto& [k, v] : *keys) meta[field].erase(k);
    if (meta[field].empty()) meta.erase(field);
  }
  return tmpl;
}

namespace {

constexpr const char* kPreferredTerms = "preferredDuringSchedulingIgnoredDuringExecution";
constexpr const char* kRequiredTerms = "requiredDuringSchedulingIgnoredDuringExecution";

// The hash an injected term keeps away from ("" when `term` is not one): a pod affinity term,
// or a weighted one (its podAffinityTerm).
std::string injectedTermHash(const json& term) {
  const json& t = term.contains("podAffinityTerm") ? term["podAffinityTerm"] : term;
  const json& expressions = at(at(t, "labelSelector"), "matchExpressions");
  if (!expressions.is_array()) return "";
  for (const json& e : expressions) {
    if (str(e, "key") != kHashLabel) continue;
    const json& values = at(e, "values");
    return values.is_array() && !values.empty() && values[0].is_string()
               ? values[0].get<std::string>()
               : std::string(kHashLabel);  // injected, but toward nothing readable
  }
  return "";
}

}  // namespace

json withAntiAffinity(json affinity, const RevisionSpec::AntiAffinityTo& to,
                      const std::string& namespace_) {
  if (!affinity.is_object()) affinity = json::object();
  json term = {
      {"labelSelector",
       {{"matchExpressions",
         json::array({{{"key", kHashLabel}, {"operator", "In"}, {"values", {to.hash}}}})}}},
      {"namespaces", {namespace_}},
      {"topologyKey", "kubernetes.io/hostname"}};
  json& anti = affinity["podAntiAffinity"];
  if (!anti.is_object()) anti = json::object();
  const auto& preferred = to.rule.preferredDuringSchedulingIgnoredDuringExecution;
  json& list = anti[preferred ? kPreferredTerms : kRequiredTerms];
  if (!list.is_array()) list = json::array();
  if (preferred) {
    list.push_back({{"weight", preferred->weight}, {"podAffinityTerm", std::move(term)}});
  } else {
    list.push_back(std::move(term));
  }
  return affinity;
}

json withoutInjectedAntiAffinity(json affinity) {
  if (!affinity.is_object()) return affinity;
  auto anti = affinity.find("podAntiAffinity");
  if (anti == affinity.end() || !anti->is_object()) return affinity;
  bool removed = false;
  for (const char* field : {kPreferredTerms, kRequiredTerms}) {
    auto list = anti->find(field);
    if (list == anti->end() || !list->is_array()) continue;
    json kept = json::array();
    for (json& term : *list) {
      if (injectedTermHash(term).empty()) {
        kept.push_back(std::move(term));
      } else {
        removed = true;
      }
    }
    if (kept.empty()) {
      anti->erase(list);
    } else {
      *list = std::move(kept);
    }
  }
  if (!removed) return affinity;
  if (anti->empty()) affinity.erase(anti);
  return affinity.empty() ? json(nullptr) : affinity;
}

std::string injectedAntiAffinityHash(const json& rs) {
  const json& anti = at(at(at(podTemplateOf(rs), "spec"), "affinity"), "podAntiAffinity");
  for (const char* field : {kPreferredTerms, kRequiredTerms}) {
    const json& list = at(anti, field);
    if (!list.is_array()) continue;
    for (const json& term : list) {
      if (std::string hash = injectedTermHash(term); !hash.empty()) return hash;
    }
  }
  return "";
}

std::optional<json> antiAffinityPatch(const json& rs,
                                      const std::optional<RevisionSpec::AntiAffinityTo>& wanted) {
  const std::string current = injectedAntiAffinityHash(rs);
  if (!wanted || current.empty() || current == wanted->hash) return std::nullopt;
  const json& live = at(at(podTemplateOf(rs), "spec"), "affinity");
  const json next = withAntiAffinity(withoutInjectedAntiAffinity(live), *wanted,
                                     str(at(rs, "metadata"), "namespace"));
  // A merge patch replaces lists whole; a list the term leaves empty is removed by null.
  json anti = next["podAntiAffinity"];
  for (const char* field : {kPreferredTerms, kRequiredTerms}) {
    if (!anti.contains(field)) anti[field] = nullptr;
  }
  return json{{"spec", {{"template", {{"spec", {{"affinity", {{"podAntiAffinity", anti}}}}}}}}}};
}

std::optional<json> ephemeralMetadataPatch(
    const json& rs, const std::optional<spec::PodTemplateMetadata>& desired) {
  const auto injected = injectedMetadata(rs);
  json templateMeta = json::object();
  const json& current = at(podTemplateOf(rs), "metadata");
  if (!ephemeralChanges(&current, injected, desired, templateMeta)) return std::nullopt;
  json record = desired ? json(ephemeralMetadataText(*desired)) : json(nullptr);
  return json{{"metadata", {{"annotations", {{kEphemeralMetadataAnnotation, record}}}}},
              {"spec", {{"template", {{"metadata", templateMeta}}}}}};
}

std::optional<json> podMetadataPatch(const std::optional<spec::PodTemplateMetadata>& injected,
                                     const std::optional<spec::PodTemplateMetadata>& desired) {
  json meta = json::object();
  if (!ephemeralChanges(nullptr, injected, desired, meta)) return std::nullopt;
  return json{{"metadata", meta}};
}

json replicaSetManifest(const RolloutRef& rollout, const RevisionSpec& revision) {
  json podTemplate = templateJson(revision.template_);
  json templateLabels = at(at(podTemplate, "metadata"), "labels");
  if (!templateLabels.is_object()) templateLabels = json::object();
  templateLabels[kHashLabel] = revision.hash;
  podTemplate["metadata"]["labels"] = templateLabels;

  json labels = templateLabels;
  labels[kRolloutLabel] = rollout.name;
  json annotations = json::object();
  for (const auto& [k, v] : revision.rolloutAnnotations) {
    if (copiedToReplicaSets(k)) annotations[k] = v;
  }
  annotations[kRevisionAnnotation] = std::to_string(revision.revision);
  annotations[kDesiredReplicasAnnotation] = std::to_string(revision.rolloutReplicas);
  if (revision.ephemeralMetadata) {
    json injected = json::object();
    ephemeralChanges(&kEmpty, std::nullopt, revision.ephemeralMetadata, injected);
    for (const char* field : {"labels", "annotations"}) {
      for (const auto& [k, v] : at(injected, field).items()) podTemplate["metadata"][field][k] = v;
    }
    annotations[kEphemeralMetadataAnnotation] = ephemeralMetadataText(*revision.ephemeralMetadata);
  }
  if (revision.antiAffinity) {
    json& podSpec = podTemplate["spec"];
    podSpec["affinity"] =
        withAntiAffinity(at(podSpec, "affinity"), *revision.antiAffinity, rollout.namespace_);
  }
  json metadata = {{"name", replicaSetName(rollout.name, revision.hash)},
                   {"namespace", rollout.namespace_},
                   {"labels", labels},
                   {"annotations", annotations}};
  if (!rollout.uid.empty()) {
    metadata["ownerReferences"] = json::array({{{"apiVersion", "argoproj.io/v1alpha1"},
                                                {"kind", "Rollout"},
                                                {"name", rollout.name},
                                                {"uid", rollout.uid},
                                                {"controller", true},
                                                {"blockOwnerDeletion", true}}});
  }
  json spec = {
      {"replicas", 0}, {"selector", {{"matchLabels", templateLabels}}}, {"template", podTemplate}};
  if (revision.minReadySeconds > 0) spec["minReadySeconds"] = revision.minReadySeconds;
  return {
      {"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"metadata", metadata}, {"spec", spec}};
}

bool belongsTo(const json& rs, const RolloutRef& rollout) {
  const json& m = at(rs, "metadata");
  if (str(m, "namespace") != rollout.namespace_) return false;
  if (str(at(m, "labels"), kRolloutLabel) == rollout.name) return true;
  const json& owners = at(m, "ownerReferences");
  if (!owners.is_array()) return false;
  for (const json& o : owners) {
    if (at(o, "controller") == true && str(o, "kind") == "Rollout" &&
        str(o, "apiVersion").starts_with("argoproj.io/") && str(o, "name") == rollout.name) {
      return true;
    }
  }
  return false;
}

std::string ownerRolloutUid(const std::vector<json>& replicaSets, const RolloutRef& rollout) {
  for (const json& rs : replicaSets) {
    const json& m = at(rs, "metadata");
    if (str(m, "namespace") != rollout.namespace_ || !str(m, "deletionTimestamp").empty()) {
      continue;
    }
    const json& owners = at(m, "ownerReferences");
    if (!owners.is_array()) continue;
    for (const json& o : owners) {
      if (at(o, "controller") == true && str(o, "kind") == "Rollout" &&
          str(o, "apiVersion").starts_with("argoproj.io/") && str(o, "name") == rollout.name &&
          !str(o, "uid").empty()) {
        return str(o, "uid");
      }
    }
  }
  return "";
}

bool namedAfter(std::string_view key, std::string_view ownerKey) {
  if (key.size() <= ownerKey.size() + 1 || !key.starts_with(ownerKey) ||
      key[ownerKey.size()] != '-') {
    return false;
  }
  return key.find('-', ownerKey.size() + 1) == std::string_view::npos;
}

std::vector<std::string> rolloutKeysOf(const json& rs) {
  const json& m = at(rs, "metadata");
  const std::string ns = str(m, "namespace") + "/";
  std::vector<std::string> out;
  auto add = [&](const std::string& name) {
    if (name.empty()) return;
    std::string key = ns + name;
    if (std::find(out.begin(), out.end(), key) == out.end()) out.push_back(std::move(key));
  };
  add(str(at(m, "labels"), kRolloutLabel));
  const json& owners = at(m, "ownerReferences");
  if (owners.is_array()) {
    for (const json& o : owners) {
      if (at(o, "controller") == true && str(o, "kind") == "Rollout" &&
          str(o, "apiVersion").starts_with("argoproj.io/")) {
        add(str(o, "name"));
      }
    }
  }
  return out;
}

std::string revisionLabel(const json& rs) {
  return str(at(at(rs, "metadata"), "labels"), kHashLabel);
}

std::string revisionHash(const json& rs) {
  const std::string alias = str(at(at(rs, "metadata"), "annotations"), kHashAliasAnnotation);
  return alias.empty() ? revisionLabel(rs) : alias;
}

std::string annotationOf(const json& object, const char* key) {
  return str(at(at(object, "metadata"), "annotations"), key);
}

int32_t specReplicas(const json& rs) { return int32(at(rs, "spec"), "replicas", 1); }

const json& podTemplateOf(const json& rs) { return at(at(rs, "spec"), "template"); }

std::string controllerUid(const json& object) {
  const json& owners = at(at(object, "metadata"), "ownerReferences");
  if (!owners.is_array()) return "";
  for (const json& o : owners) {
    if (at(o, "controller") == true) return str(o, "uid");
  }
  return "";
}

ObservedRevision observeRevision(const json& rs, const std::vector<json>& pods, Time now) {
  ObservedRevision r;
  const json& m = at(rs, "metadata");
  r.podTemplateHash = revisionHash(rs);
  const std::string revision = str(at(m, "annotations"), kRevisionAnnotation);
  try {
    r.revision = revision.empty() ? 0 : std::stoll(revision);
  } catch (const std::exception&) {
    r.revision = 0;  // Argo: a ReplicaSet without a readable revision sorts first
  }
  if (auto t = decodeTemplate(templateWithoutInjected(rs))) r.template_ = std::move(*t);
  r.createdAt = createdAt(rs);
  r.desiredReplicas = specReplicas(rs);
  const auto minReady = std::chrono::seconds(std::max(int32(at(rs, "spec"), "minReadySeconds"), 0));
  r.scaleDownDeadline = timeOf(at(m, "annotations"), kScaleDownDeadlineAnnotation);

  std::vector<const json*> live;
  for (const json& pod : pods) {
    if (current(pod)) live.push_back(&pod);
  }
  std::stable_sort(live.begin(), live.end(), [](const json* a, const json* b) {
    return createdAt(*a).value_or(Time{}) < createdAt(*b).value_or(Time{});
  });
  for (const json* pod : live) {
    ++r.currentReplicas;
    const auto [ready, since] = readyCondition(*pod);
    if (ready) {
      ++r.readyReplicas;
      if (minReady.count() == 0 || (since && *since + minReady <= now)) ++r.availableReplicas;
    }
    if (waitingIn(*pod, "CrashLoopBackOff")) ++r.crashLoopingReplicas;
    r.replicaStartedAt.push_back(createdAt(*pod).value_or(Time{}));
    traffic::Endpoint e;
    e.name = str(at(*pod, "metadata"), "name");
    e.address = str(at(*pod, "status"), "podIP");
    const json& containers = at(at(*pod, "spec"), "containers");
    if (containers.is_array() && !containers.empty()) {
      const json& ports = at(containers[0], "ports");
      if (ports.is_array() && !ports.empty()) {
        e.port = int32(ports[0], "containerPort");
      }
    }
    e.ready = ready;
    r.endpoints.push_back(std::move(e));
  }
  return r;
}

std::vector<ObservedReplica> observeReplicas(const json& rs, const std::vector<json>& pods) {
  std::vector<ObservedReplica> out;
  const std::string hash = revisionHash(rs);
  for (const json& pod : pods) {
    const json& status = at(pod, "status");
    ObservedReplica r;
    r.name = str(at(pod, "metadata"), "name");
    r.podTemplateHash = hash;
    r.ready = readyCondition(pod).first;
    const std::string phase = str(status, "phase");
    if (terminating(pod)) {
      r.state = "Terminating";
    } else if (waitingIn(pod, "CrashLoopBackOff")) {
      r.state = "CrashLoopBackOff";
    } else if (r.ready) {
      r.state = "Running";
    } else if (phase == "Running") {
      r.state = "Starting";
    } else {
      r.state = "Waiting";
    }
    const json& statuses = at(status, "containerStatuses");
    if (statuses.is_array()) {
      int64_t restarts = 0;
      for (const json& s : statuses) restarts += std::max(int32(s, "restartCount"), 0);
      r.restarts = static_cast<int32_t>(std::min<int64_t>(restarts, INT32_MAX));
      if (!statuses.empty()) {
        const json& state = at(statuses[0], "state");
        r.startedAt = timeOf(at(state, "running"), "startedAt");
        const json& waiting = at(state, "waiting");
        if (!waiting.empty()) {
          r.message = str(waiting, "reason");
          const std::string detail = str(waiting, "message");
          if (!detail.empty()) r.message += ": " + detail;
        }
        const json& last = at(at(statuses[0], "lastState"), "terminated");
        if (int32(last, "signal") != 0) {
          r.lastExit = "signal " + std::to_string(int32(last, "signal"));
        } else if (last.is_object() && last.contains("exitCode")) {
          r.lastExit = "exit " + std::to_string(int32(last, "exitCode"));
        }
      }
    }
    if (r.message.empty() && r.state == "Waiting") r.message = str(status, "reason");
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(),
            [](const ObservedReplica& a, const ObservedReplica& b) { return a.name < b.name; });
  return out;
}

json podFacts(const json& pod) {
  auto copy = [](json& to, const json& from, std::initializer_list<const char*> keys) {
    for (const char* k : keys) {
      if (from.is_object() && from.contains(k)) to[k] = from[k];
    }
  };
  json out = json::object();
  const json& m = at(pod, "metadata");
  json meta = json::object();
  copy(meta, m, {"name", "namespace", "creationTimestamp", "deletionTimestamp"});
  if (const std::string owner = controllerUid(pod); !owner.empty()) {
    meta["ownerReferences"] = json::array({{{"uid", owner}, {"controller", true}}});
  }
  out["metadata"] = std::move(meta);
  const json& containers = at(at(pod, "spec"), "containers");
  if (containers.is_array() && !containers.empty()) {
    const json& ports = at(containers[0], "ports");
    if (ports.is_array() && !ports.empty() && ports[0].is_object()) {
      json port = json::object();
      copy(port, ports[0], {"containerPort"});
      out["spec"]["containers"] = json::array({{{"ports", json::array({port})}}});
    }
  }
  const json& status = at(pod, "status");
  json facts = json::object();
  copy(facts, status, {"phase", "reason", "podIP"});
  if (const json& conditions = at(status, "conditions"); conditions.is_array()) {
    for (const json& c : conditions) {
      if (str(c, "type") != "Ready") continue;
      json ready = json::object();
      copy(ready, c, {"type", "status", "lastTransitionTime"});
      facts["conditions"] = json::array({ready});
      break;
    }
  }
  if (const json& statuses = at(status, "containerStatuses"); statuses.is_array()) {
    facts["containerStatuses"] = json::array();
    for (const json& cs : statuses) {
      json c = json::object();
      copy(c, cs, {"restartCount", "state"});
      json terminated = json::object();
      copy(terminated, at(at(cs, "lastState"), "terminated"), {"signal", "exitCode"});
      if (!terminated.empty()) c["lastState"]["terminated"] = std::move(terminated);
      facts["containerStatuses"].push_back(std::move(c));
    }
  }
  out["status"] = std::move(facts);
  return out;
}

std::optional<std::string> podToRestart(const std::vector<json>& pods, Time before) {
  const json* oldest = nullptr;
  for (const json& pod : pods) {
    if (!current(pod)) continue;
    const auto created = createdAt(pod);
    if (!created || *created >= before) continue;
    if (!oldest || *created < *createdAt(*oldest)) oldest = &pod;
  }
  if (!oldest) return std::nullopt;
  return str(at(*oldest, "metadata"), "name");
}

json scalePatch(int32_t replicas) { return {{"spec", {{"replicas", replicas}}}}; }

std::vector<std::string> podsToRelabel(const std::vector<json>& pods, Time changedAt,
                                       const std::set<std::string>& patched) {
  std::vector<std::string> out;
  for (const json& pod : pods) {
    const std::string name = str(at(pod, "metadata"), "name");
    const auto created = createdAt(pod);
    if (name.empty() || patched.contains(name)) continue;
    if (created && *created > changedAt + std::chrono::seconds(1)) continue;
    out.push_back(name);
  }
  return out;
}

std::optional<json> replicaSetScalePatch(const json& rs, int32_t replicas,
                                         int32_t rolloutReplicas) {
  json patch = json::object();
  if (specReplicas(rs) != replicas) patch["spec"]["replicas"] = replicas;
  const std::string desired = std::to_string(rolloutReplicas);
  if (rolloutReplicas >= 0 && annotationOf(rs, kDesiredReplicasAnnotation) != desired) {
    patch["metadata"]["annotations"][kDesiredReplicasAnnotation] = desired;
  }
  if (patch.empty()) return std::nullopt;
  return patch;
}

json revisionPatch(const json& rs, int64_t revision) {
  json annotations = {{kRevisionAnnotation, std::to_string(revision)}};
  const std::string old = annotationOf(rs, kRevisionAnnotation);
  if (!old.empty() && old != std::to_string(revision)) {
    const std::string history = annotationOf(rs, kRevisionHistoryAnnotation);
    annotations[kRevisionHistoryAnnotation] = history.empty() ? old : history + "," + old;
  }
  return {{"metadata", {{"annotations", annotations}}}};
}

json scaleDownDeadlinePatch(std::optional<Time> deadline) {
  json value = deadline ? json(spec::formatRfc3339(*deadline)) : json(nullptr);
  return {{"metadata", {{"annotations", {{kScaleDownDeadlineAnnotation, value}}}}}};
}

json adoptPatch(const std::string& hash, int64_t revision) {
  return {{"metadata",
           {{"annotations",
             {{kHashAliasAnnotation, hash}, {kRevisionAnnotation, std::to_string(revision)}}}}}};
}

ServiceSwitch planServiceSwitch(const json& service, const std::string& rolloutName, const json& rs,
                                int32_t available, bool requireAvailable) {
  ServiceSwitch out;
  const std::string target = revisionLabel(rs);
  out.from = str(at(at(service, "spec"), "selector"), kHashLabel);
  const bool managed = at(at(service, "metadata"), "annotations").contains(kManagedByAnnotation);
  if (out.from == target && managed) return out;
  if (out.from != target && requireAvailable) {
    const int32_t replicas = specReplicas(rs);
    if (!managed && (replicas == 0 || available < replicas)) {
      out.waiting = "ReplicaSet " + str(at(rs, "metadata"), "name") + " not fully available (" +
                    std::to_string(available) + " of " + std::to_string(replicas) + ")";
      return out;
    }
    if (available == 0) {
      out.waiting = "ReplicaSet " + str(at(rs, "metadata"), "name") + " has no available replica";
      return out;
    }
  }
  json patch = {{"spec", {{"selector", {{kHashLabel, target}}}}}};
  if (!managed) patch["metadata"] = {{"annotations", {{kManagedByAnnotation, rolloutName}}}};
  out.patch = std::move(patch);
  return out;
}

int compareResourceVersions(std::string_view a, std::string_view b) {
  auto digits = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(a) || !digits(b)) return 0;
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a.compare(b) < 0 ? -1 : (a.compare(b) > 0 ? 1 : 0);
}

}  // namespace ramp::platform::kubernetes
