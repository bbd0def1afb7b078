#pragma once

// Building blocks shared by every kind in the spec model: object metadata, IntOrString,
// raw JSON kept for fields ramp does not interpret, and the manifest kinds themselves.
//
// These are plain value types: no I/O, no validation (src/spec does both). They compare with ==
// so that a JSON round trip can be checked for equality.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ramp/clock.h"

namespace ramp::spec {

inline constexpr const char* kApiVersion = "argoproj.io/v1alpha1";

// A Kubernetes IntOrString: an integer, or a string such as "25%", "30s" or "{{args.count}}".
struct IntOrString {
  std::variant<int64_t, std::string> value = int64_t{0};

  bool isInt() const { return std::holds_alternative<int64_t>(value); }
  int64_t intValue() const { return std::get<int64_t>(value); }
  const std::string& stringValue() const { return std::get<std::string>(value); }
  bool operator==(const IntOrString&) const = default;
};

// JSON text of a field ramp keeps without interpreting (a provider ramp does not implement, a
// Kubernetes field outside ramp's model). Empty text means "absent". The text is canonical
// (compact, keys sorted) so equality of RawJson is equality of the JSON values.
struct RawJson {
  std::string text;

  bool empty() const { return text.empty(); }
  bool operator==(const RawJson&) const = default;
};

struct KeyValue {
  std::string key;
  std::string value;
  bool operator==(const KeyValue&) const = default;
};

struct ObjectMeta {
  std::string name;
  std::string generateName;
  std::string namespace_ = "default";  // "namespace" in YAML; unused for cluster-scoped kinds
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  // Set by the store, never by a user manifest (ignored on apply).
  std::string uid;
  int64_t generation = 0;
  std::string resourceVersion;
  std::optional<Time> creationTimestamp;

  bool operator==(const ObjectMeta&) const = default;
};

enum class Kind {
  kRollout,
  kAnalysisTemplate,
  kClusterAnalysisTemplate,
  kAnalysisRun,
  kApplication,  // Argo CD's, read by ramp's GitOps agent (ramp/spec/gitops.h)
  kAppProject,
};

}  // namespace ramp::spec
