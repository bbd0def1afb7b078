#include "api/types.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

#include "spec/kinds.h"
#include "spec/values.h"

namespace ramp::api {
namespace {

using nlohmann::json;

Result<json> parseObject(std::string_view body, std::string_view what) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return makeError(ErrorCode::kInvalidArgument, std::string(what) + ": body is not valid JSON");
  }
  if (!j.is_object()) {
    return makeError(ErrorCode::kInvalidArgument, std::string(what) + ": body must be an object");
  }
  return j;
}

// Reads j[key] as T when present; error naming the field on a type mismatch.
template <class T>
Status readField(const json& j, const char* key, T* out, std::string_view what) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  bool ok = false;
  if constexpr (std::is_same_v<T, bool>) {
    ok = it->is_boolean();
  } else if constexpr (std::is_integral_v<T>) {
    ok = it->is_number_integer();
  } else {
    ok = it->is_string();
  }
  if (!ok) {
    return makeError(ErrorCode::kInvalidArgument,
                     std::string(what) + ": field " + key + " has the wrong type");
  }
  *out = it->get<T>();
  return {};
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const char* roleName(Role role) {
  switch (role) {
    case Role::kViewer: return "viewer";
    case Role::kAuditor: return "auditor";
    case Role::kOperator: return "operator";
    case Role::kAdmin: return "admin";
  }
  return "viewer";
}

std::optional<Role> parseRole(std::string_view name) {
  if (name == "viewer") return Role::kViewer;
  if (name == "auditor") return Role::kAuditor;
  if (name == "operator") return Role::kOperator;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

const std::vector<Resource>& resources() {
  static const std::vector<Resource> kResources = [] {
    std::vector<Resource> out;
    for (const spec::KindInfo& k : spec::kKinds) {
      out.push_back({k.kind, k.name, k.plural, k.clusterScoped});
    }
    return out;
  }();
  return kResources;
}

const Resource& resourceOf(spec::Kind kind) {
  for (const Resource& r : resources()) {
    if (r.kind == kind) return r;
  }
  return resources().front();
}

const Resource* resourceByPlural(std::string_view plural) {
  for (const Resource& r : resources()) {
    if (plural == r.plural) return &r;
  }
  return nullptr;
}

const Resource* resourceByUserName(std::string_view name) {
  std::string n = lower(name);
  for (const Resource& r : resources()) {
    if (n == lower(r.kindName) || n == r.plural || n == spec::kindInfo(r.kind).shortName) {
      return &r;
    }
  }
  return nullptr;
}

std::string collectionPath(const Resource& resource, std::string_view namespace_) {
  std::string path(kApiPrefix);
  if (!resource.clusterScoped && !namespace_.empty()) {
    path += "/namespaces/";
    path += namespace_;
  }
  path += "/";
  path += resource.plural;
  return path;
}

std::string objectPath(const Resource& resource, std::string_view namespace_,
                       std::string_view name) {
  std::string ns = namespace_.empty() ? std::string(kDefaultNamespace) : std::string(namespace_);
  return collectionPath(resource, ns) + "/" + std::string(name);
}

Status checkName(std::string_view name, std::string_view what) {
  auto bad = [&](const std::string& why) {
    return makeError(
        ErrorCode::kInvalidArgument,
        std::string(what) + " " + (name.size() > 64 ? "" : "\"" + std::string(name) + "\" ") + why);
  };
  if (name.empty()) return bad("must not be empty");
  if (name.size() > 253) return bad("must be at most 253 characters");
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.')) {
      return bad("must consist of lower-case letters, digits, '-' and '.'");
    }
  }
  auto alnum = [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c));
  };
  if (!alnum(name.front()) || !alnum(name.back())) {
    return bad("must start and end with a letter or digit");
  }
  return {};
}

Status checkNamespace(std::string_view namespace_) {
  if (namespace_.find('.') != std::string_view::npos || namespace_.size() > 63) {
    return makeError(ErrorCode::kInvalidArgument,
                     "namespace must be a DNS label (at most 63 characters, no '.')");
  }
  return checkName(namespace_, "namespace");
}

