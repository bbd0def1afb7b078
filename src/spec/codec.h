#pragma once

// Reading and writing manifests: YAML or JSON text -> typed Rollout / AnalysisTemplate /
// ClusterAnalysisTemplate / AnalysisRun objects and Argo CD's Application / AppProject, and typed
// objects -> JSON. Argo CD's kinds are read leniently: a field ramp does not model is accepted and
// reported as ignored (a warning with its position), since Argo CD has many ramp does not use.
//
// Decoding is strict, like `kubectl apply --validate=strict`: an unknown field, a value of the
// wrong type, a duplicate key or a bad apiVersion is an error naming file:line:column and the
// field path. Every problem is collected, not only the first. Kubernetes kinds ramp does not
// manage (Service, Ingress, ConfigMap, …) are skipped with a note. Input is bounded (size,
// nesting depth, node count after alias expansion) so hostile input fails fast with a clear
// error instead of exhausting memory.
//
// Defaults are NOT filled in: an absent optional field stays absent so that a manifest
// round-trips as written; effective values come from the *OrDefault helpers in
// ramp/spec/rollout.h and spec/values.h.
//
// Pure functions; thread-safe.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ramp/spec/analysis.h"
#include "ramp/spec/diagnostic.h"
#include "ramp/spec/gitops.h"
#include "ramp/spec/meta.h"
#include "ramp/spec/rollout.h"

namespace ramp::spec {

// A decoded object. A ClusterAnalysisTemplate is an AnalysisTemplate with clusterScoped = true.
using Object = std::variant<Rollout, AnalysisTemplate, AnalysisRun, Application, AppProject>;

Kind kindOf(const Object& object);
const char* kindName(Kind kind);  // "Rollout", "AnalysisTemplate", …
const ObjectMeta& metadataOf(const Object& object);

struct Position {
  int32_t line = 0;  // 1-based
  int32_t column = 0;
  bool operator==(const Position&) const = default;
};

// Field path -> where that field's value starts in the source (for locating validation errors).
using SourceMap = std::map<std::string, Position>;

struct Document {
  Object object;
  std::string file;
  Position position;  // where the document starts
  SourceMap positions;
};

struct DecodeLimits {
  size_t maxBytes = 8 * 1024 * 1024;  // whole input
  int maxDepth = 64;                  // nesting of maps and sequences
  size_t maxNodes = 1000000;          // nodes after alias expansion, per input
};

struct ParseOutput {
  std::vector<Document> documents;      // only the objects that decoded without error
  std::vector<Diagnostic> diagnostics;  // errors, warnings and notes, in source order
  // True when the input could not be read as YAML at all (syntax error, over a limit, binary):
  // `ramp lint` exits 2 for these rather than 1.
  bool unreadable = false;
};

// Parses every YAML document of `text` (JSON is YAML) and decodes the kinds ramp models.
// `file` is used only in diagnostics. Never throws.
ParseOutput parseDocuments(std::string_view text, std::string_view file,
                           const DecodeLimits& limits = {});

// Fills line/column of each diagnostic from `positions` (the longest known prefix of its path)
// and sets its file. Used to place validation errors in the source.
void locate(std::vector<Diagnostic>& diagnostics, const Document& document);

// Compact JSON with apiVersion and kind, empty/unset fields omitted (as Kubernetes omitempty).
// Parsing the text back with the matching fromJson gives an == object.
std::string toJson(const Rollout& rollout);
std::string toJson(const AnalysisTemplate& analysisTemplate);  // kind from clusterScoped
std::string toJson(const AnalysisRun& run);
std::string toJson(const Application& app);  // with its top-level `operation` when set
std::string toJson(const AppProject& project);
std::string toJson(const Object& object);

// toJson(rollout) in two parts, for a writer that changes only the status (the controller
// writes a new status on most reconciles): the head is everything but the status, and
// rolloutJsonWithStatus(rolloutJsonHead(r), r.status) == toJson(r) for every rollout.
std::string rolloutJsonHead(const Rollout& rollout);
std::string rolloutJsonWithStatus(std::string_view head, const RolloutStatus& status);

// Appends `s` escaped for the inside of a JSON string literal (no quotes), as the JSON writer
// escapes it: '"', '\\', \b \f \n \r \t, other bytes below 0x20 as \u00xx, every other byte
// as it is (no UTF-8 check).
void appendJsonEscaped(std::string& out, std::string_view s);

// Decodes one object from JSON text (the store, the HTTP API). On error `value` is empty and
// `diagnostics` holds every problem with its field path (line/column when known).
template <class T>
struct Decoded {
  std::optional<T> value;
  std::vector<Diagnostic> diagnostics;
};

Decoded<Rollout> rolloutFromJson(std::string_view json, std::string_view file = "");
// Accepts kind AnalysisTemplate or ClusterAnalysisTemplate.
Decoded<AnalysisTemplate> analysisTemplateFromJson(std::string_view json,
                                                   std::string_view file = "");
Decoded<AnalysisRun> analysisRunFromJson(std::string_view json, std::string_view file = "");
Decoded<Application> applicationFromJson(std::string_view json, std::string_view file = "");
Decoded<AppProject> appProjectFromJson(std::string_view json, std::string_view file = "");
// Any of the kinds above, chosen by the "kind" field.
Decoded<Object> objectFromJson(std::string_view json, std::string_view file = "");

}  // namespace ramp::spec
