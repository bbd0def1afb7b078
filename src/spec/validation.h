#pragma once

// Validation of decoded objects with Argo Rollouts' rules (pkg/apis/rollouts/validation and
// utils/analysis ValidateMetric), plus the Kubernetes pod template checks a Rollout needs.
// Every problem is reported (not only the first) as a Diagnostic with a field path and no
// position; spec::locate() places it in the source.
//
// Values that still hold a "{{args.x}}" placeholder are not range-checked (they are checked
// when an AnalysisRun resolves them). Pure functions; thread-safe.

#include <vector>

#include "ramp/spec/analysis.h"
#include "ramp/spec/diagnostic.h"
#include "ramp/spec/gitops.h"
#include "ramp/spec/rollout.h"
#include "spec/codec.h"

namespace ramp::spec {

std::vector<Diagnostic> validateRollout(const Rollout& rollout);
std::vector<Diagnostic> validateAnalysisTemplate(const AnalysisTemplate& analysisTemplate);
std::vector<Diagnostic> validateAnalysisRun(const AnalysisRun& run);
// Argo CD's kinds (gitops_validation.cc): the fields ramp reads; the sync options and destinations
// ramp does not apply are warnings.
std::vector<Diagnostic> validateApplication(const Application& app);
std::vector<Diagnostic> validateAppProject(const AppProject& project);
std::vector<Diagnostic> validateObject(const Object& object);

// metadata.name (or generateName) as Kubernetes requires it, for every kind.
std::vector<Diagnostic> validateMetadata(const ObjectMeta& metadata);

// ValidateMetric for one metric; paths are relative to `path` (e.g. "spec.metrics[0]").
std::vector<Diagnostic> validateMetric(const Metric& metric, const std::string& path);

// Parses and validates every object of `text`: decode diagnostics, then each decoded object's
// validation diagnostics placed in the source. `unreadable` as in ParseOutput.
struct LintResult {
  std::vector<Document> documents;
  std::vector<Diagnostic> diagnostics;
  bool unreadable = false;
};
LintResult lintText(std::string_view text, std::string_view file, const DecodeLimits& limits = {});

}  // namespace ramp::spec
