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
//                 "action":"promote","reason":"RolloutPromoted","outcome":"Normal",
//                 "actor":{"id":"alice","kind":"user"},"message":"…","evidence":{…},
//                 "revision":{"generation":3,"podTemplateHash":"…","images":["…"]}}}
//
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
  std::string action;   // decisionAction(reason)
  std::string reason;   // the event's reason
  std::string outcome;  // "Normal" or "Warning"
  std::string actorId;
  std::string actorKind;  // "controller" or "user"
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
// "complete", "scale", "signature-check" (the signature gate's verdicts), or "other".
std::string decisionAction(std::string_view reason);

// The statement (JSON text) of `event`, record `index` of the log. `objectJson` is the stored
// text of the event's object after the decision (nullopt when the object no longer exists: the
// subject's digest is then that of the empty text). `controllerActor` is the actor name the
// controller writes (its records have actor kind "controller"; every other actor is a "user").
// Deterministic: the same arguments give the same bytes.
std::string decisionStatement(const store::Event& event, int64_t index,
                              const std::optional<std::string>& objectJson,
                              std::string_view controllerActor = "controller");

// Decodes a statement made by decisionStatement. Errors: kParse naming the field.
Result<Decision> decodeDecision(std::string_view statement);

}  // namespace ramp::audit
