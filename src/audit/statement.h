#pragma once

// Decision records: the in-toto Statement ramp signs for every decision it takes (an event
// written with writeWithEvents: a step, a weight change, a promotion, an abort, an analysis
// verdict, a user's action with the caller's name), and its decoding. docs/audit.md documents
// the predicate:
//
//   {"_type":"https://in-toto.io/Statement/v1",
//    "subject":[{"name":"Rollout/shop/web","digest":{"sha256":"<of the stored object text>"}},
//               {"name":"registry.example/web","digest":{"sha256":"<image digest>"}}, …],
//    "predicateType":"https://ramp.dev/attestation/decision/v1",
//    "predicate":{"index":N,"time":"…","object":{"kind","namespace","name"},
//                 "environment":"prod","action":"promote","decision":"promote",
//                 "reason":"RolloutPromoted","outcome":"Normal",
//                 "actor":{"id":"alice","kind":"user","origin":"api"},
//                 "message":"…","evidence":{…},"change":{"repo","revision","pullRequest",…},
//                 "signature":{…},"provenance":{…},"sbom":[…],"pipelineRun":"…",
//                 "analysis":{…},"previous":{"images":["…"]},
//                 "revision":{"generation":3,"podTemplateHash":"…","images":["…"]}}}
//
// "environment", "decision" and every field after "outcome" are present only when the decision
// has them.
// Pure functions.
//
// Thread safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/error.h"
#include "ramp/store/state_store.h"

namespace ramp::audit {

inline constexpr std::string_view kStatementType = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view kDecisionPredicateType =
    "https://ramp.dev/attestation/decision/v1";

// What the statement of an event says, as a reader needs it (ramp audit show).
struct Decision {
  int64_t index = 0;
  std::string time;  // RFC 3339
  store::ObjectKey object;
  std::string action;       // decisionAction(reason)
  std::string decision;     // "rollback", "promote", "deploy", "forward-fix", "pass", … or ""
  std::string reason;       // the event's reason
  std::string outcome;      // "Normal" or "Warning"
  std::string environment;  // "" = none said
  std::string actorId;
  std::string actorKind;                    // "controller" or "user"
  std::string actorOrigin;                  // "api", "gitops", "controller"; "" = not said
  std::string change;                       // JSON text of the Git change ("" = none)
  std::vector<std::string> previousImages;  // the object's images before the decision
  std::string message;
  std::string evidence;                     // JSON text ("" = none)
  std::string objectDigest;                 // hex SHA-256 of the stored object text
  std::vector<std::string> subjectDigests;  // hex SHA-256 of each subject ("" = none), object first
  std::vector<std::string> images;          // the object's container images
  std::optional<int64_t> generation;        // metadata.generation
  std::string podTemplateHash;              // status.currentPodHash
};

// The kind of decision an event reason stands for: "promote", "abort", "retry", "rollback",
// "pause", "resume", "restart", "set-image", "step", "weight", "analysis" (a run started or
// measured), "analysis-verdict" (a run's final phase), "terminate", "apply", "delete",
// "complete", "scale", "signature-check" (the signature gate's verdicts), "sync" (the GitOps
// agent's syncs, done or failed; its rollbacks are "rollback"), or "other".
std::string decisionAction(std::string_view reason);

// The annotation naming the environment an object is deployed to; it overrides the daemon's
// (DecisionContext::environment).
inline constexpr std::string_view kEnvironmentAnnotation = "ramp.dev/environment";

// What the statement of an event is made of, beside the event itself.
struct DecisionContext {
  // The stored text of the event's object after the decision; nullopt when the object no longer
  // exists (the subject's digest is then that of the empty text).
  std::optional<std::string> object;
  // Its stored text before the decision, given for a decision that may change what runs (an
  // apply, a set image, an undo): when its images differ from `object`'s they are recorded as
  // predicate.previous. nullopt = not given, or the object did not exist.
  std::optional<std::string> previous;
  // The environment the daemon deploys to (ramp serve --environment); "" = none.
  std::string environment;
  // The actor name the controller writes: its records have actor kind "controller" (and origin
  // "controller" unless the event says another); every other actor is a "user".
  std::string controllerActor = "controller";
};

// The statement (JSON text) of `event`, record `index` of the log. Deterministic: the same
// arguments give the same bytes.
std::string decisionStatement(const store::Event& event, int64_t index,
                              const DecisionContext& context);

// Decodes a statement made by decisionStatement. Errors: kParse naming the field.
Result<Decision> decodeDecision(std::string_view statement);

}  // namespace ramp::audit
