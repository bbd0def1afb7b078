#include "store/kubernetes/custom_resources.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "spec/kinds.h"
#include "spec/values.h"

namespace ramp::store::kubernetes {
namespace {

using nlohmann::json;

json parseObject(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  return j.is_object() ? j : json();
}

const json* member(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string stringAt(const json& j, const char* key) {
  const json* m = member(j, key);
  return m != nullptr && m->is_string() ? m->get<std::string>() : "";
}

// The value with nulls, false, 0, "" and empty objects/arrays removed, so an absent field and a
// zero one compare equal, as Kubernetes' omitempty (and src/spec's encoder) write them: a spec
// ramp decoded and encoded again is the user's spec even where it spelled out a default.
json pruned(const json& j) {
  if (j.is_boolean()) return j.get<bool>() ? j : json();
  if (j.is_number()) return j == 0 ? json() : j;
  if (j.is_string()) return j.get_ref<const std::string&>().empty() ? json() : j;
  if (j.is_object()) {
    json out = json::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      json v = pruned(it.value());
      if (!v.is_null()) out[it.key()] = std::move(v);
    }
    return out.empty() ? json() : out;
  }
  if (j.is_array()) return j.empty() ? json() : j;
  return j;
}

// Everything a PUT of the object (not /status) writes: every top-level field but apiVersion,
// kind and status, and of the metadata what a client may set.
json mainPart(const json& object) {
  json out = json::object();
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& k = it.key();
    if (k == "apiVersion" || k == "kind" || k == "status" || k == "metadata") continue;
    out[k] = it.value();
  }
  if (const json* m = member(object, "metadata"); m != nullptr && m->is_object()) {
    for (const char* k : {"labels", "annotations"}) {
      if (const json* v = member(*m, k)) out["metadata"][k] = *v;
    }
  }
  return pruned(out);
}

Result<int64_t> parseNumber(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) {
    return makeError(ErrorCode::kParse,
                     "not a number: \"" + std::string(text.substr(0, 40)) + "\"");
  }
  return v;
}

Result<Time> parseTime(const json& j, const char* key) {
  std::string text = stringAt(j, key);
  if (text.empty()) return makeError(ErrorCode::kParse, std::string(key) + " is missing");
  auto t = spec::parseRfc3339(text);
  if (!t) return makeError(ErrorCode::kParse, std::string(key) + ": " + t.error().message);
  return *t;
}

}  // namespace

std::optional<kube::ResourceType> resourceFor(std::string_view kind) {
  auto k = spec::kindNamed(kind);
  if (!k) return std::nullopt;
  const spec::KindInfo& info = spec::kindInfo(*k);
  return kube::ResourceType{"argoproj.io", "v1alpha1", info.plural, info.name, !info.clusterScoped};
}

Status checkKey(const ObjectKey& key) {
  auto type = resourceFor(key.kind);
  if (!type) {
    return makeError(ErrorCode::kInvalidArgument, key.toString() + ": kind " + key.kind +
                                                      " is not kept in Kubernetes (its kinds: " +
                                                      spec::kindChoices(", ", false, false) + ")");
  }
  if (type->namespaced && key.namespace_.empty()) {
    return makeError(ErrorCode::kInvalidArgument, key.toString() + ": " + key.kind +
                                                      " is namespaced: the key needs a namespace");
  }
  if (!type->namespaced && !key.namespace_.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     key.toString() + ": " + key.kind + " is cluster-scoped: no namespace");
  }
  return {};
}

Result<std::string> instanceSelector(std::string_view instanceId) {
  kube::Requirement r{kInstanceIdLabel, kube::Requirement::Op::kDoesNotExist, {}};
  if (!instanceId.empty()) {
    if (auto s = kube::checkLabelValue(instanceId); !s) {
      return makeError(ErrorCode::kInvalidArgument, "--instance-id: " + s.error().message);
    }
    r = {kInstanceIdLabel, kube::Requirement::Op::kEquals, {std::string(instanceId)}};
  }
  return kube::encodeSelector({r});
}

Result<std::string> labelForInstance(const ObjectKey& key, std::string_view text,
                                     std::string_view instanceId) {
  json object = parseObject(text);
  if (!object.is_object()) return std::string(text);  // customResourceBody refuses it
  const json* meta = member(object, "metadata");
  const json* labels = meta != nullptr ? member(*meta, "labels") : nullptr;
  const json* label = labels != nullptr ? member(*labels, kInstanceIdLabel) : nullptr;
  if (label != nullptr) {
    const std::string value = label->is_string() ? label->get<std::string>() : label->dump();
    if (value == instanceId) return std::string(text);
    return makeError(ErrorCode::kInvalidArgument,
                     key.toString() + ": metadata.labels[" + kInstanceIdLabel + "] is \"" + value +
                         "\": it belongs to that controller instance, and this one " +
                         (instanceId.empty() ? std::string("has no --instance-id")
                                             : "is --instance-id " + std::string(instanceId)));
  }
  if (instanceId.empty()) return std::string(text);
  if (!object["metadata"].is_object()) object["metadata"] = json::object();
  if (!object["metadata"]["labels"].is_object()) object["metadata"]["labels"] = json::object();
  object["metadata"]["labels"][kInstanceIdLabel] = instanceId;
  return object.dump();
}

