// gitops/agent.h: the shell on a memory store, the API's apply and an in-memory Git, stepped on a
// simulated clock (no threads, no sleeps).
#include "gitops/agent.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>

#include "api/gitops_service.h"
#include "api/object_service.h"
#include "fakes/forwarding_state_store.h"
#include "fakes/memory_git_source.h"
#include "fakes/simulated_clock.h"
#include "gitops/gitops_fixtures.h"
#include "gitops/operations.h"
#include "store/memory/memory_state_store.h"

namespace ramp::gitops {
namespace {

const std::string kRepo = "https://git.example.com/shop.git";

class AgentTest : public ::testing::Test {
 protected:
  AgentTest() : service_(store_, clock_), agent_(store_, git_, api::gitopsApplyFn(service_)) {}

  void applyYaml(const std::string& yaml) {
    api::ApiReply r = service_.apply({"alice", api::Role::kAdmin}, yaml);
    ASSERT_LT(r.status, 300) << r.body;
  }
  void applyApp(const std::string& extra) {
    applyYaml(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: shop-prod, "
        "namespace: argocd}\nspec:\n  source: {repoURL: \"" +
        kRepo +
        "\", path: environments/prod, targetRevision: main}\n  destination: "
        "{namespace: shop}\n" +
        extra);
  }
  spec::Application app() {
    auto o = store_.get({"Application", "argocd", "shop-prod"});
    EXPECT_TRUE(o);
    return *spec::applicationFromJson(o->json).value;
  }
  std::optional<spec::Rollout> rollout(const std::string& name = "shop") {
    auto o = store_.get({"Rollout", "shop", name});
    if (!o) return std::nullopt;
    return *spec::rolloutFromJson(o->json).value;
  }
  std::string image(const std::string& name = "shop") {
    auto r = rollout(name);
    return r ? r->spec.template_->spec.containers[0].image : "";
  }
  // The route of POST …/applications/shop-prod/ACTION.
  static api::Route appAction(api::Action action) {
    api::Route route;
    route.endpoint = api::Endpoint::kAction;
    route.resource = &api::resourceOf(spec::Kind::kApplication);
    route.namespace_ = "argocd";
    route.name = "shop-prod";
    route.action = action;
    return route;
  }
  std::vector<std::string> events() {
    std::vector<std::string> out;
    auto got = store_.listEvents({store::ObjectKey{"Application", "argocd", "shop-prod"}, 0, 100});
    // Each occurrence, also those the store counted into one event (the memory Git's commits
    // share their first seven hex digits, so two syncs read alike).
    for (const store::Event& e : *got) {
      for (int64_t i = 0; i < e.count; ++i)
        out.push_back(e.reason + " " + e.actor + ": " + e.message);
    }
    return out;
  }

