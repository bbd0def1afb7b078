#include "traffic/sim/sim_router.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "harness/harness.h"

namespace ramp::traffic::sim {
namespace {

using ramp::testing::TempDir;

std::unique_ptr<SimRouter> router(const std::string& key, const std::string& dir,
                                  const std::string& config = "{}", int32_t maxWeight = 100) {
  auto r = SimRouter::create(key, config, maxWeight, dir);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? std::move(*r) : nullptr;
}

RevisionEndpoints endpoints(const std::string& hash, int n, bool ready) {
  RevisionEndpoints r{hash, {}};
  for (int i = 0; i < n; ++i) {
    r.endpoints.push_back({hash + "-" + std::to_string(i), "127.0.0.1", 0, ready});
  }
  return r;
}

HeaderRoute headerRoute(const std::string& name, const std::string& value) {
  return {name, {{"X-Canary", {value, "", ""}}}};
}

TEST(SimRouter, VerifyWeightReadsBackWhatWasSet) {
  TempDir dir("ramp-simr");
  auto r = router("default/demo", dir.path());
  EXPECT_EQ(r->type(), "ramp/sim");
  EXPECT_EQ(*r->verifyWeight(0, {}), WeightCheck::kNotYet);  // nothing applied yet
  ASSERT_TRUE(r->setWeight(20, {}));
  EXPECT_EQ(*r->verifyWeight(20, {}), WeightCheck::kVerified);
  EXPECT_EQ(*r->verifyWeight(30, {}), WeightCheck::kNotYet);
  std::vector<WeightDestination> extra = {{"svc", "exp1", 10}};
  EXPECT_EQ(*r->verifyWeight(20, extra), WeightCheck::kNotYet);
  ASSERT_TRUE(r->setWeight(20, extra));
  EXPECT_EQ(*r->verifyWeight(20, extra), WeightCheck::kVerified);
}

TEST(SimRouter, SetWeightIsIdempotentAndBounded) {
  TempDir dir("ramp-simr");
  auto r = router("default/demo", dir.path(), "{}", 1000);
  ASSERT_TRUE(r->setWeight(500, {}));
  ASSERT_TRUE(r->setWeight(500, {}));
  EXPECT_EQ(readSimTraffic(dir.path(), "default/demo")->weightChanges, 1);
  EXPECT_EQ(r->setWeight(1001, {}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r->setWeight(-1, {}).error().code, ErrorCode::kInvalidArgument);
  std::vector<WeightDestination> tooMuch = {{"svc", "exp1", 600}};
  EXPECT_EQ(r->setWeight(500, tooMuch).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(readSimTraffic(dir.path(), "default/demo")->canaryWeight, 500);
}

TEST(SimRouter, RoutersOnOneDataDirShareState) {
  TempDir dir("ramp-simr");
  auto a = router("default/a", dir.path());
  auto b = router("default/b", dir.path());
  auto a2 = router("default/a", dir.path());
  ASSERT_TRUE(a->setWeight(10, {}));
  ASSERT_TRUE(b->setWeight(40, {}));
  EXPECT_EQ(*a2->verifyWeight(10, {}), WeightCheck::kVerified);
  EXPECT_EQ(readSimTraffic(dir.path(), "default/a")->canaryWeight, 10);
  EXPECT_EQ(readSimTraffic(dir.path(), "default/b")->canaryWeight, 40);
  // A router on another data dir does not see them.
  TempDir other("ramp-simr");
  auto c = router("default/a", other.path());
  EXPECT_EQ(*c->verifyWeight(10, {}), WeightCheck::kNotYet);
  EXPECT_EQ(readSimTraffic(dir.path(), "default/none").error().code, ErrorCode::kNotFound);
  // Another spelling of the same directory is the same state.
  auto a3 = router("default/a", dir.path() + "/./");
  EXPECT_EQ(*a3->verifyWeight(10, {}), WeightCheck::kVerified);
  ASSERT_TRUE(a3->setWeight(15, {}));
  EXPECT_EQ(*a->verifyWeight(15, {}), WeightCheck::kVerified);
}

TEST(SimRouter, StateSurvivesAllRoutersGoingAway) {
  TempDir dir("ramp-simr");
  SimTrafficState before;
  {
    auto r = router("default/demo", dir.path());
    ASSERT_TRUE(r->syncEndpoints(endpoints("stab", 3, true), endpoints("cana", 1, false), {}));
    ASSERT_TRUE(r->setWeight(25, std::vector<WeightDestination>{{"svc", "exp", 5}}));
    ASSERT_TRUE(r->setHeaderRoute(headerRoute("h1", "yes")));
    MirrorRoute m;
    m.name = "m1";
    m.percentage = 50;
    MirrorRoute::Match match;
    match.method = {"GET", "", ""};
    match.path = {"", "/api", ""};
    match.headers = {{"X-User", {"", "", "beta.*"}}};
    m.match.push_back(match);
    ASSERT_TRUE(r->setMirrorRoute(m));
    before = *readSimTraffic(dir.path(), "default/demo");
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/traffic.sim/sim.db"));
  // No router holds the state now: this reads it back from the file.
  auto after = readSimTraffic(dir.path(), "default/demo");
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(*after, before);
  EXPECT_EQ(after->canaryWeight, 25);
  EXPECT_EQ(after->stable.endpoints.size(), 3u);
  ASSERT_EQ(after->mirrorRoutes.size(), 1u);
  EXPECT_EQ(after->mirrorRoutes[0].match[0].headers[0].second.regex, "beta.*");
  auto r = router("default/demo", dir.path());
  EXPECT_EQ(*r->verifyWeight(25, std::vector<WeightDestination>{{"svc", "exp", 5}}),
            WeightCheck::kVerified);
}

TEST(SimRouter, TheFileHasOneOwnerWhileRoutersLive) {
  TempDir dir("ramp-simr");
  auto r = router("default/demo", dir.path());
  ASSERT_TRUE(r->setWeight(10, {}));
  // Another owner (here a plain connection, as another process would open) cannot read it.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(std::string(dir.path() + "/traffic.sim/sim.db").c_str(), &other),
            SQLITE_OK);
  const int rc = sqlite3_exec(other, "SELECT count(*) FROM routes", nullptr, nullptr, nullptr);
  EXPECT_EQ(rc & 0xff, SQLITE_BUSY) << sqlite3_errmsg(other);
  sqlite3_close(other);
}

TEST(SimRouter, HeaderRoutesAddReplaceRemove) {
  TempDir dir("ramp-simr");
  auto r = router("default/demo", dir.path());
  ASSERT_TRUE(r->setHeaderRoute(headerRoute("h1", "a")));
  ASSERT_TRUE(r->setHeaderRoute(headerRoute("h2", "b")));
  ASSERT_TRUE(r->setHeaderRoute(headerRoute("h1", "c")));
  auto s = readSimTraffic(dir.path(), "default/demo");
  ASSERT_EQ(s->headerRoutes.size(), 2u);
  EXPECT_EQ(s->headerRoutes[0].match[0].headerValue.exact, "c");
  ASSERT_TRUE(r->setHeaderRoute(HeaderRoute{"h2", {}}));  // no matches = remove
  EXPECT_EQ(readSimTraffic(dir.path(), "default/demo")->headerRoutes.size(), 1u);
  MirrorRoute m{"m1", std::nullopt, {MirrorRoute::Match{}}};
  ASSERT_TRUE(r->setMirrorRoute(m));
  ASSERT_TRUE(r->removeManagedRoutes());
  s = readSimTraffic(dir.path(), "default/demo");
  EXPECT_TRUE(s->headerRoutes.empty());
  EXPECT_TRUE(s->mirrorRoutes.empty());
}

TEST(SimRouter, HeaderRoutesCanBeDisabled) {
  auto r = router("default/demo", "", R"({"headerRoutes": false})");
  EXPECT_EQ(r->setHeaderRoute(headerRoute("h1", "a")).error().code, ErrorCode::kUnsupported);
  EXPECT_EQ(r->setMirrorRoute(MirrorRoute{"m", 10, {MirrorRoute::Match{}}}).error().code,
            ErrorCode::kUnsupported);
  EXPECT_TRUE(r->removeManagedRoutes());
  EXPECT_TRUE(r->setWeight(5, {}));
}

TEST(SimRouter, BadConfigIsRejectedNamingTheField) {
  auto r = SimRouter::create("default/demo", R"({"headerRoutes": "no"})", 100, "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message,
            "trafficRouting.plugins[\"ramp/sim\"].headerRoutes: must be a boolean");
  r = SimRouter::create("default/demo", R"({"weights": 1})", 100, "");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("trafficRouting.plugins[\"ramp/sim\"].weights: unknown field"),
            std::string::npos);
  r = SimRouter::create("default/demo", "[1]", 100, "");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("must be a JSON object"), std::string::npos);
}

TEST(SimRouter, MemoryOnlyStateIsSharedWhileARouterLives) {
  auto a = router("default/mem", "");
  auto b = router("default/mem", "");
  ASSERT_TRUE(a->setWeight(30, {}));
  EXPECT_EQ(*b->verifyWeight(30, {}), WeightCheck::kVerified);
}

}  // namespace
}  // namespace ramp::traffic::sim
