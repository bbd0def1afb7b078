#pragma once

// Creating an AnalysisRun from AnalysisTemplates / ClusterAnalysisTemplates, as a Rollout (or
// `ramp analyze`) does: follow template references, flatten the templates into one spec, merge
// the caller's args into the declared args, and build the run.
//
// Thread safety: pure functions (the lookup callback is called on the calling thread).

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ramp/error.h"
#include "ramp/spec/analysis.h"

namespace ramp::analysis {

// Finds the template a reference names: an AnalysisTemplate of the run's namespace, or a
// ClusterAnalysisTemplate when ref.clusterScope. Returns kNotFound when there is none.
using TemplateFinder =
    std::function<Result<spec::AnalysisTemplate>(const spec::AnalysisTemplateRef& ref)>;

// Resolves `refs` and, recursively, the templates each template references (spec.templates).
// Each distinct template appears once, in first-reference order (namespaced and cluster-scoped
// templates kept in separate groups, namespaced first, as Argo flattens them).
// On error returns the finder's error, or kInvalidArgument "template reference cycle: a -> b ->
// a" when templates reference each other in a loop.
Result<std::vector<spec::AnalysisTemplate>> resolveTemplateRefs(
    const std::vector<spec::AnalysisTemplateRef>& refs, const TemplateFinder& find);

// Like resolveTemplateRefs, starting from one template already at hand (included first).
Result<std::vector<spec::AnalysisTemplate>> expandTemplateRefs(const spec::AnalysisTemplate& root,
                                                               const TemplateFinder& find);

// Combines the metrics, args, dryRun and measurementRetention of `templates` into one spec.
// On error returns kInvalidArgument: "two metrics have the same name 'x'", "Argument `x`
// specified multiple times with different values: 'a', 'b'", "two Dry-Run metric rules have the
// same name 'x'", "two Measurement Retention metric rules have the same name 'x'".
Result<spec::AnalysisTemplateSpec> flattenTemplates(
    const std::vector<spec::AnalysisTemplate>& templates);

struct NewRunOptions {
  std::string name;          // the run's name; when empty, generateName is kept for the store
  std::string generateName;  // prefix for a generated name
  std::string namespace_ = "default";
  std::vector<spec::Argument> args;  // merged into the templates' declared args by name
  std::vector<spec::DryRun> dryRun;  // added to the templates' rules
  std::vector<spec::MeasurementRetention> measurementRetention;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

// Builds a new (not yet started) AnalysisRun from `templates` (already resolved and in order).
// On error returns kInvalidArgument from flattening or mergeArgs ("args.x was not resolved"),
// or for duplicate dryRun / measurementRetention rules.
Result<spec::AnalysisRun> newRunFromTemplates(const std::vector<spec::AnalysisTemplate>& templates,
                                              const NewRunOptions& options);

}  // namespace ramp::analysis
