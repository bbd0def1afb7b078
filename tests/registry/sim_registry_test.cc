#include <gtest/gtest.h>

#include "fakes/simulated_clock.h"
#include "harness/harness.h"
#include "ramp/registry.h"

namespace ramp {
namespace {

using ramp::testing::SimulatedClock;
using ramp::testing::TempDir;

TEST(SimRegistry, TheSimWorldIsRegisteredUnderItsNames) {
  Registry registry;
  registerBuiltins(registry);
  SimulatedClock clock;
  TempDir dir("ramp-simreg");
  ExtensionContext context;
  context.clock = &clock;
  context.dataDir = dir.path();

  auto platform = registry.makePlatform("platform.sim", context);
  ASSERT_TRUE(platform) << platform.error().message;
  EXPECT_EQ((*platform)->type(), "platform.sim");

  auto routerName = Registry::routerNameFor("ramp/sim");
  ASSERT_TRUE(routerName);
  EXPECT_EQ(*routerName, "traffic.sim");
  auto router = registry.makeRouter(*routerName, RouterContext{"default/demo", "{}", 100}, context);
  ASSERT_TRUE(router) << router.error().message;
  EXPECT_EQ((*router)->type(), "ramp/sim");

  spec::MetricProviderSpec spec;
  spec.plugin["ramp/sim"] = spec::RawJson{R"({"key": "k", "script": {"*": [1]}})"};
  auto providerName = Registry::providerNameFor(spec);
  ASSERT_TRUE(providerName);
  EXPECT_EQ(*providerName, "provider.sim");
  auto provider = registry.makeProvider(spec, context);
  ASSERT_TRUE(provider) << provider.error().message;
  EXPECT_EQ((*provider)->type(), "ramp/sim");
}

}  // namespace
}  // namespace ramp
