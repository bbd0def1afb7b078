// provider.judge is in the builtin list: a metric with provider.plugin["ramp/judge"] resolves
// to it through the Registry and gets a working judge provider.

#include <gtest/gtest.h>

#include "fakes/simulated_clock.h"
#include "ramp/registry.h"

namespace ramp {
namespace {

TEST(JudgeRegistry, RampJudgePluginResolvesToTheJudgeProvider) {
  Registry registry;
  registerBuiltins(registry, BuiltinSettings{"http://127.0.0.1:1"});
  spec::MetricProviderSpec spec;
  spec.plugin["ramp/judge"] =
      spec::RawJson{R"({"preset": {"name": "demo", "canary": "v2", "stable": "v1"}})"};
  auto name = Registry::providerNameFor(spec);
  ASSERT_TRUE(name) << name.error().message;
  EXPECT_EQ(*name, "provider.judge");

  testing::SimulatedClock clock;
  ExtensionContext context;
  context.clock = &clock;
  auto provider = registry.makeProvider(spec, context);
  ASSERT_TRUE(provider) << provider.error().message;
  EXPECT_EQ((*provider)->type(), "ramp/judge");

  auto names = registry.names();
  EXPECT_NE(std::find(names.begin(), names.end(), "provider.judge"), names.end());
}

}  // namespace
}  // namespace ramp
