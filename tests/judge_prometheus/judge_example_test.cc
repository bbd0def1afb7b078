// examples/judge-template.yaml: every ramp/judge config in it, with the template's default args
// filled in, is a valid judge config (ramp lint checks the manifest; this checks the plugin's
// own fields, which lint leaves to the provider).

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "analysis/judge/judge.h"
#include "harness/harness.h"
#include "spec/codec.h"

namespace ramp {
namespace {

TEST(JudgeExample, EveryJudgeConfigInTheExampleParses) {
  const std::string file = ramp::testing::sourceDir() + "/examples/judge-template.yaml";
  std::ifstream in(file);
  ASSERT_TRUE(in) << file;
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = spec::parseDocuments(text.str(), file);
  ASSERT_FALSE(parsed.unreadable);
  for (const auto& d : parsed.diagnostics) ADD_FAILURE() << d.message;
  int judges = 0;
  for (const auto& doc : parsed.documents) {
    const auto* t = std::get_if<spec::AnalysisTemplate>(&doc.object);
    ASSERT_NE(t, nullptr);
    for (const auto& metric : t->spec.metrics) {
      auto it = metric.provider.plugin.find("ramp/judge");
      if (it == metric.provider.plugin.end()) continue;
      std::string config = it->second.text;
      for (const auto& arg : t->spec.args) {
        const std::string placeholder = "{{args." + arg.name + "}}";
        for (size_t at; (at = config.find(placeholder)) != std::string::npos;) {
          config.replace(at, placeholder.size(), arg.value.value_or(""));
        }
      }
      auto judge = analysis::judge::parseJudgeConfig(config);
      EXPECT_TRUE(judge) << t->metadata.name << "/" << metric.name << ": " << judge.error().message;
      ++judges;
    }
  }
  EXPECT_EQ(judges, 2);
}

}  // namespace
}  // namespace ramp