  store::MemoryStateStore store_;
  ramp::testing::SimulatedClock clock_;
  ramp::testing::MemoryGitSource git_;
  api::ObjectService service_;
  Agent agent_;
};

TEST_F(AgentTest, AutoSyncAppliesEachNewCommitAndWritesArgoCdStatus) {
  const std::string c1 = git_.commit(kRepo, "main", testing::twoEnvironments("shop:1"));
  applyApp("  syncPolicy: {automated: {}}\n");
  agent_.step(clock_.now());
  EXPECT_EQ(image(), "shop:1");
  spec::Application a = app();
  EXPECT_EQ(a.status.sync, (spec::ApplicationSyncStatus{"Synced", c1}));
  ASSERT_EQ(a.status.history.size(), 1u);
  EXPECT_EQ(a.status.history[0].revision, c1);
  EXPECT_EQ(a.status.operationState->phase, "Succeeded");
  // The stored Rollout is the API's: created by the agent, with its events and tracking.
  EXPECT_EQ(rollout()->metadata.generation, 1);
  EXPECT_EQ(rollout()->metadata.annotations.at(kTrackingAnnotation),
            "shop-prod:argoproj.io/Rollout:shop/shop");

  // A commit changing the image: seen at the next poll (not before).
  const std::string c2 = git_.commit(kRepo, "main", testing::twoEnvironments("shop:2"));
  clock_.advance(std::chrono::minutes(1));
  agent_.step(clock_.now());
  EXPECT_EQ(image(), "shop:1") << "not yet polled";
  clock_.advance(std::chrono::minutes(2));
  agent_.step(clock_.now());
  EXPECT_EQ(image(), "shop:2");
  EXPECT_EQ(rollout()->metadata.generation, 2);
  a = app();
  EXPECT_EQ(a.status.sync.revision, c2);
  ASSERT_EQ(a.status.history.size(), 2u);
  EXPECT_EQ(a.status.history[1].id, 2);
  const auto ev = events();
  EXPECT_EQ(
      std::count_if(ev.begin(), ev.end(),
                    [](const std::string& e) { return e.starts_with("Synced gitops: sync to "); }),
      2)
      << ::testing::PrintToString(ev);
}

// After a sync the Application is compared again at once (as Argo CD requeues a comparison after
// an operation), so its health and objects describe what was applied — not the store before the
// sync ("Missing") until the next poll, which never changes for an object without a status (an
// AnalysisTemplate stayed Missing for the 180 s poll).
TEST_F(AgentTest, ASyncIsComparedAgainAtOnce) {
  const std::string c1 = git_.commit(kRepo, "main", testing::twoEnvironments("shop:1"));
  applyApp("  syncPolicy: {automated: {}}\n");
  EXPECT_EQ(agent_.step(clock_.now()), clock_.now()) << "due again at once";
  agent_.step(clock_.now());
  spec::Application a = app();
  EXPECT_EQ(a.status.sync, (spec::ApplicationSyncStatus{"Synced", c1}));
  EXPECT_EQ(a.status.health.status, "Progressing") << a.status.health.message;
  ASSERT_EQ(a.status.resources.size(), 1u);
  ASSERT_TRUE(a.status.resources[0].health);
  EXPECT_EQ(a.status.resources[0].health->status, "Progressing");
  EXPECT_EQ(a.status.history.size(), 1u) << "compared, not synced again";
  EXPECT_GT(agent_.step(clock_.now()), clock_.now()) << "then nothing to do until the poll";
}

TEST_F(AgentTest, RefreshFetchesAtOnce) {
  git_.commit(kRepo, "main", testing::twoEnvironments("shop:1"));
  applyApp("  syncPolicy: {automated: {}}\n");
  agent_.step(clock_.now());
  const int calls = git_.resolveCalls();
  git_.commit(kRepo, "main", testing::twoEnvironments("shop:2"));
  EXPECT_EQ(agent_.refresh(kRepo), 1);
  EXPECT_EQ(agent_.refresh("https://other.example.com/x.git"), 0);
  agent_.step(clock_.now());
  EXPECT_EQ(image(), "shop:2");
  EXPECT_EQ(git_.resolveCalls(), calls + 1);
}

TEST_F(AgentTest, DriftThroughTheApiIsNamedAndSelfHealRestoresIt) {
  git_.commit(kRepo, "main", testing::twoEnvironments("shop:1"));
  applyApp("  syncPolicy: {automated: {selfHeal: false}}\n");
  agent_.step(clock_.now());
  ASSERT_EQ(image(), "shop:1");
  // Someone sets the image through ramp's API.
  api::Route route;
  route.endpoint = api::Endpoint::kAction;
  route.resource = &api::resourceOf(spec::Kind::kRollout);
  route.namespace_ = "shop";
  route.name = "shop";
  route.action = api::Action::kSetImage;
  ASSERT_EQ(service_
                .action({"bob", api::Role::kOperator}, route,
                        R"({"container":"app","image":"shop:hotfix"})")
                .status,
            200);
  clock_.advance(std::chrono::seconds(1));
  agent_.step(clock_.now());  // the change is seen without waiting for the poll
  spec::Application a = app();
  EXPECT_EQ(a.status.sync.status, "OutOfSync");
  ASSERT_EQ(a.status.resources.size(), 1u);
  EXPECT_EQ(a.status.resources[0].message,
            "spec.template.spec.containers[0].image: \"shop:1\" in Git, \"shop:hotfix\" live");
  EXPECT_EQ(image(), "shop:hotfix") << "without selfHeal the change stays";
  // With selfHeal the agent restores Git's image.
  applyApp("  syncPolicy: {automated: {selfHeal: true}}\n");
  clock_.advance(std::chrono::seconds(1));
  agent_.step(clock_.now());
  EXPECT_EQ(image(), "shop:1");
  EXPECT_EQ(app().status.sync.status, "Synced");
}

TEST_F(AgentTest, AnInvalidRevisionAppliesNothingAndSaysWhere) {
  git_.commit(kRepo, "main", testing::twoEnvironments("shop:1"));
  applyApp("  syncPolicy: {automated: {prune: true}}\n");
  agent_.step(clock_.now());
  auto files = testing::twoEnvironments("shop:2");
  files["environments/prod/cart.yaml"] = testing::rolloutYaml("cart", "cart:1");
  files["environments/prod/broken.yaml"] =
      "kind: Rollout\napiVersion: argoproj.io/v1alpha1\n"
      "metadata: {name: b}\nspec: {replicas: -1}\n";
  git_.commit(kRepo, "main", files);
  agent_.refresh(kRepo);
  agent_.step(clock_.now());
  EXPECT_EQ(image(), "shop:1") << "nothing of the revision is applied";
  EXPECT_FALSE(rollout("cart"));
  spec::Application a = app();
  ASSERT_EQ(a.status.conditions.size(), 1u);
  EXPECT_EQ(a.status.conditions[0].type, "ManifestError");
  EXPECT_NE(a.status.conditions[0].message.find("environments/prod/broken.yaml:4:"),
            std::string::npos)
      << a.status.conditions[0].message;
}

TEST_F(AgentTest, PruneAndUnreachableRepository) {
  git_.commit(kRepo, "main", testing::twoEnvironments("shop:1"));
  applyApp("  syncPolicy: {automated: {prune: true}}\n");
  agent_.step(clock_.now());
  auto files = testing::twoEnvironments();
  files.erase("environments/prod/shop.yaml");
  files["environments/prod/cart.yaml"] = testing::rolloutYaml("cart", "cart:1");
  git_.commit(kRepo, "main", files);
  agent_.refresh(kRepo);
  agent_.step(clock_.now());
  EXPECT_FALSE(rollout("shop")) << "pruned";
  EXPECT_EQ(image("cart"), "cart:1");
  git_.setReachable(false);
  agent_.refresh("");
  const Time next = agent_.step(clock_.now());
  spec::Application a = app();
  EXPECT_EQ(a.status.sync.status, "Unknown");
  ASSERT_EQ(a.status.conditions.size(), 1u);
  EXPECT_EQ(a.status.conditions[0].type, "RepositoryError");
  EXPECT_EQ(next - clock_.now(), std::chrono::seconds(5)) << "retried with backoff";
}

TEST_F(AgentTest, ManualSyncOperationOfAnOlderRevision) {
  const std::string c1 = git_.commit(kRepo, "main", testing::twoEnvironments("shop:1"));
  git_.commit(kRepo, "main", testing::twoEnvironments("shop:2"));
  applyApp("operation: {sync: {revision: \"" + c1 + "\"}, initiatedBy: {username: carol}}\n");
  agent_.step(clock_.now());
  EXPECT_EQ(image(), "shop:1");
  spec::Application a = app();
  EXPECT_FALSE(a.operation) << "the operation is consumed";
  EXPECT_EQ(a.status.history.at(0).initiatedBy.username, "carol");
  // No auto-sync: the newer commit is OutOfSync but not applied.
  clock_.advance(std::chrono::minutes(3));
  agent_.step(clock_.now());
  EXPECT_EQ(image(), "shop:1");
  EXPECT_EQ(app().status.sync.status, "OutOfSync");
}

// ramp app sync: the API writes the intent (operation, with who asked); the agent carries it out.
// Through a closed window only an admin's request runs, and the override is recorded.
TEST_F(AgentTest, SyncActionThroughTheApiHonoursWindowsUnlessAdmin) {
  git_.commit(kRepo, "main", testing::twoEnvironments("shop:1"));
  applyYaml(
      "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata: {name: shop, "
      "namespace: argocd}\nspec:\n  sourceRepos: ['*']\n  destinations: [{namespace: "
      "'*'}]\n  syncWindows: [{kind: deny, schedule: '* * * * *', duration: 1h, "
      "applications: ['*'], manualSync: false}]\n");
  applyApp("  project: shop\n");
  agent_.step(clock_.now());
  EXPECT_FALSE(rollout()) << "manual policy: nothing applied";
  const api::Route route = appAction(api::Action::kSync);
  api::ApiReply requested = service_.action({"bob", api::Role::kOperator}, route, "{}");
  ASSERT_EQ(requested.status, 200) << requested.body;
  EXPECT_EQ(service_.action({"bob", api::Role::kOperator}, route, "{}").status, 422)
      << "a sync is already pending";
  clock_.advance(std::chrono::seconds(1));
  agent_.step(clock_.now());
  EXPECT_FALSE(rollout()) << "the deny window refuses bob";
  spec::Application a = app();
  EXPECT_FALSE(a.operation);
  EXPECT_EQ(a.status.operationState->phase, "Failed");
  EXPECT_NE(a.status.operationState->message.find("blocked by sync window"), std::string::npos);
  ASSERT_EQ(service_.action({"alice", api::Role::kAdmin}, route, R"({"prune":true})").status, 200);
  clock_.advance(std::chrono::seconds(1));
  agent_.step(clock_.now());
  EXPECT_EQ(image(), "shop:1");
  a = app();
  EXPECT_EQ(a.status.operationState->phase, "Succeeded");
  EXPECT_NE(a.status.operationState->message.find("sync window overridden by alice"),
            std::string::npos)
      << a.status.operationState->message;
  EXPECT_EQ(a.status.history.back().initiatedBy.username, "alice");
}

// A push webhook (and ramp app refresh) makes the agent read the repository at once.
TEST_F(AgentTest, WebhookAndRefreshActionReadTheRepositoryNow) {
  git_.commit(kRepo, "main", testing::twoEnvironments("shop:1"));
  applyApp("  syncPolicy: {automated: {}}\n");
  agent_.step(clock_.now());
  git_.commit(kRepo, "main", testing::twoEnvironments("shop:2"));
  const std::string push =
      R"({"ref":"refs/heads/main","repository":{"clone_url":"https://git.example.com/shop"}})";
  api::RefreshFn refresh = [this](const std::string& url) { return agent_.refresh(url); };
  api::ApiReply reply = api::gitopsWebhook({{"x-github-event", "push"}}, push, "", refresh);
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(reply.body.find("\"refreshed\":1"), std::string::npos) << reply.body;
  EXPECT_EQ(api::gitopsWebhook({{"x-github-event", "push"}}, push, "s3cret", refresh).status, 401);
  EXPECT_EQ(api::gitopsWebhook({{"x-github-event", "ping"}}, push, "", refresh).status, 202);
  agent_.step(clock_.now());
  EXPECT_EQ(image(), "shop:2");
  // ramp app refresh: the annotation, read at once and removed.
  git_.commit(kRepo, "main", testing::twoEnvironments("shop:3"));
  ASSERT_EQ(
      service_.action({"bob", api::Role::kOperator}, appAction(api::Action::kRefresh), "").status,
      200);
  clock_.advance(std::chrono::seconds(1));
  agent_.step(clock_.now());
  EXPECT_EQ(image(), "shop:3");
  EXPECT_EQ(app().metadata.annotations.count(kRefreshAnnotation), 0u);
}

// A store that runs `after` once, right after the first Application write that follows arm():
// another writer's change landing while the agent's step is still running.
class InterleavingStore : public store::testing::ForwardingStateStore {
 public:
  InterleavingStore() : ForwardingStateStore(std::make_unique<store::MemoryStateStore>()) {}
  void arm(std::function<void()> after) { after_ = std::move(after); }
  Result<store::WriteResult> writeWithEvents(std::span<const store::WriteOp> ops,
                                             std::span<const store::Event> events) override {
    auto written = ForwardingStateStore::writeWithEvents(ops, events);
    if (after_ && !ops.empty() && ops.front().key.kind == "Application") {
      auto run = std::move(after_);
      after_ = nullptr;
      run();
    }
    return written;
  }

