#include <gtest/gtest.h>

#include "fakes/simulated_clock.h"
#include "harness/harness.h"
#include "ramp/registry.h"
#include "store/sqlite/sqlite_state_store.h"

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

namespace ramp {
namespace {

// `ramp serve --store NAME`: the stores are registered by name like every other extension.
TEST(StoreRegistry, StoresAreFoundByNameAndSayWhatTheyNeed) {
  Registry registry;
  registerBuiltins(registry);
  SimulatedClock clock;
  TempDir dir("ramp-storereg");
  ExtensionContext context;
  context.clock = &clock;
  context.dataDir = dir.path();

  auto sqlite = registry.makeStore("store.sqlite", context);
  ASSERT_TRUE(sqlite) << sqlite.error().message;
  EXPECT_TRUE((*sqlite)->transactional());
  ASSERT_TRUE((*sqlite)->put({"Rollout", "default", "a"}, "{}", 0));

  // store.kubernetes needs the daemon's cluster client (--kubeconfig or in-cluster).
  auto kube = registry.makeStore("store.kubernetes", context);
  ASSERT_FALSE(kube);
  EXPECT_EQ(kube.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(kube.error().message.find("--kubeconfig"), std::string::npos);

  auto unknown = registry.makeStore("store.etcd", context);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_NE(unknown.error().message.find("store.kubernetes, store.sqlite"), std::string::npos)
      << unknown.error().message;
  EXPECT_EQ(registry.addStore("sqlite", store::makeSqliteStore).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(registry.addStore("store.sqlite", store::makeSqliteStore).error().code,
            ErrorCode::kAlreadyExists);
}

}  // namespace
}  // namespace ramp
