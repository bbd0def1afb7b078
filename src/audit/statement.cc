#include "audit/statement.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "audit/merkle.h"
#include "spec/values.h"

namespace ramp::audit {
namespace {

using ordered = nlohmann::ordered_json;

struct ObjectFacts {
  std::vector<std::string> images;
  std::optional<int64_t> generation;
  std::string podTemplateHash;
};

// What a stored object's text says about its revision; nothing when it is not a JSON object.
ObjectFacts objectFacts(const std::string& text) {
  ObjectFacts out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return out;
  const auto meta = j.find("metadata");
  if (meta != j.end() && meta->is_object()) {
    auto g = meta->find("generation");
    if (g != meta->end() && g->is_number_integer()) out.generation = g->get<int64_t>();
  }
  const auto status = j.find("status");
  if (status != j.end() && status->is_object()) {
    auto h = status->find("currentPodHash");
    if (h != status->end() && h->is_string()) out.podTemplateHash = h->get<std::string>();
  }
  const nlohmann::json* containers = nullptr;
  if (auto spec = j.find("spec"); spec != j.end() && spec->is_object()) {
    if (auto t = spec->find("template"); t != spec->end() && t->is_object()) {
      if (auto ps = t->find("spec"); ps != t->end() && ps->is_object()) {
        if (auto c = ps->find("containers"); c != ps->end() && c->is_array()) containers = &*c;
      }
    }
  }
  if (containers) {
    for (const auto& c : *containers) {
      if (!c.is_object()) continue;
      auto image = c.find("image");
      if (image != c.end() && image->is_string()) out.images.push_back(image->get<std::string>());
    }
  }
  return out;
}

// "repo[:tag]@sha256:HEX" -> {repo, HEX}; nullopt without a sha256 digest.
std::optional<std::pair<std::string, std::string>> imageDigest(std::string_view image) {
  size_t at = image.find("@sha256:");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view hex = image.substr(at + 8);
  if (hex.size() != 64) return std::nullopt;
  std::string_view repo = image.substr(0, at);
  size_t slash = repo.rfind('/');
  size_t colon = repo.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    repo = repo.substr(0, colon);  // drop the tag
  }
  return std::pair{std::string(repo), std::string(hex)};
}

}  // namespace

std::string decisionAction(std::string_view reason) {
  struct Row {
    std::string_view reason, action;
  };
  static constexpr Row kRows[] = {
      {"RolloutPromoted", "promote"},
      {"RolloutAborted", "abort"},
      {"RolloutRetried", "retry"},
      {"RolloutRetry", "retry"},
      {"RolloutUndone", "rollback"},
      {"RolloutPaused", "pause"},
      {"RolloutResumed", "resume"},
      {"RolloutRestarted", "restart"},
      {"RolloutImageSet", "set-image"},
      {"RolloutStepCompleted", "step"},
      {"SkipSteps", "step"},
      {"TrafficWeightUpdated", "weight"},
      {"AnalysisRunCreated", "analysis"},
      {"AnalysisRunRunning", "analysis"},
      {"AnalysisRunSuccessful", "analysis-verdict"},
      {"AnalysisRunFailed", "analysis-verdict"},
      {"AnalysisRunError", "analysis-verdict"},
      {"AnalysisRunInconclusive", "analysis-verdict"},
      {"AnalysisRunTerminated", "terminate"},
      {"SpecApplied", "apply"},
      {"ObjectDeleted", "delete"},
      {"RolloutCompleted", "complete"},
      {"ScalingReplicaSet", "scale"},
      {"ImageVerified", "signature-check"},
      {"ImageAllowed", "signature-check"},
      {"ImageNotVerified", "signature-check"},
      {"ImagePolicyWarning", "signature-check"},
  };
  for (const Row& r : kRows) {
    if (r.reason == reason) return std::string(r.action);
  }
  if (reason.starts_with("Metric")) return "analysis";
  return "other";
}

