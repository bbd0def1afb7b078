#pragma once

// Diagnostic: one problem found in a manifest, located by file, line, column and field path,
// e.g. `rollout.yaml:31:18: spec.strategy.canary.steps[2].pause.duration: must not be negative`.
//
// src/spec reports every problem it finds as a Diagnostic (decoding and validation never stop at
// the first error). Plain value type; thread safety: none needed.

#include <cstdint>
#include <string>
#include <vector>

namespace ramp::spec {

enum class Severity { kError, kWarning, kNote };

inline const char* severityName(Severity s) {
  switch (s) {
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kNote: return "note";
  }
  return "error";
}

struct Diagnostic {
  std::string file;  // as given by the caller; may be empty (e.g. an API request body)
  int32_t line = 0;  // 1-based; 0 when unknown (e.g. an object built in code)
  int32_t column = 0;
  std::string path;  // field path, e.g. spec.strategy.canary.steps[2].pause.duration
  std::string message;
  Severity severity = Severity::kError;

  bool operator==(const Diagnostic&) const = default;
};

// Formats "file:line:column: path: message" (parts that are unknown are left out), with a
// "warning: " / "note: " prefix on the message for those severities.
inline std::string formatDiagnostic(const Diagnostic& d) {
  std::string out;
  if (!d.file.empty()) out += d.file + ":";
  if (d.line > 0) {
    out += std::to_string(d.line) + ":" + std::to_string(d.column) + ":";
  }
  if (!out.empty()) out += " ";
  if (d.severity != Severity::kError) out += std::string(severityName(d.severity)) + ": ";
  if (!d.path.empty()) out += d.path + ": ";
  out += d.message;
  return out;
}

inline bool hasErrors(const std::vector<Diagnostic>& ds) {
  for (const Diagnostic& d : ds) {
    if (d.severity == Severity::kError) return true;
  }
  return false;
}

}  // namespace ramp::spec