const char* actionName(Action action) {
  switch (action) {
    case Action::kPromote: return "promote";
    case Action::kAbort: return "abort";
    case Action::kRetry: return "retry";
    case Action::kUndo: return "undo";
    case Action::kPause: return "pause";
    case Action::kResume: return "resume";
    case Action::kRestart: return "restart";
    case Action::kSetImage: return "set-image";
    case Action::kTerminate: return "terminate";
    case Action::kSync: return "sync";
    case Action::kRefresh: return "refresh";
    case Action::kRollback: return "rollback";
  }
  return "";
}

std::optional<Action> parseAction(std::string_view name) {
  for (Action a : {Action::kPromote, Action::kAbort, Action::kRetry, Action::kUndo, Action::kPause,
                   Action::kResume, Action::kRestart, Action::kSetImage, Action::kTerminate,
                   Action::kSync, Action::kRefresh, Action::kRollback}) {
    if (name == actionName(a)) return a;
  }
  return std::nullopt;
}

const char* actionEventReason(Action action) {
  switch (action) {
    case Action::kPromote: return "RolloutPromoted";
    case Action::kAbort: return "RolloutAborted";
    case Action::kRetry: return "RolloutRetried";
    case Action::kUndo: return "RolloutUndone";
    case Action::kPause: return "RolloutPaused";
    case Action::kResume: return "RolloutResumed";
    case Action::kRestart: return "RolloutRestarted";
    case Action::kSetImage: return "RolloutImageSet";
    case Action::kTerminate: return "AnalysisRunTerminated";
    case Action::kSync: return "SyncRequested";
    case Action::kRefresh: return "RefreshRequested";
    case Action::kRollback: return "RollbackRequested";
  }
  return "";
}

std::string encodeActionRequest(const ActionRequest& r) {
  json j = json::object();
  if (r.full) j["full"] = true;
  if (r.toRevision) j["toRevision"] = *r.toRevision;
  if (!r.container.empty()) j["container"] = r.container;
  if (!r.image.empty()) j["image"] = r.image;
  if (!r.revision.empty()) j["revision"] = r.revision;
  if (r.prune) j["prune"] = true;
  if (r.id) j["id"] = *r.id;
  if (r.noGit) j["noGit"] = true;
  if (!r.reason.empty()) j["reason"] = r.reason;
  return j.dump();
}

Result<ActionRequest> decodeActionRequest(std::string_view body) {
  ActionRequest r;
  if (std::all_of(body.begin(), body.end(),
                  [](char c) { return std::isspace(static_cast<unsigned char>(c)); })) {
    return r;
  }
  auto j = parseObject(body, "action request");
  if (!j) return std::unexpected(j.error());
  for (const auto& [key, value] : j->items()) {
    if (key != "full" && key != "toRevision" && key != "container" && key != "image" &&
        key != "revision" && key != "prune" && key != "id" && key != "noGit" && key != "reason") {
      return makeError(ErrorCode::kInvalidArgument,
                       "action request: unknown field \"" + key.substr(0, 64) +
                           "\" (known: full, toRevision, container, image, revision, prune, id, "
                           "noGit, reason)");
    }
  }
  if (auto s = readField(*j, "full", &r.full, "action request"); !s)
    return std::unexpected(s.error());
  int64_t rev = 0;
  if (j->contains("toRevision") && !(*j)["toRevision"].is_null()) {
    if (auto s = readField(*j, "toRevision", &rev, "action request"); !s) {
      return std::unexpected(s.error());
    }
    if (rev <= 0) {
      return makeError(ErrorCode::kInvalidArgument, "action request: toRevision must be positive");
    }
    r.toRevision = rev;
  }
  if (auto s = readField(*j, "container", &r.container, "action request"); !s) {
    return std::unexpected(s.error());
  }
  if (auto s = readField(*j, "revision", &r.revision, "action request"); !s) {
    return std::unexpected(s.error());
  }
  if (auto s = readField(*j, "prune", &r.prune, "action request"); !s) {
    return std::unexpected(s.error());
  }
  if (auto s = readField(*j, "image", &r.image, "action request"); !s) {
    return std::unexpected(s.error());
  }
  if (j->contains("id") && !(*j)["id"].is_null()) {
    int64_t id = 0;
    if (auto s = readField(*j, "id", &id, "action request"); !s) return std::unexpected(s.error());
    if (id <= 0)
      return makeError(ErrorCode::kInvalidArgument, "action request: id must be positive");
    r.id = id;
  }
  if (auto s = readField(*j, "noGit", &r.noGit, "action request"); !s) {
    return std::unexpected(s.error());
  }
  if (auto s = readField(*j, "reason", &r.reason, "action request"); !s) {
    return std::unexpected(s.error());
  }
  return r;
}

