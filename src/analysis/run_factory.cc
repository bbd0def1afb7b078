#include "analysis/run_factory.h"

#include <algorithm>
#include <set>
#include <utility>

#include "analysis/args.h"

namespace ramp::analysis {
namespace {

using Key = std::pair<bool, std::string>;  // (clusterScope, name)

std::string describe(const Key& k) { return (k.first ? "cluster:" : "") + k.second; }

struct Walker {
  const TemplateFinder& find;
  std::vector<spec::AnalysisTemplate> namespaced;
  std::vector<spec::AnalysisTemplate> cluster;
  std::set<Key> done;
  std::vector<Key> stack;

  Status visit(const Key& key, const spec::AnalysisTemplate* given) {
    if (std::find(stack.begin(), stack.end(), key) != stack.end()) {
      std::string path;
      bool inCycle = false;
      for (const Key& k : stack) {
        if (k == key) inCycle = true;
        if (inCycle) path += describe(k) + " -> ";
      }
      return makeError(ErrorCode::kInvalidArgument,
                       "template reference cycle: " + path + describe(key));
    }
    if (done.contains(key)) return {};
    spec::AnalysisTemplate tmpl;
    if (given != nullptr) {
      tmpl = *given;
    } else {
      Result<spec::AnalysisTemplate> found = find(spec::AnalysisTemplateRef{key.second, key.first});
      if (!found) return std::unexpected(found.error());
      tmpl = std::move(*found);
    }
    done.insert(key);
    stack.push_back(key);
    std::vector<spec::AnalysisTemplateRef> refs = tmpl.spec.templates;
    (key.first ? cluster : namespaced).push_back(std::move(tmpl));
    for (const spec::AnalysisTemplateRef& ref : refs) {
      Status s = visit(Key{ref.clusterScope, ref.templateName}, nullptr);
      if (!s) return s;
    }
    stack.pop_back();
    return {};
  }

  std::vector<spec::AnalysisTemplate> result() {
    std::vector<spec::AnalysisTemplate> all = std::move(namespaced);
    for (auto& t : cluster) all.push_back(std::move(t));
    return all;
  }
};

}  // namespace

Result<std::vector<spec::AnalysisTemplate>> resolveTemplateRefs(
    const std::vector<spec::AnalysisTemplateRef>& refs, const TemplateFinder& find) {
  Walker w{find, {}, {}, {}, {}};
  for (const spec::AnalysisTemplateRef& ref : refs) {
    Status s = w.visit(Key{ref.clusterScope, ref.templateName}, nullptr);
    if (!s) return std::unexpected(s.error());
  }
  return w.result();
}

Result<std::vector<spec::AnalysisTemplate>> expandTemplateRefs(const spec::AnalysisTemplate& root,
                                                               const TemplateFinder& find) {
  Walker w{find, {}, {}, {}, {}};
  Status s = w.visit(Key{root.clusterScoped, root.metadata.name}, &root);
  if (!s) return std::unexpected(s.error());
  return w.result();
}

Result<spec::AnalysisTemplateSpec> flattenTemplates(
    const std::vector<spec::AnalysisTemplate>& templates) {
  spec::AnalysisTemplateSpec out;
  std::set<std::string> metricNames;
  std::set<std::string> dryRunNames;
  std::set<std::string> retentionNames;
  for (const spec::AnalysisTemplate& t : templates) {
    for (const spec::Metric& m : t.spec.metrics) {
      if (!metricNames.insert(m.name).second) {
        return makeError(ErrorCode::kInvalidArgument,
                         "two metrics have the same name '" + m.name + "'");
      }
      out.metrics.push_back(m);
    }
  }
  for (const spec::AnalysisTemplate& t : templates) {
    for (const spec::DryRun& d : t.spec.dryRun) {
      if (!dryRunNames.insert(d.metricName).second) {
        return makeError(ErrorCode::kInvalidArgument,
                         "two Dry-Run metric rules have the same name '" + d.metricName + "'");
      }
      out.dryRun.push_back(d);
    }
    for (const spec::MeasurementRetention& r : t.spec.measurementRetention) {
      if (!retentionNames.insert(r.metricName).second) {
        return makeError(
            ErrorCode::kInvalidArgument,
            "two Measurement Retention metric rules have the same name '" + r.metricName + "'");
      }
      out.measurementRetention.push_back(r);
    }
    for (const spec::Argument& arg : t.spec.args) {
      auto prev = std::find_if(out.args.begin(), out.args.end(),
                               [&](const spec::Argument& a) { return a.name == arg.name; });
      if (prev == out.args.end()) {
        out.args.push_back(arg);
        continue;
      }
      if (prev->value && arg.value && *prev->value != *arg.value) {
        return makeError(ErrorCode::kInvalidArgument,
                         "Argument `" + arg.name + "` specified multiple times with different " +
                             "values: '" + *prev->value + "', '" + *arg.value + "'");
      }
      // A value already set is never replaced by an arg without one.
      if (!prev->value) *prev = arg;
    }
  }
  return out;
}

Result<spec::AnalysisRun> newRunFromTemplates(const std::vector<spec::AnalysisTemplate>& templates,
                                              const NewRunOptions& options) {
  Result<spec::AnalysisTemplateSpec> flat = flattenTemplates(templates);
  if (!flat) return std::unexpected(flat.error());
  Result<std::vector<spec::Argument>> args = mergeArgs(options.args, flat->args);
  if (!args) return std::unexpected(args.error());

  spec::AnalysisRun run;
  run.metadata.name = options.name;
  run.metadata.generateName = options.generateName;
  run.metadata.namespace_ = options.namespace_;
  run.metadata.labels = options.labels;
  run.metadata.annotations = options.annotations;
  run.spec.metrics = std::move(flat->metrics);
  run.spec.args = std::move(*args);

  // The caller's rules come first, then the templates'; a rule named twice is an error.
  std::set<std::string> seen;
  for (const std::vector<spec::DryRun>* list : {&options.dryRun, &std::as_const(flat->dryRun)}) {
    for (const spec::DryRun& d : *list) {
      if (!seen.insert(d.metricName).second) {
        return makeError(ErrorCode::kInvalidArgument,
                         "two Dry-Run metric rules have the same name '" + d.metricName + "'");
      }
      run.spec.dryRun.push_back(d);
    }
  }
  seen.clear();
  for (const std::vector<spec::MeasurementRetention>* list :
       {&options.measurementRetention, &std::as_const(flat->measurementRetention)}) {
    for (const spec::MeasurementRetention& r : *list) {
      if (!seen.insert(r.metricName).second) {
        return makeError(
            ErrorCode::kInvalidArgument,
            "two Measurement Retention metric rules have the same name '" + r.metricName + "'");
      }
      run.spec.measurementRetention.push_back(r);
    }
  }
  return run;
}

}  // namespace ramp::analysis