Result<std::string> customResourceBody(const ObjectKey& key, std::string_view text,
                                       std::string_view resourceVersion, std::string_view current) {
  json object = parseObject(text);
  if (!object.is_object()) {
    return makeError(ErrorCode::kInvalidArgument,
                     key.toString() +
                         ": not a JSON object (the Kubernetes store keeps each "
                         "object as its custom resource)");
  }
  object["apiVersion"] = "argoproj.io/v1alpha1";
  object["kind"] = key.kind;
  json& meta = object["metadata"];
  if (!meta.is_object()) meta = json::object();
  for (const char* k :
       {"uid", "generation", "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp",
        "deletionGracePeriodSeconds", "resourceVersion", "generateName", "namespace"}) {
    meta.erase(k);
  }
  meta["name"] = key.name;
  if (!key.namespace_.empty()) meta["namespace"] = key.namespace_;
  if (!current.empty()) {
    json stored = parseObject(current);
    for (const char* k : {"finalizers", "ownerReferences"}) {
      const json* m = member(stored, "metadata");
      const json* v = m != nullptr ? member(*m, k) : nullptr;
      if (v != nullptr && !meta.contains(k)) meta[k] = *v;
    }
  }
  if (!resourceVersion.empty()) meta["resourceVersion"] = resourceVersion;
  return object.dump();
}

WritePlan planWrite(std::string_view current, std::string_view desired) {
  json c = parseObject(current);
  json d = parseObject(desired);
  if (!c.is_object() || !d.is_object()) return {true, true};
  const json* cs = member(c, "status");
  const json* ds = member(d, "status");
  WritePlan plan;
  plan.main = mainPart(c) != mainPart(d);
  plan.status = pruned(cs ? *cs : json()) != pruned(ds ? *ds : json());
  return plan;
}

Result<int64_t> parseResourceVersion(std::string_view text) { return parseNumber(text); }

Result<ApiObject> decodeApiObject(std::string_view text, std::string_view what) {
  json object = parseObject(text);
  const json* meta = member(object, "metadata");
  if (meta == nullptr || !meta->is_object()) {
    return makeError(ErrorCode::kParse, std::string(what) + ": the API server sent no object");
  }
  ApiObject out;
  out.name = stringAt(*meta, "name");
  out.namespace_ = stringAt(*meta, "namespace");
  if (out.name.empty()) {
    return makeError(ErrorCode::kParse, std::string(what) + ": object without metadata.name");
  }
  auto rv = parseNumber(stringAt(*meta, "resourceVersion"));
  if (!rv) {
    return makeError(ErrorCode::kParse,
                     std::string(what) + ": metadata.resourceVersion: " + rv.error().message);
  }
  out.resourceVersion = *rv;
  out.deleting = member(*meta, "deletionTimestamp") != nullptr;
  object["metadata"].erase("managedFields");
  out.json = object.dump();
  return out;
}

std::string microTime(Time t) {
  const int64_t ms = t.time_since_epoch().count();
  const int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  std::string whole = spec::formatRfc3339(Time(Duration(secs * 1000)));  // "…:SSZ"
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%06d", static_cast<int>((ms - secs * 1000) * 1000));
  return whole.substr(0, whole.size() - 1) + frac + "Z";
}

std::string eventNamespace(const Event& event) {
  return event.object.namespace_.empty() ? "default" : event.object.namespace_;
}

std::string eventName(const Event& event, uint64_t unique) {
  std::string base = event.object.name.substr(0, 200);
  // A name ends in a letter or digit: a cut one may not ("a." + "." would be refused).
  while (!base.empty() && !std::isalnum(static_cast<unsigned char>(base.back()))) base.pop_back();
  char suffix[20];
  std::snprintf(suffix, sizeof suffix, ".%016llx", static_cast<unsigned long long>(unique));
  return base + suffix;
}

