// gitops/reconcile.h: reconcileApplication's decisions, one scenario per test, simulated time.
#include "gitops/reconcile.h"

#include <gtest/gtest.h>

#include "gitops/gitops_fixtures.h"
#include "spec/values.h"

namespace ramp::gitops {
namespace {

using testing::application;
using testing::twoEnvironments;

const Time kNow = *spec::parseRfc3339("2026-12-06T12:00:00Z");
const std::string kSha1 = "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const std::string kSha2 = "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

Observed at(const std::string& sha, const FileTree& files) {
  Observed o;
  o.revision = GitRevision{sha, files};
  return o;
}

spec::Application automated(bool prune = false, bool selfHeal = false) {
  spec::Application app = application("environments/prod");
  app.spec.syncPolicy = spec::SyncPolicy{spec::SyncPolicyAutomated{prune, selfHeal}, {}};
  return app;
}

// What a successful apply leaves in the store: the plan's objects, as stored objects.
std::vector<store::StoredObject> applied(const Plan& plan, int64_t version = 10) {
  std::vector<store::StoredObject> out;
  for (const spec::Document& d : plan.apply)
    out.push_back({keyOf(d), spec::toJson(d.object), version});
  return out;
}

TEST(ReconcileTest, ManualPolicyReportsOutOfSyncAndDoesNotSync) {
  Plan plan =
      reconcileApplication(application("environments/prod"), at(kSha1, twoEnvironments()), kNow);
  EXPECT_FALSE(plan.sync);
  EXPECT_EQ(plan.status.sync, (spec::ApplicationSyncStatus{"OutOfSync", kSha1}));
  EXPECT_EQ(plan.status.health.status, "Missing");
  ASSERT_EQ(plan.status.resources.size(), 1u);
  EXPECT_EQ(plan.status.resources[0].message, "not in the store");
  EXPECT_EQ(plan.status.reconciledAt, kNow);
  EXPECT_EQ(plan.requeueAfter, std::chrono::minutes(3));
}

TEST(ReconcileTest, AutoSyncAppliesANewRevisionOnceAndRecordsHistory) {
  spec::Application app = automated();
  Plan plan = reconcileApplication(app, at(kSha1, twoEnvironments()), kNow);
  ASSERT_TRUE(plan.sync);
  ASSERT_EQ(plan.apply.size(), 1u);
  EXPECT_EQ(plan.initiatedBy, "gitops");
  EXPECT_EQ(plan.status.sync.status, "Synced");
  ASSERT_EQ(plan.status.history.size(), 1u);
  EXPECT_EQ(plan.status.history[0].id, 1);
  EXPECT_EQ(plan.status.history[0].revision, kSha1);
  EXPECT_EQ(plan.status.history[0].deployedAt, kNow);
  EXPECT_TRUE(plan.status.history[0].initiatedBy.automated);
  ASSERT_TRUE(plan.status.operationState);
  EXPECT_EQ(plan.status.operationState->phase, "Succeeded");
  EXPECT_EQ(plan.status.operationState->syncResult->revision, kSha1);

  // Next round: the store holds what was applied: Synced, nothing to do.
  app.status = plan.status;
  Observed next = at(kSha1, twoEnvironments());
  next.live = applied(plan);
  Plan again = reconcileApplication(app, next, kNow + std::chrono::minutes(3));
  EXPECT_FALSE(again.sync);
  EXPECT_EQ(again.status.sync.status, "Synced");
  EXPECT_EQ(again.status.history.size(), 1u);

  // A new commit changes the image: synced, history id 2.
  Observed second = at(kSha2, twoEnvironments("shop:2"));
  second.live = applied(plan);
  Plan update = reconcileApplication(app, second, kNow + std::chrono::minutes(6));
  ASSERT_TRUE(update.sync);
  ASSERT_EQ(update.apply.size(), 1u);
  EXPECT_EQ(
      std::get<spec::Rollout>(update.apply[0].object).spec.template_->spec.containers[0].image,
      "shop:2");
  ASSERT_EQ(update.status.history.size(), 2u);
  EXPECT_EQ(update.status.history[1].id, 2);
}

TEST(ReconcileTest, DriftIsNamedAndOnlySelfHealRestoresIt) {
  for (bool selfHeal : {false, true}) {
    spec::Application app = automated(false, selfHeal);
    Plan first = reconcileApplication(app, at(kSha1, twoEnvironments()), kNow);
    app.status = first.status;
    // Someone scales the Rollout through ramp's API.
    std::vector<store::StoredObject> live = applied(first);
    auto r = *spec::rolloutFromJson(live[0].json).value;
    r.spec.replicas = 5;
    live[0].json = spec::toJson(r);
    Observed o = at(kSha1, twoEnvironments());
    o.live = live;
    Plan plan = reconcileApplication(app, o, kNow + std::chrono::minutes(1));
    EXPECT_EQ(plan.sync, selfHeal);
    if (selfHeal) {
      EXPECT_EQ(plan.status.sync.status, "Synced");
      ASSERT_EQ(plan.apply.size(), 1u);
      EXPECT_EQ(std::get<spec::Rollout>(plan.apply[0].object).spec.replicas, 3);
    } else {
      EXPECT_EQ(plan.status.sync.status, "OutOfSync");
      EXPECT_EQ(plan.status.resources[0].message, "spec.replicas: 3 in Git, 5 live");
    }
  }
}

TEST(ReconcileTest, PruneOnlyWhenAsked) {
  for (bool prune : {false, true}) {
    spec::Application app = automated(prune);
    Plan first = reconcileApplication(app, at(kSha1, twoEnvironments()), kNow);
    app.status = first.status;
    FileTree files = twoEnvironments();
    files.erase("environments/prod/shop.yaml");
    files["environments/prod/cart.yaml"] = testing::rolloutYaml("cart", "cart:1");
    Observed o = at(kSha2, files);
    o.live = applied(first);
    Plan plan = reconcileApplication(app, o, kNow + std::chrono::minutes(1));
    ASSERT_TRUE(plan.sync);
    EXPECT_EQ(plan.apply.size(), 1u);
    EXPECT_EQ(plan.prune.size(), prune ? 1u : 0u);
    EXPECT_EQ(plan.status.sync.status, prune ? "Synced" : "OutOfSync");
  }
}

TEST(ReconcileTest, ProblemsBecomeConditions) {
  spec::Application app = automated();
  // Repository unreachable: Unknown, a RepositoryError, retried with backoff.
  Observed down;
  down.revision = makeError(ErrorCode::kUnavailable,
                            "repository https://git.example.com/shop.git unreachable: connection "
                            "refused");
  down.failures = 2;
  Plan plan = reconcileApplication(app, down, kNow);
  EXPECT_FALSE(plan.sync);
  EXPECT_EQ(plan.status.sync.status, "Unknown");
  ASSERT_EQ(plan.status.conditions.size(), 1u);
  EXPECT_EQ(plan.status.conditions[0].type, "RepositoryError");
  EXPECT_EQ(plan.requeueAfter, std::chrono::seconds(20));
  // A later round with the same problem keeps the condition's time.
  app.status = plan.status;
  Plan later = reconcileApplication(app, down, kNow + std::chrono::minutes(1));
  EXPECT_EQ(later.status.conditions[0].lastTransitionTime, kNow);
  // Path missing.
  Observed missing;
  missing.revision =
      makeError(ErrorCode::kNotFound, "path environments/qa does not exist at 1111111");
  EXPECT_EQ(reconcileApplication(app, missing, kNow).status.conditions[0].type, "ComparisonError");
  // Invalid manifest: file:line:column in the repository.
  FileTree files = twoEnvironments();
  files["environments/prod/shop.yaml"] += "  paused: maybe\n";
  Plan bad = reconcileApplication(app, at(kSha1, files), kNow);
  EXPECT_FALSE(bad.sync);
  ASSERT_EQ(bad.status.conditions.size(), 1u);
  EXPECT_EQ(bad.status.conditions[0].type, "ManifestError");
  EXPECT_EQ(bad.status.conditions[0].message,
            "revision 1111111 is invalid: environments/prod/shop.yaml:13:11: spec.paused: must be "
            "true or false, got string \"maybe\"");
  // A project that does not exist.
  app.spec.project = "nope";
  Plan noProject = reconcileApplication(app, at(kSha1, twoEnvironments()), kNow);
  EXPECT_FALSE(noProject.sync);
  EXPECT_EQ(noProject.status.conditions[0].type, "InvalidSpecError");
}

TEST(ReconcileTest, SyncWindowsBlockAutomationAndManualSyncHonoursThem) {
  spec::AppProject project;
  project.metadata.name = "shop";
  project.spec.sourceRepos = {"*"};
  project.spec.destinations = {{"", "", "*"}};
  spec::SyncWindow freeze;
  freeze.kind = "deny";
  freeze.schedule = "0 11 * * *";  // 11:00-13:00 UTC
  freeze.duration = "2h";
  freeze.applications = {"*"};
  project.spec.syncWindows = {freeze};
  spec::Application app = automated();
  app.spec.project = "shop";
  Observed o = at(kSha1, twoEnvironments());
  o.project = project;
  Plan plan = reconcileApplication(app, o, kNow);
  EXPECT_FALSE(plan.sync);
  ASSERT_EQ(plan.status.conditions.size(), 1u);
  EXPECT_EQ(plan.status.conditions[0].message,
            "auto-sync blocked by sync window: deny window 0 (\"0 11 * * *\" for 2h) is open");
  // A person asks (operation): refused, the operation is consumed.
  app.operation = spec::Operation{spec::SyncOperation{}, {"alice", false}, {}};
  Plan manual = reconcileApplication(app, o, kNow);
  EXPECT_FALSE(manual.sync);
  EXPECT_TRUE(manual.clearOperation);
  EXPECT_EQ(manual.status.operationState->phase, "Failed");
  // An admin may override (the API wrote the info): the sync runs and the override is recorded.
  app.operation->info.push_back({spec::kOverrideSyncWindows, "true"});
  Plan admin = reconcileApplication(app, o, kNow);
  ASSERT_TRUE(admin.sync);
  EXPECT_EQ(admin.initiatedBy, "alice");
  EXPECT_NE(admin.status.operationState->message.find("sync window overridden by alice"),
            std::string::npos)
      << admin.status.operationState->message;
  EXPECT_EQ(admin.status.history[0].initiatedBy.username, "alice");
  // …and named for the sync's audit records (change.h's syncWindowOverride).
  EXPECT_EQ(admin.windowOverride, "alice (deny window 0 (\"0 11 * * *\" for 2h) is open)");
  EXPECT_EQ(manual.windowOverride, "");
  // After the window the auto-sync runs.
  app.operation.reset();
  EXPECT_TRUE(reconcileApplication(app, o, kNow + std::chrono::hours(1)).sync);
}

TEST(ReconcileTest, FailSyncUndoesTheHistoryEntry) {
  spec::Application app = automated();
  Plan plan = reconcileApplication(app, at(kSha1, twoEnvironments()), kNow);
  failSync(plan, app, "Rollout shop/shop: spec.replicas must be positive");
  EXPECT_FALSE(plan.sync);
  EXPECT_TRUE(plan.status.history.empty());
  EXPECT_EQ(plan.status.operationState->phase, "Failed");
  EXPECT_EQ(plan.status.sync.status, "OutOfSync");
  // The failed revision is not retried automatically (Argo CD waits for a new commit).
  app.status = plan.status;
  EXPECT_FALSE(reconcileApplication(app, at(kSha1, twoEnvironments()), kNow).sync);
  EXPECT_TRUE(reconcileApplication(app, at(kSha2, twoEnvironments()), kNow).sync);
}

}  // namespace
}  // namespace ramp::gitops
