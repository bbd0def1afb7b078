// Which Service selects which revision (rollout/services.h), from the spec, the status a
// reconcile leaves and its SyncEndpoints action.

#include "rollout/services.h"

#include <gtest/gtest.h>

#include "rollout/world.h"

namespace ramp::rollout {
namespace {

using platform::ServiceSelection;

TEST(ServiceSelections, FollowArgosServiceRoles) {
  const spec::Rollout blueGreen = testing::parseRollout(testing::blueGreenYaml(
      "      activeService: web-active\n      previewService: web-preview\n"));
  const spec::Rollout activeOnly =
      testing::parseRollout(testing::blueGreenYaml("      activeService: web-active\n"));
  const spec::Rollout canary = testing::parseRollout(
      testing::canaryYaml("      stableService: web-stable\n      canaryService: web-canary\n"
                          "      steps: [{setWeight: 50}]\n"));
  const spec::Rollout basicCanary =
      testing::parseRollout(testing::canaryYaml("      steps: [{setWeight: 50}]\n"));
  auto status = [](const std::string& active, const std::string& preview) {
    spec::RolloutStatus s;
    s.blueGreen.activeSelector = active;
    s.blueGreen.previewSelector = preview;
    return s;
  };
  struct Case {
    std::string name;
    const spec::Rollout* rollout;
    spec::RolloutStatus next;
    SyncEndpoints sync;
    std::vector<ServiceSelection> want;
  } cases[] = {
      {"blue-green: active and preview from the status",
       &blueGreen,
       status("v1", "v2"),
       {"v1", "v2"},
       {{"web-active", "v1", false}, {"web-preview", "v2", false}}},
      {"blue-green first deploy: the active Service waits for its selector",
       &blueGreen,
       status("", "v1"),
       {"v1", "v1"},
       {{"web-preview", "v1", false}}},
      {"blue-green without a preview Service",
       &activeOnly,
       status("v2", "v2"),
       {"v2", "v2"},
       {{"web-active", "v2", false}}},
      {"canary: stable and canary revisions once available",
       &canary,
       {},
       {"v1", "v2"},
       {{"web-stable", "v1", true}, {"web-canary", "v2", true}}},
      {"canary without Services", &basicCanary, {}, {"v1", "v2"}, {}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(serviceSelections(*c.rollout, c.next, c.sync), c.want) << c.name;
  }
}

TEST(ReplicaShareWeight, FollowsReadyReplicasLikeAService) {
  struct Case {
    int stable, canary;
    int32_t max, want;
  } cases[] = {
      {3, 1, 100, 25},    // setWeight 25 of 4 replicas
      {2, 2, 100, 50},    //
      {4, 1, 100, 20},    // the surge replica before stable scales down
      {2, 1, 100, 33},    // 33.3 rounds down
      {1, 2, 100, 67},    // 66.7 rounds up
      {7, 1, 100, 13},    // 12.5 rounds half up
      {0, 3, 100, 100},   // only the canary is ready
      {3, 0, 100, 0},     // the canary is not ready yet
      {0, 0, 100, 0},     // nothing is ready
      {299, 1, 100, 1},   // a ready canary replica always gets some traffic
      {1, 299, 100, 99},  // and so does a ready stable one
      {1, 1, 10, 5},      // out of maxTrafficWeight
      {-1, 2, 100, 100},  // a negative count is none
  };
  for (const Case& c : cases) {
    EXPECT_EQ(replicaShareWeight(c.stable, c.canary, c.max), c.want)
        << c.stable << " stable, " << c.canary << " canary of " << c.max;
  }
}

}  // namespace
}  // namespace ramp::rollout