 private:
  std::function<void()> after_;
};

// `ramp app refresh` written while the agent's step runs (right after its own status write) is
// read at once, not at the next poll: the demo's GitOps run caught a refresh sent right after a
// sync waiting for the 3-minute poll.
TEST_F(AgentTest, ARefreshWrittenDuringAStepIsReadAtOnce) {
  InterleavingStore store;
  api::ObjectService service(store, clock_);
  Agent agent(store, git_, api::gitopsApplyFn(service));
  const store::ObjectKey appKey{"Application", "argocd", "shop-prod"};
  const auto imageNow = [&] {
    auto o = store.get({"Rollout", "shop", "shop"});
    return o ? spec::rolloutFromJson(o->json).value->spec.template_->spec.containers[0].image
             : std::string();
  };
  git_.commit(kRepo, "main", testing::twoEnvironments("shop:1"));
  ASSERT_LT(service
                .apply({"alice", api::Role::kAdmin},
                       "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: "
                       "shop-prod, namespace: argocd}\nspec:\n  source: {repoURL: \"" +
                           kRepo +
                           "\", path: environments/prod, targetRevision: main}\n  destination: "
                           "{namespace: shop}\n  syncPolicy: {automated: {}}\n")
                .status,
            300);
  agent.step(clock_.now());
  clock_.advance(std::chrono::seconds(1));
  agent.step(clock_.now());  // the comparison after the sync
  ASSERT_EQ(imageNow(), "shop:1");

  // A commit, and a refresh that lands while the agent writes the status of a drift comparison.
  git_.commit(kRepo, "main", testing::twoEnvironments("shop:2"));
  store.arm([&] {
    ASSERT_EQ(
        service.action({"bob", api::Role::kOperator}, appAction(api::Action::kRefresh), "").status,
        200);
  });
  auto live = store.get({"Rollout", "shop", "shop"});
  ASSERT_TRUE(live);
  auto drifted = *spec::rolloutFromJson(live->json).value;
  drifted.spec.replicas = 7;
  drifted.metadata.resourceVersion.clear();
  ASSERT_TRUE(store.put(live->key, spec::toJson(drifted), live->version));
  clock_.advance(std::chrono::seconds(1));
  const Time next = agent.step(clock_.now());
  ASSERT_TRUE(spec::applicationFromJson(store.get(appKey)->json)
                  .value->metadata.annotations.contains(kRefreshAnnotation))
      << "the refresh was written during the step";
  EXPECT_EQ(next, clock_.now()) << "the refresh waits for the next poll";
  clock_.advance(std::chrono::seconds(1));
  agent.step(clock_.now());
  EXPECT_EQ(imageNow(), "shop:2");
  EXPECT_FALSE(spec::applicationFromJson(store.get(appKey)->json)
                   .value->metadata.annotations.contains(kRefreshAnnotation));
}

// ramp app rollback (default): the agent pushes a revert commit of the Application's path,
// authored by the caller and naming what it reverts and why, then syncs it; auto-sync keeps it
// because Git now says the same (argo-cd #9570's complaint).
TEST_F(AgentTest, RollbackByRevertPushesACommitAndAutoSyncKeepsIt) {
  const std::string c1 = git_.commit(kRepo, "main", testing::twoEnvironments("shop:1"));
  applyApp("  syncPolicy: {automated: {selfHeal: true}}\n");
  agent_.step(clock_.now());
  const std::string c2 = git_.commit(kRepo, "main", testing::twoEnvironments("shop:2"));
  clock_.advance(std::chrono::minutes(3));
  agent_.step(clock_.now());
  ASSERT_EQ(image(), "shop:2");

  api::ApiReply requested =
      service_.action({"bob", api::Role::kOperator}, appAction(api::Action::kRollback),
                      R"({"reason":"5xx on checkout"})");
  ASSERT_EQ(requested.status, 200) << requested.body;
  EXPECT_NE(requested.body.find("history 1, by a revert commit"), std::string::npos)
      << requested.body;
  clock_.advance(std::chrono::seconds(1));
  agent_.step(clock_.now());
  EXPECT_EQ(image(), "shop:1");

  const gitops::GitCommitInfo revert = git_.head(kRepo, "main");
  EXPECT_NE(revert.sha, c2) << "a new commit on main";
  EXPECT_EQ(revert.author, "bob");
  EXPECT_NE(revert.message.find("Roll back environments/prod to " + c1.substr(0, 7)),
            std::string::npos)
      << revert.message;
  EXPECT_NE(revert.message.find("from " + c2 + " to " + c1), std::string::npos) << revert.message;
  EXPECT_NE(revert.message.find("Reason: 5xx on checkout"), std::string::npos) << revert.message;
  EXPECT_EQ(git_.files(kRepo, revert.sha).at("environments/staging/shop.yaml"),
            git_.files(kRepo, c2).at("environments/staging/shop.yaml"))
      << "only the Application's path is reverted";

  spec::Application a = app();
  EXPECT_FALSE(a.operation);
  EXPECT_EQ(a.status.sync, (spec::ApplicationSyncStatus{"Synced", revert.sha}));
  EXPECT_EQ(a.status.history.back().revision, revert.sha);
  EXPECT_EQ(a.status.history.back().initiatedBy.username, "bob");
  EXPECT_NE(a.status.operationState->message.find("rolled back to " + c1.substr(0, 7) +
                                                  " (history 1) by revert commit"),
            std::string::npos)
      << a.status.operationState->message;
  const auto ev = events();
  EXPECT_EQ(std::count_if(ev.begin(), ev.end(),
                          [](const std::string& e) { return e.starts_with("RolledBack bob: "); }),
            1)
      << ::testing::PrintToString(ev);

  // Polls later: Git says shop:1, so auto-sync leaves it there.
  clock_.advance(std::chrono::minutes(10));
  agent_.step(clock_.now());
  EXPECT_EQ(image(), "shop:1");
  EXPECT_EQ(app().status.sync.status, "Synced");
}

// ramp app rollback --no-git: Argo CD's rollback (sync the old revision as it is); auto-sync is
// suspended with a condition saying so, never silently, until a manual sync resumes it.
TEST_F(AgentTest, RollbackWithoutGitSuspendsAutoSyncUntilAManualSync) {
  const std::string c1 = git_.commit(kRepo, "main", testing::twoEnvironments("shop:1"));
  applyApp("  syncPolicy: {automated: {}}\n");
  agent_.step(clock_.now());
  git_.commit(kRepo, "main", testing::twoEnvironments("shop:2"));
  clock_.advance(std::chrono::minutes(3));
  agent_.step(clock_.now());
  ASSERT_EQ(image(), "shop:2");
  const std::string head = git_.head(kRepo, "main").sha;

  ASSERT_EQ(service_
                .action({"bob", api::Role::kOperator}, appAction(api::Action::kRollback),
                        R"({"id":1,"noGit":true})")
                .status,
            200);
  clock_.advance(std::chrono::seconds(1));
  agent_.step(clock_.now());
  EXPECT_EQ(image(), "shop:1");
  EXPECT_EQ(git_.head(kRepo, "main").sha, head) << "nothing written to Git";
  spec::Application a = app();
  ASSERT_EQ(a.metadata.annotations.count(kAutoSyncSuspendedAnnotation), 1u);
  auto suspended = std::find_if(a.status.conditions.begin(), a.status.conditions.end(),
                                [](const auto& c) { return c.type == "AutoSyncSuspended"; });
  ASSERT_NE(suspended, a.status.conditions.end());
  EXPECT_NE(suspended->message.find("rolled back to " + c1.substr(0, 7) +
                                    " (history 1) by bob without Git"),
            std::string::npos)
      << suspended->message;

  // A new commit and many polls: auto-sync stays off, the Application says OutOfSync.
  git_.commit(kRepo, "main", testing::twoEnvironments("shop:3"));
  for (int i = 0; i < 3; ++i) {
    clock_.advance(std::chrono::minutes(3));
    agent_.step(clock_.now());
  }
  EXPECT_EQ(image(), "shop:1");
  a = app();
  EXPECT_EQ(a.status.sync.status, "OutOfSync");
  EXPECT_EQ(std::count_if(a.status.conditions.begin(), a.status.conditions.end(),
                          [](const auto& c) { return c.type == "AutoSyncSuspended"; }),
            1);

  // A manual sync takes the branch head and resumes auto-sync.
  ASSERT_EQ(
      service_.action({"bob", api::Role::kOperator}, appAction(api::Action::kSync), "{}").status,
      200);
  clock_.advance(std::chrono::seconds(1));
  agent_.step(clock_.now());
  EXPECT_EQ(image(), "shop:3");
  a = app();
  EXPECT_EQ(a.metadata.annotations.count(kAutoSyncSuspendedAnnotation), 0u);
  EXPECT_TRUE(std::none_of(a.status.conditions.begin(), a.status.conditions.end(),
                           [](const auto& c) { return c.type == "AutoSyncSuspended"; }));
  EXPECT_NE(a.status.operationState->message.find("auto-sync resumed"), std::string::npos);
  git_.commit(kRepo, "main", testing::twoEnvironments("shop:4"));
  clock_.advance(std::chrono::minutes(3));
  agent_.step(clock_.now());
  EXPECT_EQ(image(), "shop:4") << "auto-sync runs again";
}

// What a rollback refuses: a history id that is not there, an Application with no earlier
// revision, a revert where targetRevision is not a branch (the operation fails, naming it, and
// nothing is applied), and a closed sync window (Git is left untouched).
TEST_F(AgentTest, RefusedRollbacksChangeNothing) {
  const std::string c1 = git_.commit(kRepo, "main", testing::twoEnvironments("shop:1"));
  applyApp("  syncPolicy: {automated: {}}\n");
  agent_.step(clock_.now());
  const api::Route route = appAction(api::Action::kRollback);
  api::ApiReply onlyOne = service_.action({"bob", api::Role::kOperator}, route, "{}");
  EXPECT_EQ(onlyOne.status, 422);
  EXPECT_NE(onlyOne.body.find("no earlier revision"), std::string::npos) << onlyOne.body;
  api::ApiReply unknown = service_.action({"bob", api::Role::kOperator}, route, R"({"id":9})");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("does not have history id 9"), std::string::npos) << unknown.body;