std::string encodeActionResponse(const ActionResponse& r) {
  return json{{"kind", r.kind},
              {"namespace", r.namespace_},
              {"name", r.name},
              {"action", r.action},
              {"resourceVersion", std::to_string(r.resourceVersion)},
              {"message", r.message}}
      .dump();
}

Result<ActionResponse> decodeActionResponse(std::string_view body) {
  auto j = parseObject(body, "action response");
  if (!j) return std::unexpected(j.error());
  ActionResponse r;
  std::string rv;
  readField(*j, "kind", &r.kind, "");
  readField(*j, "namespace", &r.namespace_, "");
  readField(*j, "name", &r.name, "");
  readField(*j, "action", &r.action, "");
  readField(*j, "message", &r.message, "");
  readField(*j, "resourceVersion", &rv, "");
  r.resourceVersion = parseNonNegative(rv).value_or(0);
  return r;
}

std::string encodeApplyResponse(const ApplyResponse& r) {
  json items = json::array();
  for (const AppliedObject& o : r.objects) {
    items.push_back({{"kind", o.kind},
                     {"namespace", o.namespace_},
                     {"name", o.name},
                     {"result", o.result},
                     {"resourceVersion", std::to_string(o.resourceVersion)},
                     {"generation", o.generation}});
  }
  json out{{"objects", items}};
  if (!r.warnings.empty()) out["warnings"] = r.warnings;
  return out.dump();
}

Result<ApplyResponse> decodeApplyResponse(std::string_view body) {
  auto j = parseObject(body, "apply response");
  if (!j) return std::unexpected(j.error());
  ApplyResponse r;
  auto it = j->find("objects");
  if (it == j->end() || !it->is_array()) {
    return makeError(ErrorCode::kInvalidArgument, "apply response: objects missing");
  }
  for (const json& o : *it) {
    if (!o.is_object()) continue;
    AppliedObject a;
    std::string rv;
    readField(o, "kind", &a.kind, "");
    readField(o, "namespace", &a.namespace_, "");
    readField(o, "name", &a.name, "");
    readField(o, "result", &a.result, "");
    readField(o, "resourceVersion", &rv, "");
    readField(o, "generation", &a.generation, "");
    a.resourceVersion = parseNonNegative(rv).value_or(0);
    r.objects.push_back(std::move(a));
  }
  if (auto w = j->find("warnings"); w != j->end() && w->is_array()) {
    for (const json& text : *w) {
      if (text.is_string()) r.warnings.push_back(text.get<std::string>());
    }
  }
  return r;
}

std::string encodeDeleteResponse(const DeleteResponse& r) {
  return json{{"kind", r.kind},
              {"namespace", r.namespace_},
              {"name", r.name},
              {"resourceVersion", std::to_string(r.resourceVersion)}}
      .dump();
}

Result<DeleteResponse> decodeDeleteResponse(std::string_view body) {
  auto j = parseObject(body, "delete response");
  if (!j) return std::unexpected(j.error());
  DeleteResponse r;
  std::string rv;
  readField(*j, "kind", &r.kind, "");
  readField(*j, "namespace", &r.namespace_, "");
  readField(*j, "name", &r.name, "");
  readField(*j, "resourceVersion", &rv, "");
  r.resourceVersion = parseNonNegative(rv).value_or(0);
  return r;
}

std::string encodeObjectList(const ObjectListResponse& list) {
  std::string out = "{\"kind\":" + json(list.kind).dump() + ",\"resourceVersion\":\"" +
                    std::to_string(list.resourceVersion) + "\",\"items\":[";
  for (size_t i = 0; i < list.items.size(); ++i) {
    if (i > 0) out += ',';
    out += list.items[i];
  }
  out += "]}";
  return out;
}

