#pragma once

// Diff: what Git wants (rendered documents) against what the store holds (the live objects an
// Application owns, found by their tracking annotation, and any stored object a document names),
// the way Argo CD compares: only what a manifest sets counts (metadata.labels,
// metadata.annotations and spec, plus Application.operation), never status or server-owned
// metadata. Each differing field is named by its path with both values, so a status can say
// "spec.replicas: 3 in Git, 5 live". Copies the plan/read/diff split of
// traffic/haproxy's planCommands.
//
// Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ramp/store/state_store.h"
#include "spec/codec.h"

namespace ramp::gitops {

struct FieldDiff {
  std::string path;     // "spec.template.spec.containers[0].image"
  std::string desired;  // JSON text of the value in Git; "" when Git does not set it
  std::string live;     // JSON text of the live value; "" when the live object lacks it
  bool operator==(const FieldDiff&) const = default;
};

enum class Change { kNone, kCreate, kUpdate, kPrune };

struct ObjectDiff {
  store::ObjectKey key;
  Change change = Change::kNone;
  std::vector<FieldDiff> fields;   // for kUpdate
  std::optional<size_t> document;  // index into the desired documents (not for kPrune)
  int64_t liveVersion = 0;         // 0 when not stored
  std::string liveJson;            // the stored text ("" when not stored)
  bool operator==(const ObjectDiff&) const = default;
};

// How many differing fields describeDiff names before "(+N more)".
inline constexpr size_t kDescribedFields = 10;

// "spec.replicas: 3 in Git, 5 live; metadata.labels.team: …" (every differing field, up to
// kDescribedFields, then "(+N more)"), "not in the store", or "not in Git (prune)". The
// Application's status.resources[].message, which `ramp app diff` and the dashboard show.
std::string describeDiff(const ObjectDiff& diff);

// The store key of a document.
store::ObjectKey keyOf(const spec::Document& document);

// Compares `desired` with `live`: one ObjectDiff per desired document (in order), then one
// kPrune per live object not desired. `live` holds the stored objects that carry this
// Application's tracking annotation or share a key with a desired document.
std::vector<ObjectDiff> diffObjects(const std::vector<spec::Document>& desired,
                                    const std::vector<store::StoredObject>& live);

// The differing fields between two JSON texts of one object (the parts a manifest sets).
std::vector<FieldDiff> diffFields(const std::string& desiredJson, const std::string& liveJson);

}  // namespace ramp::gitops