  // targetRevision a tag: a revert has no branch to go to.
  git_.tag(kRepo, "v1", c1);
  const std::string c2 = git_.commit(kRepo, "main", testing::twoEnvironments("shop:2"));
  git_.tag(kRepo, "v2", c2);
  spec::Application a = app();
  a.spec.source.targetRevision = "v2";
  a.metadata.resourceVersion.clear();
  ASSERT_TRUE(store_.put({"Application", "argocd", "shop-prod"}, spec::toJson(a),
                         store_.get({"Application", "argocd", "shop-prod"})->version));
  clock_.advance(std::chrono::seconds(1));
  agent_.step(clock_.now());
  ASSERT_EQ(image(), "shop:2");
  ASSERT_EQ(service_.action({"bob", api::Role::kOperator}, route, "{}").status, 200);
  clock_.advance(std::chrono::seconds(1));
  agent_.step(clock_.now());
  EXPECT_EQ(image(), "shop:2");
  a = app();
  EXPECT_FALSE(a.operation);
  EXPECT_EQ(a.status.operationState->phase, "Failed");
  EXPECT_NE(a.status.operationState->message.find("\"v2\" is not a branch"), std::string::npos)
      << a.status.operationState->message;
  EXPECT_EQ(git_.head(kRepo, "v2").sha, "") << "no branch was made from the tag";
  const auto ev = events();
  EXPECT_TRUE(std::any_of(ev.begin(), ev.end(), [](const std::string& e) {
    return e.starts_with("RollbackFailed bob: rollback to ");
  })) << ::testing::PrintToString(ev);
}

// A closed window refuses an operator's rollback before anything is pushed.
TEST_F(AgentTest, AWindowRefusesARollbackBeforeGitIsWritten) {
  git_.commit(kRepo, "main", testing::twoEnvironments("shop:1"));
  const std::string project =
      "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata: {name: shop, "
      "namespace: argocd}\nspec:\n  sourceRepos: ['*']\n  destinations: [{namespace: '*'}]\n";
  applyYaml(project);
  applyApp("  project: shop\n  syncPolicy: {automated: {}}\n");
  agent_.step(clock_.now());
  git_.commit(kRepo, "main", testing::twoEnvironments("shop:2"));
  clock_.advance(std::chrono::minutes(3));
  agent_.step(clock_.now());
  ASSERT_EQ(image(), "shop:2");
  applyYaml(project +
            "  syncWindows: [{kind: deny, schedule: '* * * * *', duration: 1h, applications: "
            "['*'], manualSync: false}]\n");
  const std::string head = git_.head(kRepo, "main").sha;
  ASSERT_EQ(service_.action({"bob", api::Role::kOperator}, appAction(api::Action::kRollback), "{}")
                .status,
            200);
  clock_.advance(std::chrono::seconds(1));
  agent_.step(clock_.now());
  EXPECT_EQ(image(), "shop:2");
  EXPECT_EQ(git_.head(kRepo, "main").sha, head) << "a refused rollback pushes nothing";
  spec::Application a = app();
  EXPECT_EQ(a.status.operationState->phase, "Failed");
  EXPECT_NE(a.status.operationState->message.find("blocked by sync window"), std::string::npos)
      << a.status.operationState->message;
}

// A store that keeps every event handed to writeWithEvents as it was given: with its origin and
// change, which the stores drop (they are for the audit record only, state_store.h).
class RecordingStore : public store::testing::ForwardingStateStore {
 public:
  RecordingStore() : ForwardingStateStore(std::make_unique<store::MemoryStateStore>()) {}
  Result<store::WriteResult> writeWithEvents(std::span<const store::WriteOp> ops,
                                             std::span<const store::Event> events) override {
    auto written = ForwardingStateStore::writeWithEvents(ops, events);
    if (written) given.insert(given.end(), events.begin(), events.end());
    return written;
  }
  std::vector<store::Event> given;
};

// A sync's records name the Git change it carries out: the repository without its credentials,
// the commit, the path and Application, the author, and the pull request and approvers the
// merge commit names; both the objects' applies and the Application's Synced event say so.
TEST_F(AgentTest, ASyncsRecordsNameTheChangeItCarriesOut) {
  RecordingStore store;
  api::ObjectService service(store, clock_);
  Agent agent(store, git_, api::gitopsApplyFn(service));
  const std::string repo = "https://ci:s3cret@git.example.com/shop.git";
  const std::string sha =
      git_.commit(repo, "main", testing::twoEnvironments("shop:7"),
                  "Merge pull request #42 from shop/bump\n\nBump shop to 7.\n\n"
                  "Reviewed-by: Bob <bob@example.com>\nApproved-by: Dana <dana@example.com>\n",
                  "Carol <carol@example.com>");
  ASSERT_LT(service
                .apply({"alice", api::Role::kAdmin},
                       "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: "
                       "shop-prod, namespace: argocd}\nspec:\n  source: {repoURL: \"" +
                           repo +
                           "\", path: environments/prod, targetRevision: main}\n  destination: "
                           "{namespace: shop}\n  syncPolicy: {automated: {}}\n")
                .status,
            300);
  agent.step(clock_.now());
  const auto find = [&](const std::string& reason, const std::string& kind) -> const store::Event* {
    for (const store::Event& e : store.given) {
      if (e.reason == reason && e.object.kind == kind) return &e;
    }
    return nullptr;
  };
  const store::Event* applied = find("SpecApplied", "Rollout");
  const store::Event* synced = find("Synced", "Application");
  ASSERT_NE(applied, nullptr);
  ASSERT_NE(synced, nullptr);
  EXPECT_EQ(applied->object, (store::ObjectKey{"Rollout", "shop", "shop"}));
  EXPECT_EQ(applied->origin, "gitops");
  EXPECT_EQ(synced->origin, "gitops");
  ASSERT_EQ(applied->change, synced->change);
  auto change = nlohmann::json::parse(applied->change);
  EXPECT_EQ(change["repo"], "https://git.example.com/shop.git");
  EXPECT_EQ(applied->change.find("s3cret"), std::string::npos);
  EXPECT_EQ(change["revision"], sha);
  EXPECT_EQ(change["path"], "environments/prod");
  EXPECT_EQ(change["application"], "argocd/shop-prod");
  EXPECT_EQ(change["author"], "Carol <carol@example.com>");
  EXPECT_EQ(change["subject"], "Merge pull request #42 from shop/bump");
  EXPECT_EQ(change["pullRequest"], "42");
  EXPECT_EQ(change["approvers"],
            nlohmann::json::array({"Bob <bob@example.com>", "Dana <dana@example.com>"}));
  // The user's own apply came through the API.
  const store::Event* first = &store.given.front();
  EXPECT_EQ(first->origin, "api");
  EXPECT_EQ(first->change, "");
}

}  // namespace
}  // namespace ramp::gitops