Result<ObjectListResponse> decodeObjectList(std::string_view body) {
  auto j = parseObject(body, "list response");
  if (!j) return std::unexpected(j.error());
  ObjectListResponse r;
  std::string rv;
  readField(*j, "kind", &r.kind, "");
  readField(*j, "resourceVersion", &rv, "");
  r.resourceVersion = parseNonNegative(rv).value_or(0);
  auto it = j->find("items");
  if (it == j->end() || !it->is_array()) {
    return makeError(ErrorCode::kInvalidArgument, "list response: items missing");
  }
  for (const json& item : *it) r.items.push_back(item.dump());
  return r;
}

std::string withResourceVersion(std::string_view text, int64_t version) {
  // Fast path for what the store holds (spec::toJson output without a resourceVersion):
  // {"apiVersion":"…","kind":"…","metadata":{… — insert the field textually. Anything else goes
  // through the JSON parser.
  constexpr std::string_view kHead = "{\"apiVersion\":\"";
  if (text.substr(0, kHead.size()) == kHead &&
      text.find("\"resourceVersion\"") == std::string_view::npos) {
    size_t apiEnd = text.find('"', kHead.size());
    constexpr std::string_view kKind = "\",\"kind\":\"";
    if (apiEnd != std::string_view::npos && text.substr(apiEnd, kKind.size()) == kKind) {
      size_t kindEnd = text.find('"', apiEnd + kKind.size());
      constexpr std::string_view kMeta = "\",\"metadata\":{";
      if (kindEnd != std::string_view::npos && text.substr(kindEnd, kMeta.size()) == kMeta &&
          text.substr(apiEnd, kindEnd - apiEnd).find('\\') == std::string_view::npos &&
          text.substr(kHead.size(), apiEnd - kHead.size()).find('\\') == std::string_view::npos) {
        size_t at = kindEnd + kMeta.size();
        std::string out;
        out.reserve(text.size() + 40);
        out.append(text.substr(0, at));
        out += "\"resourceVersion\":\"" + std::to_string(version) + "\"";
        if (at < text.size() && text[at] != '}') out += ',';
        out.append(text.substr(at));
        return out;
      }
    }
  }
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::string(text);
  j["metadata"]["resourceVersion"] = std::to_string(version);
  return j.dump();
}

namespace {

json eventJson(const store::Event& e) {
  json j = {{"id", e.id},
            {"time", spec::formatRfc3339(e.time)},
            {"kind", e.object.kind},
            {"namespace", e.object.namespace_},
            {"name", e.object.name},
            {"type", e.type == store::EventType::kWarning ? "Warning" : "Normal"},
            {"reason", e.reason},
            {"message", e.message},
            {"actor", e.actor}};
  // Repeats folded into this event (Kubernetes' count and firstTimestamp); only when counted.
  if (e.count > 1) {
    j["count"] = e.count;
    j["firstTime"] = spec::formatRfc3339(e.firstTime);
  }
  if (e.replaces != 0) j["replaces"] = e.replaces;
  if (!e.evidence.empty()) {
    json ev = json::parse(e.evidence, nullptr, false);
    j["evidence"] = ev.is_discarded() ? json(e.evidence) : ev;
  }
  return j;
}

Result<store::Event> eventFrom(const json& j) {
  if (!j.is_object()) return makeError(ErrorCode::kInvalidArgument, "event: not an object");
  store::Event e;
  std::string time, type;
  readField(j, "id", &e.id, "");
  readField(j, "time", &time, "");
  readField(j, "kind", &e.object.kind, "");
  readField(j, "namespace", &e.object.namespace_, "");
  readField(j, "name", &e.object.name, "");
  readField(j, "type", &type, "");
  readField(j, "reason", &e.reason, "");
  readField(j, "message", &e.message, "");
  readField(j, "actor", &e.actor, "");
  readField(j, "count", &e.count, "");
  readField(j, "replaces", &e.replaces, "");
  if (auto t = spec::parseRfc3339(time)) e.time = *t;
  std::string first;
  readField(j, "firstTime", &first, "");
  auto firstTime = spec::parseRfc3339(first);
  e.firstTime = firstTime ? *firstTime : e.time;
  e.type = type == "Warning" ? store::EventType::kWarning : store::EventType::kNormal;
  auto ev = j.find("evidence");
  if (ev != j.end() && !ev->is_null())
    e.evidence = ev->is_string() ? ev->get<std::string>() : ev->dump();
  return e;
}

}  // namespace

