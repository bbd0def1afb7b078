// examples/judge-template.yaml and examples/demo/judge-template.yaml (make demo --judge): every
// ramp/judge config in them, with the template's args filled in (defaults, else the sample
// values a rollout would pass), is a valid judge config (ramp lint checks the manifest; this
// checks the plugin's own fields, which lint leaves to the provider).

#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "analysis/judge/judge.h"
#include "harness/harness.h"
#include "spec/codec.h"

namespace ramp {
namespace {

// The number of ramp/judge configs in `file`; each one that does not parse is a test failure.
int checkJudgeConfigs(const std::string& relative,
                      const std::map<std::string, std::string>& passed = {}) {
  const std::string file = ramp::testing::sourceDir() + "/" + relative;
  std::ifstream in(file);
  EXPECT_TRUE(in) << file;
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = spec::parseDocuments(text.str(), file);
  EXPECT_FALSE(parsed.unreadable);
  for (const auto& d : parsed.diagnostics) ADD_FAILURE() << d.message;
  int judges = 0;
  for (const auto& doc : parsed.documents) {
    const auto* t = std::get_if<spec::AnalysisTemplate>(&doc.object);
    if (t == nullptr) {
      ADD_FAILURE() << file << ": expected only AnalysisTemplates";
      continue;
    }
    for (const auto& metric : t->spec.metrics) {
      auto it = metric.provider.plugin.find("ramp/judge");
      if (it == metric.provider.plugin.end()) continue;
      std::string config = it->second.text;
      for (const auto& arg : t->spec.args) {
        const std::string placeholder = "{{args." + arg.name + "}}";
        for (size_t at; (at = config.find(placeholder)) != std::string::npos;) {
          auto given = passed.find(arg.name);
          config.replace(at, placeholder.size(),
                         given != passed.end() ? given->second : arg.value.value_or(""));
        }
      }
      auto judge = analysis::judge::parseJudgeConfig(config);
      EXPECT_TRUE(judge) << relative << ": " << t->metadata.name << "/" << metric.name << ": "
                         << (judge ? "" : judge.error().message);
      ++judges;
    }
  }
  return judges;
}

TEST(JudgeExample, EveryJudgeConfigInTheExampleParses) {
  EXPECT_EQ(checkJudgeConfigs("examples/judge-template.yaml"), 2);
}

TEST(JudgeExample, TheDemosJudgeConfigParses) {
  EXPECT_EQ(checkJudgeConfigs("examples/demo/judge-template.yaml", {{"canary-hash", "7d9f8c6b5a"},
                                                                    {"stable-hash", "5c4b3a2918"},
                                                                    {"canary-weight", "5"}}),
            1);
}

}  // namespace
}  // namespace ramp