std::string decisionStatement(const store::Event& event, int64_t index,
                              const std::optional<std::string>& objectJson,
                              std::string_view controllerActor) {
  const std::string& text = objectJson ? *objectJson : std::string();
  ObjectFacts facts = objectFacts(text);
  ordered subjects = ordered::array();
  subjects.push_back(
      {{"name", event.object.toString()}, {"digest", {{"sha256", toHex(sha256(text))}}}});
  std::vector<std::string> pinned = facts.images;
  // A signature check's verified image (its evidence's pinnedImage), which the spec may name by
  // tag only.
  if (auto e = nlohmann::json::parse(event.evidence, nullptr, false); e.is_object()) {
    auto p = e.find("pinnedImage");
    if (p != e.end() && p->is_string() &&
        std::find(pinned.begin(), pinned.end(), p->get<std::string>()) == pinned.end()) {
      pinned.push_back(p->get<std::string>());
    }
  }
  for (const std::string& image : pinned) {
    if (auto d = imageDigest(image)) {
      subjects.push_back({{"name", d->first}, {"digest", {{"sha256", d->second}}}});
    }
  }
  ordered predicate;
  predicate["index"] = index;
  predicate["time"] = spec::formatRfc3339(event.time);
  predicate["object"] = {{"kind", event.object.kind},
                         {"namespace", event.object.namespace_},
                         {"name", event.object.name}};
  predicate["action"] = decisionAction(event.reason);
  predicate["reason"] = event.reason;
  predicate["outcome"] = event.type == store::EventType::kWarning ? "Warning" : "Normal";
  predicate["actor"] = {{"id", event.actor},
                        {"kind", event.actor == controllerActor ? "controller" : "user"}};
  predicate["message"] = event.message;
  if (!event.evidence.empty()) {
    auto evidence = ordered::parse(event.evidence, nullptr, false);
    predicate["evidence"] = evidence.is_discarded() ? ordered(event.evidence) : evidence;
  }
  ordered revision = ordered::object();
  if (facts.generation) revision["generation"] = *facts.generation;
  if (!facts.podTemplateHash.empty()) revision["podTemplateHash"] = facts.podTemplateHash;
  if (!facts.images.empty()) revision["images"] = facts.images;
  if (!objectJson) revision["deleted"] = true;
  predicate["revision"] = revision;
  ordered statement;
  statement["_type"] = kStatementType;
  statement["subject"] = subjects;
  statement["predicateType"] = kDecisionPredicateType;
  statement["predicate"] = predicate;
  return statement.dump();
}

Result<Decision> decodeDecision(std::string_view text) {
  auto bad = [](const std::string& what) {
    return makeError(ErrorCode::kParse, "decision statement: " + what);
  };
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  auto str = [](const nlohmann::json& o, const char* key) -> std::optional<std::string> {
    auto it = o.find(key);
    if (it == o.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  if (str(j, "_type") != std::string(kStatementType))
    return bad("_type: not an in-toto v1 Statement");
  if (str(j, "predicateType") != std::string(kDecisionPredicateType)) {
    return bad("predicateType: not " + std::string(kDecisionPredicateType));
  }
  auto subjects = j.find("subject");
  if (subjects == j.end() || !subjects->is_array() || subjects->empty() ||
      !(*subjects)[0].is_object()) {
    return bad("subject: missing or empty");
  }
  auto p = j.find("predicate");
  if (p == j.end() || !p->is_object()) return bad("predicate: missing or not an object");
  Decision d;
  auto index = p->find("index");
  if (index == p->end() || !index->is_number_integer()) return bad("predicate.index: missing");
  d.index = index->get<int64_t>();
  auto object = p->find("object");
  if (object == p->end() || !object->is_object()) return bad("predicate.object: missing");
  auto kind = str(*object, "kind");
  auto ns = str(*object, "namespace");
  auto name = str(*object, "name");
  if (!kind || !ns || !name) return bad("predicate.object: kind, namespace and name are needed");
  d.object = store::ObjectKey{*kind, *ns, *name};
  auto reason = str(*p, "reason");
  auto time = str(*p, "time");
  if (!reason || !time) return bad("predicate: reason and time are needed");
  d.reason = *reason;
  d.time = *time;
  d.action = str(*p, "action").value_or("");
  d.outcome = str(*p, "outcome").value_or("");
  d.message = str(*p, "message").value_or("");
  if (auto actor = p->find("actor"); actor != p->end() && actor->is_object()) {
    d.actorId = str(*actor, "id").value_or("");
    d.actorKind = str(*actor, "kind").value_or("");
  }
  if (auto e = p->find("evidence"); e != p->end()) d.evidence = e->dump();
  for (const auto& subject : *subjects) {  // "" for a subject without a sha256 digest
    auto digest = subject.is_object() ? subject.find("digest") : subject.end();
    const bool has = digest != subject.end() && digest->is_object();
    d.subjectDigests.push_back(has ? str(*digest, "sha256").value_or("") : "");
  }
  d.objectDigest = d.subjectDigests.front();
  if (auto r = p->find("revision"); r != p->end() && r->is_object()) {
    if (auto g = r->find("generation"); g != r->end() && g->is_number_integer()) {
      d.generation = g->get<int64_t>();
    }
    d.podTemplateHash = str(*r, "podTemplateHash").value_or("");
    if (auto images = r->find("images"); images != r->end() && images->is_array()) {
      for (const auto& i : *images) {
        if (i.is_string()) d.images.push_back(i.get<std::string>());
      }
    }
  }
  return d;
}

}  // namespace ramp::audit