std::string encodeEvent(const store::Event& event) { return eventJson(event).dump(); }

std::string encodeAuditRecords(const AuditRecordsView& view) {
  json items = json::array();
  for (const store::AuditRecord& r : view.records) {
    items.push_back({{"index", r.index},
                     {"eventId", r.eventId},
                     {"time", spec::formatRfc3339(r.time)},
                     {"kind", r.object.kind},
                     {"namespace", r.object.namespace_},
                     {"name", r.object.name},
                     {"leafHash", r.leafHash},
                     {"envelope", r.entry}});
  }
  return json{{"kind", "AuditRecordList"}, {"size", view.size}, {"items", items}}.dump();
}

Result<AuditRecordsView> decodeAuditRecords(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("items") || !j["items"].is_array()) {
    return makeError(ErrorCode::kInvalidArgument, "audit records: not an AuditRecordList");
  }
  AuditRecordsView out;
  readField(j, "size", &out.size, "");
  for (const json& item : j["items"]) {
    if (!item.is_object()) {
      return makeError(ErrorCode::kInvalidArgument, "audit records: an item is not an object");
    }
    store::AuditRecord r;
    std::string time;
    readField(item, "index", &r.index, "");
    readField(item, "eventId", &r.eventId, "");
    readField(item, "time", &time, "");
    readField(item, "kind", &r.object.kind, "");
    readField(item, "namespace", &r.object.namespace_, "");
    readField(item, "name", &r.object.name, "");
    readField(item, "leafHash", &r.leafHash, "");
    readField(item, "envelope", &r.entry, "");
    if (auto t = spec::parseRfc3339(time)) r.time = *t;
    out.records.push_back(std::move(r));
  }
  return out;
}

std::string encodeAuditCheckpoints(const std::vector<store::AuditCheckpoint>& checkpoints) {
  json items = json::array();
  for (const store::AuditCheckpoint& c : checkpoints) {
    items.push_back({{"size", c.size},
                     {"rootHash", c.rootHash},
                     {"note", c.note},
                     {"time", spec::formatRfc3339(c.time)}});
  }
  return json{{"kind", "AuditCheckpointList"}, {"items", items}}.dump();
}

Result<std::vector<store::AuditCheckpoint>> decodeAuditCheckpoints(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("items") || !j["items"].is_array()) {
    return makeError(ErrorCode::kInvalidArgument, "audit checkpoints: not an AuditCheckpointList");
  }
  std::vector<store::AuditCheckpoint> out;
  for (const json& item : j["items"]) {
    if (!item.is_object()) {
      return makeError(ErrorCode::kInvalidArgument, "audit checkpoints: an item is not an object");
    }
    store::AuditCheckpoint c;
    std::string time;
    readField(item, "size", &c.size, "");
    readField(item, "rootHash", &c.rootHash, "");
    readField(item, "note", &c.note, "");
    readField(item, "time", &time, "");
    if (auto t = spec::parseRfc3339(time)) c.time = *t;
    out.push_back(std::move(c));
  }
  return out;
}

std::string encodeAuditKey(const AuditKeyView& view) {
  return json{{"publicKey", view.publicKey}, {"signed", !view.publicKey.empty()}}.dump();
}

Result<AuditKeyView> decodeAuditKey(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return makeError(ErrorCode::kInvalidArgument, "audit key: not a JSON object");
  }
  AuditKeyView out;
  readField(j, "publicKey", &out.publicKey, "");
  return out;
}

std::string encodeEvents(const std::vector<store::Event>& events) {
  json items = json::array();
  for (const store::Event& e : events) items.push_back(eventJson(e));
  return json{{"kind", "EventList"}, {"items", items}}.dump();
}

Result<store::Event> decodeEvent(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return makeError(ErrorCode::kInvalidArgument, "event: not valid JSON");
  return eventFrom(j);
}

