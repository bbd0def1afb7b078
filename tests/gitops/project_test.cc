// gitops/project.h: sourceRepos with '!', destinations, sync windows (Argo CD's CanSync).
#include "gitops/project.h"

#include <gtest/gtest.h>

#include "gitops/gitops_fixtures.h"
#include "spec/values.h"

namespace ramp::gitops {
namespace {

using testing::application;

spec::AppProject project(std::vector<std::string> repos, std::vector<std::string> namespaces) {
  spec::AppProject p;
  p.metadata.name = "shop";
  p.spec.sourceRepos = std::move(repos);
  for (const std::string& ns : namespaces) p.spec.destinations.push_back({"", "", ns});
  return p;
}

TEST(ProjectTest, SourceReposAndDestinations) {
  const spec::Application app = application("environments/prod");  // git.example.com, ns shop
  EXPECT_TRUE(checkSource(project({"*"}, {}), app));
  EXPECT_TRUE(checkSource(project({"https://git.example.com/*"}, {}), app));
  auto denied = checkSource(project({"*", "!https://git.example.com/shop.git"}, {}), app);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().message,
            "repository https://git.example.com/shop.git is denied by project shop (sourceRepos "
            "\"!https://git.example.com/shop.git\")");
  auto missing = checkSource(project({"https://other/*"}, {}), app);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kPermissionDenied);
  EXPECT_TRUE(checkDestination(project({}, {"sh*"}), app));
  EXPECT_FALSE(checkDestination(project({}, {"prod"}), app));
}

Time at(const char* t) { return *spec::parseRfc3339(t); }

spec::SyncWindow window(std::string kind, std::string schedule, bool manual,
                        std::vector<std::string> apps = {"*"}) {
  spec::SyncWindow w;
  w.kind = std::move(kind);
  w.schedule = std::move(schedule);
  w.duration = "1h";
  w.applications = std::move(apps);
  w.manualSync = manual;
  return w;
}

TEST(ProjectTest, SyncWindowsAsArgoCdCanSync) {
  const spec::Application app = application("environments/prod");  // shop-prod
  const Time inside = at("2026-12-06T22:30:00Z");                  // the 22:00 windows are open
  const Time outside = at("2026-12-06T12:00:00Z");
  struct Row {
    const char* name;
    std::vector<spec::SyncWindow> windows;
    Time now;
    bool manual;
    bool allowed;
    bool overridden;
  };
  const Row rows[] = {
      {"no windows", {}, inside, false, true, false},
      {"open deny blocks automation",
       {window("deny", "0 22 * * *", true)},
       inside,
       false,
       false,
       false},
      {"open deny with manualSync lets a person",
       {window("deny", "0 22 * * *", true)},
       inside,
       true,
       true,
       true},
      {"open deny without manualSync blocks a person",
       {window("deny", "0 22 * * *", false)},
       inside,
       true,
       false,
       false},
      {"every open deny must allow manual",
       {window("deny", "0 22 * * *", true), window("deny", "15 22 * * *", false)},
       inside,
       true,
       false,
       false},
      {"closed deny", {window("deny", "0 22 * * *", false)}, outside, false, true, false},
      {"open allow", {window("allow", "0 22 * * *", false)}, inside, false, true, false},
      {"closed allow blocks", {window("allow", "0 22 * * *", false)}, outside, false, false, false},
      {"closed allow with manualSync lets a person",
       {window("allow", "0 22 * * *", true)},
       outside,
       true,
       true,
       true},
      {"deny wins over allow",
       {window("allow", "0 22 * * *", false), window("deny", "0 22 * * *", false)},
       inside,
       false,
       false,
       false},
      {"a window for other applications",
       {window("deny", "0 22 * * *", false, {"cart-*"})},
       inside,
       false,
       true,
       false},
      {"an unreadable window blocks",
       {window("deny", "0 25 * * *", false)},
       outside,
       false,
       false,
       false},
  };
  for (const Row& row : rows) {
    spec::AppProject p = project({"*"}, {"*"});
    p.spec.syncWindows = row.windows;
    WindowDecision d = evaluateWindows(p, app, row.now, row.manual);
    EXPECT_EQ(d.allowed, row.allowed) << row.name << ": " << d.reason;
    EXPECT_EQ(d.overridden, row.overridden) << row.name << ": " << d.reason;
  }
  spec::AppProject p = project({"*"}, {"*"});
  p.spec.syncWindows = {window("deny", "0 22 * * *", false)};
  p.spec.syncWindows[0].description = "freeze";
  EXPECT_EQ(evaluateWindows(p, app, inside, false).reason,
            "deny window 0 (\"0 22 * * *\" for 1h) freeze is open");
  // By namespace, and with andOperator both must match.
  p.spec.syncWindows[0].applications = {"cart-*"};
  p.spec.syncWindows[0].namespaces = {"shop"};
  EXPECT_FALSE(evaluateWindows(p, app, inside, false).allowed);
  p.spec.syncWindows[0].andOperator = true;
  EXPECT_TRUE(evaluateWindows(p, app, inside, false).allowed);
}

}  // namespace
}  // namespace ramp::gitops
