#include "audit/statement.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

#include "audit/merkle.h"
#include "spec/values.h"

namespace ramp::audit {
namespace {

using ordered = nlohmann::ordered_json;

struct ObjectFacts {
  std::vector<std::string> images;
  std::optional<int64_t> generation;
  std::string podTemplateHash;
  std::string environment;  // its kEnvironmentAnnotation
  bool aborted = false;     // status.abort, or phase Degraded: its last release was rolled back
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
    auto a = meta->find("annotations");
    if (a != meta->end() && a->is_object()) {
      auto env = a->find(std::string(kEnvironmentAnnotation));
      if (env != a->end() && env->is_string()) out.environment = env->get<std::string>();
    }
  }
  const auto status = j.find("status");
  if (status != j.end() && status->is_object()) {
    auto h = status->find("currentPodHash");
    if (h != status->end() && h->is_string()) out.podTemplateHash = h->get<std::string>();
    auto abort = status->find("abort");
    auto phase = status->find("phase");
    out.aborted = (abort != status->end() && abort->is_boolean() && abort->get<bool>()) ||
                  (phase != status->end() && phase->is_string() && *phase == "Degraded");
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

// The signature gate's evidence (rollout/image_gate.cc: flat "key": "value" pairs, lists as
// "key[i]" and "key[i].field") as the predicate's typed fields.
void signatureFields(const nlohmann::json& e, ordered& predicate) {
  auto str = [&](const std::string& k) -> std::optional<std::string> {
    auto it = e.find(k);
    if (it == e.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  ordered signature = ordered::object();
  for (const char* k : {"image", "pinnedImage", "digest", "policy", "authority", "mode"}) {
    if (auto v = str(k)) signature[k] = *v;
  }
  if (auto v = str("allowed")) signature["allowed"] = *v == "true";
  for (const char* list : {"warnings", "attestations"}) {  // "list[0]", "list[1]", …
    ordered values = ordered::array();
    while (auto v = str(std::string(list) + "[" + std::to_string(values.size()) + "]")) {
      values.push_back(*v);
    }
    if (!values.empty()) signature[list] = values;
  }
  predicate["signature"] = signature;
  ordered provenance = ordered::object();
  for (const char* k : {"builderId", "location", "source", "sourceDigest", "invocationId"}) {
    if (auto v = str(std::string("provenance.") + k)) provenance[k] = *v;
  }
  if (!provenance.empty()) predicate["provenance"] = provenance;
  ordered sboms = ordered::array();
  for (size_t i = 0;; ++i) {
    const std::string p = "sboms[" + std::to_string(i) + "].";
    auto format = str(p + "format");
    if (!format) break;
    ordered sbom = {{"format", *format}, {"location", str(p + "location").value_or("")}};
    if (auto n = str(p + "components")) {
      int64_t count = 0;
      auto [end, ec] = std::from_chars(n->data(), n->data() + n->size(), count);
      if (ec == std::errc() && end == n->data() + n->size()) sbom["components"] = count;
    }
    sboms.push_back(sbom);
  }
  if (!sboms.empty()) predicate["sbom"] = sboms;
  if (auto run = str("provenance.invocationId")) predicate["pipelineRun"] = *run;
}

// An AnalysisRun's measurement or verdict (controller/writes.cc's evidence) as the predicate's
// "analysis".
void analysisFields(const store::Event& event, const nlohmann::json& e, ordered& predicate) {
  ordered analysis = ordered::object();
  if (event.object.kind == "AnalysisRun") analysis["run"] = event.object.name;
  for (const char* k : {"metric", "phase", "value", "message"}) {
    auto it = e.find(k);
    if (it != e.end()) analysis[k] = *it;
  }
  if (!analysis.empty()) predicate["analysis"] = analysis;
}

// What was decided, in one word an auditor filters on (docs/audit.md, "decision"); "" when the
// action says it all. `previous` is the object before a decision that may change what runs.
std::string decisionOf(const std::string& action, std::string_view reason, const ObjectFacts& after,
                       const std::optional<ObjectFacts>& previous) {
  if (action == "abort" || action == "rollback") return "rollback";
  if (action == "promote" || action == "complete") return "promote";
  if (action == "analysis-verdict") {
    if (reason == "AnalysisRunSuccessful") return "pass";
    if (reason == "AnalysisRunFailed") return "fail";
    if (reason == "AnalysisRunInconclusive") return "inconclusive";
    return "error";
  }
  if (action == "signature-check") {
    if (reason == "ImageNotVerified") return "deny";
    if (reason == "ImagePolicyWarning") return "warn";
    return "allow";
  }
  if ((action == "apply" || action == "set-image") && previous && !previous->images.empty() &&
      previous->images != after.images) {
    // New images on a rollout whose last release was rolled back: a fix going forward.
    return previous->aborted ? "forward-fix" : "deploy";
  }
  return "";
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
      {"Synced", "sync"},  // the GitOps agent's (gitops/agent.cc)
      {"SyncFailed", "sync"},
      {"RolledBack", "rollback"},
      {"RollbackFailed", "rollback"},
  };
  for (const Row& r : kRows) {
    if (r.reason == reason) return std::string(r.action);
  }
  if (reason.starts_with("Metric")) return "analysis";
  return "other";
}

std::string decisionStatement(const store::Event& event, int64_t index,
                              const DecisionContext& context) {
  const std::string& text = context.object ? *context.object : std::string();
  ObjectFacts facts = objectFacts(text);
  const auto evidence = nlohmann::json::parse(event.evidence, nullptr, false);
  ordered subjects = ordered::array();
  subjects.push_back(
      {{"name", event.object.toString()}, {"digest", {{"sha256", toHex(sha256(text))}}}});
  std::vector<std::string> pinned = facts.images;
  // A signature check's verified image (its evidence's pinnedImage), which the spec may name by
  // tag only.
  if (evidence.is_object()) {
    auto p = evidence.find("pinnedImage");
    if (p != evidence.end() && p->is_string() &&
        std::find(pinned.begin(), pinned.end(), p->get<std::string>()) == pinned.end()) {
      pinned.push_back(p->get<std::string>());
    }
  }
  for (const std::string& image : pinned) {
    if (auto d = imageDigest(image)) {
      subjects.push_back({{"name", d->first}, {"digest", {{"sha256", d->second}}}});
    }
  }
  const std::string action = decisionAction(event.reason);
  // ramp's own automation: the controller, and the GitOps agent's automated syncs (actor
  // "gitops" with origin "gitops", gitops/agent.cc); a user's sync has the user's name.
  const bool controller = event.actor == context.controllerActor ||
                          (event.origin == "gitops" && event.actor == "gitops");
  ordered predicate;
  predicate["index"] = index;
  predicate["time"] = spec::formatRfc3339(event.time);
  predicate["object"] = {{"kind", event.object.kind},
                         {"namespace", event.object.namespace_},
                         {"name", event.object.name}};
  const std::string& environment =
      facts.environment.empty() ? context.environment : facts.environment;
  if (!environment.empty()) predicate["environment"] = environment;
  predicate["action"] = action;
  std::optional<ObjectFacts> before;
  if (context.previous) before = objectFacts(*context.previous);
  if (std::string decision = decisionOf(action, event.reason, facts, before); !decision.empty()) {
    predicate["decision"] = decision;
  }
  predicate["reason"] = event.reason;
  predicate["outcome"] = event.type == store::EventType::kWarning ? "Warning" : "Normal";
  ordered actor = {{"id", event.actor}, {"kind", controller ? "controller" : "user"}};
  if (!event.origin.empty()) {
    actor["origin"] = event.origin;
  } else if (controller) {
    actor["origin"] = "controller";
  }
  predicate["actor"] = actor;
  predicate["message"] = event.message;
  if (!event.evidence.empty()) {
    auto e = ordered::parse(event.evidence, nullptr, false);
    predicate["evidence"] = e.is_discarded() ? ordered(event.evidence) : e;
  }
  if (!event.change.empty()) {
    auto change = ordered::parse(event.change, nullptr, false);
    if (change.is_object()) predicate["change"] = change;
  }
  if (evidence.is_object()) {
    if (action == "signature-check") signatureFields(evidence, predicate);
    if (action == "analysis" || action == "analysis-verdict") {
      analysisFields(event, evidence, predicate);
    }
  }
  if (before && !before->images.empty() && before->images != facts.images) {
    predicate["previous"] = {{"images", before->images}};
  }
  ordered revision = ordered::object();
  if (facts.generation) revision["generation"] = *facts.generation;
  if (!facts.podTemplateHash.empty()) revision["podTemplateHash"] = facts.podTemplateHash;
  if (!facts.images.empty()) revision["images"] = facts.images;
  if (!context.object) revision["deleted"] = true;
  predicate["revision"] = revision;
  ordered statement;
  statement["_type"] = kStatementType;
  statement["subject"] = subjects;
  statement["predicateType"] = kDecisionPredicateType;
  statement["predicate"] = predicate;
  return statement.dump(-1, ' ', false, ordered::error_handler_t::replace);
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
  d.decision = str(*p, "decision").value_or("");
  d.outcome = str(*p, "outcome").value_or("");
  d.message = str(*p, "message").value_or("");
  d.environment = str(*p, "environment").value_or("");
  if (auto actor = p->find("actor"); actor != p->end() && actor->is_object()) {
    d.actorId = str(*actor, "id").value_or("");
    d.actorKind = str(*actor, "kind").value_or("");
    d.actorOrigin = str(*actor, "origin").value_or("");
  }
  if (auto c = p->find("change"); c != p->end() && c->is_object()) d.change = c->dump();
  if (auto prev = p->find("previous"); prev != p->end() && prev->is_object()) {
    if (auto images = prev->find("images"); images != prev->end() && images->is_array()) {
      for (const auto& i : *images) {
        if (i.is_string()) d.previousImages.push_back(i.get<std::string>());
      }
    }
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