Result<std::vector<store::Event>> decodeEvents(std::string_view body) {
  auto j = parseObject(body, "event list");
  if (!j) return std::unexpected(j.error());
  auto it = j->find("items");
  if (it == j->end() || !it->is_array()) {
    return makeError(ErrorCode::kInvalidArgument, "event list: items missing");
  }
  std::vector<store::Event> out;
  for (const json& item : *it) {
    auto e = eventFrom(item);
    if (!e) return std::unexpected(e.error());
    out.push_back(std::move(*e));
  }
  return out;
}

std::string encodeRevisions(const std::vector<RevisionView>& revisions) {
  json items = json::array();
  for (const RevisionView& r : revisions) {
    items.push_back({{"revision", r.revision},
                     {"podTemplateHash", r.podTemplateHash},
                     {"images", r.images},
                     {"desiredReplicas", r.desiredReplicas},
                     {"readyReplicas", r.readyReplicas},
                     {"availableReplicas", r.availableReplicas}});
  }
  return json{{"kind", "RevisionList"}, {"items", items}}.dump();
}

Result<std::vector<RevisionView>> decodeRevisions(std::string_view body) {
  auto j = parseObject(body, "revision list");
  if (!j) return std::unexpected(j.error());
  std::vector<RevisionView> out;
  auto it = j->find("items");
  if (it == j->end() || !it->is_array()) return out;
  for (const json& item : *it) {
    if (!item.is_object()) continue;
    RevisionView r;
    readField(item, "revision", &r.revision, "");
    readField(item, "podTemplateHash", &r.podTemplateHash, "");
    readField(item, "desiredReplicas", &r.desiredReplicas, "");
    readField(item, "readyReplicas", &r.readyReplicas, "");
    readField(item, "availableReplicas", &r.availableReplicas, "");
    auto images = item.find("images");
    if (images != item.end() && images->is_array()) {
      for (const json& i : *images) {
        if (i.is_string()) r.images.push_back(i.get<std::string>());
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string encodeReplicas(const std::vector<ReplicaView>& replicas) {
  json items = json::array();
  for (const ReplicaView& r : replicas) {
    json item = {{"name", r.name},         {"podTemplateHash", r.podTemplateHash},
                 {"index", r.index},       {"state", r.state},
                 {"ready", r.ready},       {"restarts", r.restarts},
                 {"lastExit", r.lastExit}, {"message", r.message}};
    if (r.startedAt) item["startedAt"] = spec::formatRfc3339(*r.startedAt);
    items.push_back(std::move(item));
  }
  return json{{"kind", "ReplicaList"}, {"items", items}}.dump(-1, ' ', false,
                                                              json::error_handler_t::replace);
}

Result<std::vector<ReplicaView>> decodeReplicas(std::string_view body) {
  auto j = parseObject(body, "replica list");
  if (!j) return std::unexpected(j.error());
  auto it = j->find("items");
  if (it == j->end() || !it->is_array()) {
    return makeError(ErrorCode::kInvalidArgument, "replica list: items missing");
  }
  std::vector<ReplicaView> out;
  for (const json& item : *it) {
    if (!item.is_object()) {
      return makeError(ErrorCode::kInvalidArgument, "replica list: an item is not an object");
    }
    ReplicaView r;
    for (Status s : {readField(item, "name", &r.name, "replica"),
                     readField(item, "podTemplateHash", &r.podTemplateHash, "replica"),
                     readField(item, "index", &r.index, "replica"),
                     readField(item, "state", &r.state, "replica"),
                     readField(item, "ready", &r.ready, "replica"),
                     readField(item, "restarts", &r.restarts, "replica"),
                     readField(item, "lastExit", &r.lastExit, "replica"),
                     readField(item, "message", &r.message, "replica")}) {
      if (!s) return std::unexpected(s.error());
    }
    std::string started;
    if (auto s = readField(item, "startedAt", &started, "replica"); !s) {
      return std::unexpected(s.error());
    }
    if (!started.empty()) {
      auto t = spec::parseRfc3339(started);
      if (!t)
        return makeError(ErrorCode::kInvalidArgument, "replica: startedAt: " + t.error().message);
      r.startedAt = *t;
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string encodeLogChunk(const LogChunkView& c) {
  return json{{"kind", "ReplicaLog"},
              {"replica", c.replica},
              {"offset", c.offset},
              {"nextOffset", c.nextOffset},
              {"text", c.text}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<LogChunkView> decodeLogChunk(std::string_view body) {
  auto j = parseObject(body, "replica log");
  if (!j) return std::unexpected(j.error());
  LogChunkView c;
  for (Status s : {readField(*j, "replica", &c.replica, "replica log"),
                   readField(*j, "text", &c.text, "replica log"),
                   readField(*j, "offset", &c.offset, "replica log"),
                   readField(*j, "nextOffset", &c.nextOffset, "replica log")}) {
    if (!s) return std::unexpected(s.error());
  }
  if (!j->contains("nextOffset")) {
    return makeError(ErrorCode::kInvalidArgument, "replica log: nextOffset missing");
  }
  return c;
}

size_t completeUtf8Prefix(std::string_view text) {
  // Look back at most 3 bytes for the lead byte of the last sequence.
  size_t n = text.size();
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    auto c = static_cast<unsigned char>(text[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    size_t want = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    return want > back ? n - back : n;
  }
  return n;  // only continuation bytes: not UTF-8 here, keep them
}

std::string encodeError(const ApiErrorBody& e) {
  json diags = json::array();
  for (const spec::Diagnostic& d : e.diagnostics) {
    json jd = {{"path", d.path},
               {"message", d.message},
               {"severity", spec::severityName(d.severity)},
               {"text", spec::formatDiagnostic(d)}};
    if (!d.file.empty()) jd["file"] = d.file;
    if (d.line > 0) {
      jd["line"] = d.line;
      jd["column"] = d.column;
    }
    diags.push_back(std::move(jd));
  }
  json j = {{"status", e.status}, {"reason", e.reason}, {"message", e.message}};
  if (!diags.empty()) j["diagnostics"] = diags;
  return j.dump();
}

Result<ApiErrorBody> decodeError(std::string_view body) {
  auto j = parseObject(body, "error response");
  if (!j) return std::unexpected(j.error());
  ApiErrorBody e;
  readField(*j, "status", &e.status, "");
  readField(*j, "reason", &e.reason, "");
  readField(*j, "message", &e.message, "");
  auto it = j->find("diagnostics");
  if (it != j->end() && it->is_array()) {
    for (const json& jd : *it) {
      if (!jd.is_object()) continue;
      spec::Diagnostic d;
      std::string severity;
      readField(jd, "file", &d.file, "");
      readField(jd, "line", &d.line, "");
      readField(jd, "column", &d.column, "");
      readField(jd, "path", &d.path, "");
      readField(jd, "message", &d.message, "");
      readField(jd, "severity", &severity, "");
      d.severity = severity == "warning" ? spec::Severity::kWarning
                   : severity == "note"  ? spec::Severity::kNote
                                         : spec::Severity::kError;
      e.diagnostics.push_back(std::move(d));
    }
  }
  return e;
}

int httpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kParse: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kFailedPrecondition: return 422;
    case ErrorCode::kUnsupported: return 501;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

std::optional<int64_t> parseNonNegative(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

std::string formatCursor(const WatchCursor& c) {
  return std::to_string(c.revision) + "." + std::to_string(c.eventId);
}

Result<WatchCursor> parseCursor(std::string_view text) {
  WatchCursor c;
  size_t dot = text.find('.');
  auto rev = parseNonNegative(text.substr(0, dot));
  if (!rev) {
    return makeError(ErrorCode::kInvalidArgument,
                     "watch position must be REVISION or REVISION.EVENTID (non-negative integers)");
  }
  c.revision = *rev;
  c.eventId = -1;
  if (dot != std::string_view::npos) {
    auto ev = parseNonNegative(text.substr(dot + 1));
    if (!ev) {
      return makeError(
          ErrorCode::kInvalidArgument,
          "watch position must be REVISION or REVISION.EVENTID (non-negative integers)");
    }
    c.eventId = *ev;
  }
  return c;
}

}  // namespace ramp::api
