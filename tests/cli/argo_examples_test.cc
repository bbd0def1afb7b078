// `ramp lint` accepts every Rollout / AnalysisTemplate / ClusterAnalysisTemplate / AnalysisRun in
// the example manifests published by Argo Rollouts (tests/testdata/argo-examples), passing over
// the kinds it does not manage.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "spec/validation.h"

namespace ramp::spec {
namespace {

namespace fs = std::filesystem;

fs::path examplesDir() {
  const char* src = std::getenv("RAMP_SOURCE_DIR");
  return fs::path(src ? src : ".") / "tests" / "testdata" / "argo-examples";
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ArgoExamplesTest, EveryPublishedExampleIsAccepted) {
  size_t files = 0, objects = 0;
  for (const auto& e : fs::directory_iterator(examplesDir())) {
    if (e.path().extension() != ".yaml") continue;
    ++files;
    LintResult r = lintText(read(e.path()), e.path().filename().string());
    EXPECT_FALSE(r.unreadable) << e.path();
    for (const Diagnostic& d : r.diagnostics) {
      EXPECT_NE(d.severity, Severity::kError) << formatDiagnostic(d);
    }
    objects += r.documents.size();
  }
  EXPECT_GE(files, 17u);
  EXPECT_GE(objects, 18u);
}

// Published examples that are invalid under Argo's own current schema: ramp rejects them too.
TEST(ArgoExamplesTest, OutdatedExampleIsRejectedForTheRightReasons) {
  // examples/rollout-with-analysis.yaml was written for the v0.x schema: the background analysis
  // uses `name` + `templateName` instead of `templates: [{templateName}]`, the metric uses
  // `maxFailures` (now `failureLimit`) and an integer `interval` (now a Go duration string).
  // Argo's CRD schema rejects all four fields today.
  fs::path p = examplesDir() / "invalid" / "rollout-with-analysis.yaml";
  LintResult r = lintText(read(p), "rollout-with-analysis.yaml");
  std::set<std::string> paths;
  for (const Diagnostic& d : r.diagnostics) {
    if (d.severity == Severity::kError) paths.insert(d.path);
  }
  EXPECT_EQ(paths,
            (std::set<std::string>{"spec.strategy.canary.analysis.name",
                                   "spec.strategy.canary.analysis.templateName",
                                   "spec.metrics[0].interval", "spec.metrics[0].maxFailures"}));
}

}  // namespace
}  // namespace ramp::spec