namespace {

std::string eventIdValue(int64_t id, int64_t idBase) {
  return std::to_string(id) + "@" + std::to_string(idBase);
}

// A decimal of at most 18 digits (no sign, no leading '+'): nullopt otherwise.
std::optional<int64_t> decimal(std::string_view text) {
  if (text.empty() || text.size() > 18 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoll(std::string(text));
}

}  // namespace

std::string eventBody(const Event& event, std::string_view name, std::string_view reportingInstance,
                      std::string_view instanceId, std::string_view regardingUid, int64_t idBase) {
  json annotations = json::object();
  if (event.id != 0) annotations[kEventIdAnnotation] = eventIdValue(event.id, idBase);
  if (!event.evidence.empty()) annotations[kEvidenceAnnotation] = event.evidence;
  if (!event.actor.empty()) annotations[kActorAnnotation] = event.actor;
  if (!event.auditLeafHash.empty()) {
    annotations[kAuditIndexAnnotation] = std::to_string(event.auditIndex);
  }
  std::string note = event.message;
  if (note.size() > kNoteLimit) {
    annotations[kMessageAnnotation] = event.message;
    note = note.substr(0, kNoteLimit - 3) + "...";
  }
  const std::string reason = event.reason.substr(0, kReasonLimit);
  json regarding = {{"apiVersion", "argoproj.io/v1alpha1"},
                    {"kind", event.object.kind},
                    {"name", event.object.name}};
  if (!event.object.namespace_.empty()) regarding["namespace"] = event.object.namespace_;
  if (!regardingUid.empty()) regarding["uid"] = regardingUid;
  json labels = {{kManagedByLabel, kManagedBy}};
  if (!instanceId.empty()) labels[kInstanceIdLabel] = instanceId;
  json body = {
      {"apiVersion", "events.k8s.io/v1"},
      {"kind", "Event"},
      {"metadata",
       {{"name", std::string(name)},
        {"namespace", eventNamespace(event)},
        {"labels", labels},
        {"annotations", annotations}}},
      {"eventTime", microTime(event.count > 1 ? event.firstTime : event.time)},
      {"reportingController", "ramp"},
      {"reportingInstance", std::string(reportingInstance.substr(0, 128))},
      {"action", reason},
      {"reason", reason},
      {"regarding", regarding},
      {"note", note},
      {"type", event.type == EventType::kWarning ? "Warning" : "Normal"},
  };
  // A repeat written whole (its Event had gone when the repeat was folded into it).
  if (event.count > 1) body["series"] = json::parse(eventSeriesPatch(event))["series"];
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

EventStamps eventStampsOf(std::string_view text) {
  json object = parseObject(text);
  if (!object.is_object()) return {};
  const json* annotations = member(object["metadata"], "annotations");
  if (annotations == nullptr) return {};
  EventStamps out;
  out.auditIndex = decimal(stringAt(*annotations, kAuditIndexAnnotation));
  const std::string id = stringAt(*annotations, kEventIdAnnotation);
  const size_t at = id.find('@');
  if (at != std::string::npos) {
    out.id = decimal(std::string_view(id).substr(0, at));
    out.idBase = decimal(std::string_view(id).substr(at + 1));
    if (!out.id || !out.idBase) out.id = out.idBase = std::nullopt;
  }
  return out;
}

std::optional<int64_t> auditIndexOfEvent(std::string_view text) {
  return eventStampsOf(text).auditIndex;
}

std::optional<int64_t> eventIdOf(std::string_view text, int64_t idBase) {
  const EventStamps stamps = eventStampsOf(text);
  return stamps.idBase == idBase ? stamps.id : std::nullopt;
}

std::string eventSeriesPatch(const Event& event, int64_t idBase) {
  json patch = {{"series", {{"count", event.count}, {"lastObservedTime", microTime(event.time)}}}};
  if (event.id != 0) {
    patch["metadata"] = {{"annotations", {{kEventIdAnnotation, eventIdValue(event.id, idBase)}}}};
  }
  return patch.dump();
}

Result<Event> eventFromApi(std::string_view text) {
  json object = parseObject(text);
  const json* regarding = member(object, "regarding");
  const std::string name = object.is_object() ? stringAt(object["metadata"], "name") : "";
  auto bad = [&](const std::string& why) {
    return makeError(ErrorCode::kParse, "event " + name + ": " + why);
  };
  if (regarding == nullptr) return bad("no regarding object");
  Event e;
  e.object.kind = stringAt(*regarding, "kind");
  e.object.namespace_ = stringAt(*regarding, "namespace");
  e.object.name = stringAt(*regarding, "name");
  if (e.object.kind.empty() || e.object.name.empty()) return bad("regarding has no kind or name");
  e.reason = stringAt(object, "reason");
  if (e.reason.empty()) return bad("no reason");
  auto t = parseTime(object, "eventTime");
  if (!t) return bad(t.error().message);
  e.time = *t;
  e.firstTime = *t;
  e.count = 1;
  if (const json* series = member(object, "series"); series != nullptr && series->is_object()) {
    auto last = parseTime(*series, "lastObservedTime");
    if (!last) return bad("series: " + last.error().message);
    e.time = *last;
    const json* count = member(*series, "count");
    if (count != nullptr && count->is_number_integer()) e.count = count->get<int64_t>();
  }
  e.type = stringAt(object, "type") == "Warning" ? EventType::kWarning : EventType::kNormal;
  e.message = stringAt(object, "note");
  const json* annotations = member(object["metadata"], "annotations");
  if (annotations != nullptr) {
    if (std::string full = stringAt(*annotations, kMessageAnnotation); !full.empty()) {
      e.message = full;
    }
    e.evidence = stringAt(*annotations, kEvidenceAnnotation);
    e.actor = stringAt(*annotations, kActorAnnotation);
  }
  return e;
}

std::vector<Event> mergeEvents(const EventQuery& query,
                               const std::vector<std::string>& serverEvents,
                               std::vector<std::pair<std::string, Event>> held, int64_t idBase) {
  std::sort(held.begin(), held.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  auto isHeld = [&](const std::string& name) {
    auto it = std::lower_bound(held.begin(), held.end(), name,
                               [](const auto& h, const std::string& n) { return h.first < n; });
    return it != held.end() && it->first == name;
  };
  std::vector<Event> out;
  auto wanted = [&](const Event& e) {
    return e.id > query.sinceId && (!query.object || e.object == *query.object);
  };
  for (const std::string& text : serverEvents) {
    auto object = decodeApiObject(text, "Event");
    if (!object || isHeld(object->namespace_ + "/" + object->name)) continue;
    auto event = eventFromApi(text);
    if (!event) continue;
    event->id = eventIdOf(text, idBase).value_or(object->resourceVersion);
    if (wanted(*event)) out.push_back(std::move(*event));
  }
  for (auto& [name, event] : held) {
    if (wanted(event)) out.push_back(std::move(event));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Event& a, const Event& b) { return a.id < b.id; });
  if (static_cast<int64_t>(out.size()) > query.limit) out.resize(static_cast<size_t>(query.limit));
  return out;
}

std::string leaseBody(const Lease& lease, std::string_view ns, std::string_view resourceVersion) {
  const int64_t ttlMs = (lease.expiresAt - lease.renewedAt).count();
  const int64_t seconds = std::max<int64_t>(1, (ttlMs + 999) / 1000);
  json spec = {{"acquireTime", microTime(lease.acquiredAt)},
               {"renewTime", microTime(lease.renewedAt)},
               {"leaseDurationSeconds", seconds},
               {"leaseTransitions", lease.transitions}};
  if (!lease.holder.empty()) spec["holderIdentity"] = lease.holder;
  json meta = {
      {"name", lease.name},
      {"namespace", ns},
      {"labels", {{kManagedByLabel, kManagedBy}}},
      {"annotations",
       {{kExpiresAtAnnotation, std::to_string(lease.expiresAt.time_since_epoch().count())}}}};
  if (!resourceVersion.empty()) meta["resourceVersion"] = resourceVersion;
  json body = {{"apiVersion", "coordination.k8s.io/v1"},
               {"kind", "Lease"},
               {"metadata", meta},
               {"spec", spec}};
  return body.dump();
}

Result<Lease> leaseFromApi(std::string_view text) {
  json object = parseObject(text);
  const std::string name = object.is_object() ? stringAt(object["metadata"], "name") : "";
  auto bad = [&](const std::string& why) {
    return makeError(ErrorCode::kParse, "lease " + name + ": " + why);
  };
  const json* spec = member(object, "spec");
  if (name.empty() || spec == nullptr || !spec->is_object()) return bad("no name or spec");
  Lease l;
  l.name = name;
  l.holder = stringAt(*spec, "holderIdentity");
  auto renewed = parseTime(*spec, "renewTime");
  if (!renewed) return bad(renewed.error().message);
  l.renewedAt = *renewed;
  auto acquired = parseTime(*spec, "acquireTime");
  l.acquiredAt = acquired ? *acquired : *renewed;
  if (const json* t = member(*spec, "leaseTransitions"); t != nullptr && t->is_number_integer()) {
    l.transitions = t->get<int64_t>();
  }
  std::string exact;
  if (const json* a = member(object["metadata"], "annotations")) {
    exact = stringAt(*a, kExpiresAtAnnotation);
  }
  if (auto ms = parseNumber(exact); !exact.empty() && ms) {
    l.expiresAt = Time(Duration(*ms));
  } else {
    const json* d = member(*spec, "leaseDurationSeconds");
    if (d == nullptr || !d->is_number_integer()) return bad("no leaseDurationSeconds");
    l.expiresAt = l.renewedAt + std::chrono::seconds(d->get<int64_t>());
  }
  return l;
}

}  // namespace ramp::store::kubernetes
