// The controller shell on a simulated clock: a memory store, an in-test workload driver whose
// replicas are available as soon as they are scaled (a fake for a stateful seam; the durable
// simulated world, platform.sim, is tested on its own), an in-test router that records weights
// and a scripted metric provider. Each test steps the work queue by hand: no threads, no sleeps.

#include "controller/controller.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/metrics_page.h"
#include "fakes/fake_image_verifier.h"
#include "fakes/faulty_state_store.h"
#include "fakes/instant_driver.h"
#include "fakes/recording_router.h"
#include "fakes/scripted_provider.h"
#include "fakes/simulated_clock.h"
#include "rollout/engine.h"
#include "rollout/operations.h"
#include "spec/codec.h"
#include "store/memory/memory_state_store.h"

namespace ramp::controller {
namespace {

using testing::InstantDriver;
using testing::RecordingRouter;
using testing::RouterLog;
using testing::ScriptedProvider;
using testing::SimulatedClock;

// Forwards to a provider the test owns (the registry hands out owned instances).
class Forwarding final : public analysis::MetricProvider {
 public:
  explicit Forwarding(analysis::MetricProvider& target) : target_(target) {}
  Result<analysis::ProviderReply> run(const analysis::MeasureContext& ctx) override {
    return target_.run(ctx);
  }
  std::string type() const override { return "ramp/scripted"; }

 private:
  analysis::MetricProvider& target_;
};

constexpr const char* kTemplate = R"(
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: success-rate}
spec:
  metrics:
  - name: success-rate
    successCondition: result >= 0.95
    provider:
      plugin:
        ramp/scripted: {}
)";

// Rollout "demo" of `replicas` running `image`, up to `strategy:` (the caller adds the rest).
std::string rolloutHead(const std::string& image, int replicas) {
  return R"(
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  replicas: )" +
         std::to_string(replicas) + R"(
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec: {containers: [{name: app, image: )" +
         image + R"(}]}
  strategy:
)";
}

std::string rolloutYaml(const std::string& image, const std::string& steps) {
  return rolloutHead(image, 4) + R"(    canary:
      trafficRouting:
        plugins:
          ramp/recording: {}
      steps:
)" + steps;
}

const std::string kSteps = R"(      - setWeight: 20
      - pause: {duration: 10s}
      - analysis: {templates: [{templateName: success-rate}]}
      - setWeight: 60
      - pause: {duration: 5s}
)";

class ControllerTest : public ::testing::Test {
 protected:
  ControllerTest() {
    EXPECT_TRUE(registry.addRouter(
        "traffic.recording", [this](const RouterContext&, const ExtensionContext&) {
          return Result<traffic::TrafficRouterPtr>(std::make_unique<RecordingRouter>(router));
        }));
    EXPECT_TRUE(registry.addProvider(
        "provider.scripted", [this](const spec::MetricProviderSpec&, const ExtensionContext&) {
          return Result<analysis::MetricProviderPtr>(std::make_unique<Forwarding>(provider));
        }));
    context.clock = &clock;
    driver.clock = &clock;
    options.externalPoll = Duration(0);
    controller = std::make_unique<Controller>(store, registry, driver, context, options);
    // What start() does, without threads: every store change reaches the controller.
    subscription = store.subscribe([this](const store::Change& c) { controller->onChange(c); });
  }
  ~ControllerTest() override { store.unsubscribe(subscription); }

  void apply(const std::string& yaml) {
    auto parsed = spec::parseDocuments(yaml, "test.yaml");
    ASSERT_TRUE(parsed.diagnostics.empty()) << parsed.diagnostics.front().message;
    for (auto& doc : parsed.documents) {
      const auto& meta = spec::metadataOf(doc.object);
      const std::string kind = spec::kindName(spec::kindOf(doc.object));
      store::ObjectKey key{kind, kind == "ClusterAnalysisTemplate" ? "" : meta.namespace_,
                           meta.name};
      std::string json;
      int64_t version = 0;
      if (auto existing = store.get(key)) {
        // Keep the status, replace the spec (what `ramp apply` does).
        auto old = spec::rolloutFromJson(existing->json);
        auto next = std::get<spec::Rollout>(doc.object);
        next.status = old.value->status;
        next.metadata.generation = old.value->metadata.generation + 1;
        json = spec::toJson(next);
        version = existing->version;
      } else {
        if (auto* r = std::get_if<spec::Rollout>(&doc.object)) r->metadata.generation = 1;
        json = spec::toJson(doc.object);
      }
      auto put = store.put(key, json, version);
      ASSERT_TRUE(put) << put.error().message;
    }
  }

  // Runs every due reconcile, advancing the simulated clock to each next due time, until
  // `until` (or nothing is due). Reconcile errors fail the test unless `allowErrors`.
  void runUntil(Time until, bool allowErrors = false) {
    const int64_t errorsBefore = controller->stats().reconcileErrors;
    for (int guard = 0; guard < 100000; ++guard) {
      for (;;) {
        std::vector<std::string> keys;
        while (keys.size() < batch) {
          auto key = controller->queue().tryGet(clock.now());
          if (!key) break;
          keys.push_back(std::move(*key));
        }
        if (keys.empty()) break;
        if (batch == 1) {
          controller->process(keys[0]);
        } else {
          controller->processBatch(keys);
        }
      }
      if (!allowErrors) {
        ASSERT_EQ(controller->stats().reconcileErrors, errorsBefore);
      }
      auto due = controller->queue().nextDueTime();
      if (!due || *due > until) {
        clock.set(until);
        return;
      }
      clock.set(std::max(*due, clock.now()));
    }
    FAIL() << "controller did not settle";
  }
  void runFor(Duration d, bool allowErrors = false) { runUntil(clock.now() + d, allowErrors); }

  // Deploys v1 (kSteps), then releases v2 with a passing analysis and runs 5 s: the canary is
  // at 20%, in its timed pause.
  void releaseV2ToItsFirstPause() {
    apply(kTemplate);
    apply(rolloutYaml("demo:v1", kSteps));
    runFor(std::chrono::seconds(5));
    provider.onRun(ScriptedProvider::number(0.99));
    apply(rolloutYaml("demo:v2", kSteps));
    runFor(std::chrono::seconds(5));
  }

  spec::Rollout rollout(const std::string& name = "demo") {
    auto got = store.get({"Rollout", "default", name});
    EXPECT_TRUE(got);
    return *spec::rolloutFromJson(got->json).value;
  }
  std::string hashOf(const std::string& image) {
    auto r = spec::rolloutFromJson(spec::toJson(rollout())).value;
    r->spec.template_->spec.containers.at(0).image = image;
    return rollout::podTemplateHash(*r->spec.template_, std::nullopt);
  }
  // Events with this reason about the Rollout (the AnalysisRuns have their own), each repeat the
  // store counted into one included.
  // What the platform reads from the Deployment "legacy" a workloadRef names: image legacy:v1,
  // 2 replicas, at `generation`.
  static platform::ReferencedWorkload legacyDeployment(int64_t generation) {
    platform::ReferencedWorkload legacy;
    legacy.template_.metadata.labels = {{"app", "demo"}};
    spec::Container container;
    container.name = "app";
    container.image = "legacy:v1";
    legacy.template_.spec.containers.push_back(container);
    legacy.generation = generation;
    legacy.replicas = 2;
    return legacy;
  }

  size_t count(const std::string& reason) {
    store::EventQuery q;
    q.object = store::ObjectKey{"Rollout", "default", "demo"};
    size_t n = 0;
    const auto events = store.listEvents(q);
    for (const store::Event& e : *events) {
      if (e.reason == reason) n += static_cast<size_t>(e.count);
    }
    return n;
  }

  SimulatedClock clock;
  store::MemoryStateStore store;
  Registry registry;
  InstantDriver driver;
  RouterLog router;
  ScriptedProvider provider;
  ExtensionContext context;
  ControllerOptions options;
  std::unique_ptr<Controller> controller;
  int64_t subscription = -1;
  size_t batch = 1;  // keys runUntil() hands to the controller at once (processBatch if > 1)
};

// The Rollout of rolloutYaml() under another name.
std::string named(const std::string& name, const std::string& yaml) {
  std::string out = yaml;
  out.replace(out.find("{name: demo}"), 12, "{name: " + name + "}");
  return out;
}

// A blue-green Rollout; `routing` is its blueGreen.trafficRouting block ("" = no router).
std::string blueGreenYaml(const std::string& image, const std::string& routing) {
  return rolloutHead(image, 2) + R"(    blueGreen:
      activeService: demo-active
      previewService: demo-preview
      scaleDownDelaySeconds: 30
)" + routing;
}

const std::string kRecordingRouting = R"(      trafficRouting:
        plugins:
          ramp/recording: {}
)";

// Blue-green through a router: the routers' backends are the Services. The preview, then the
// active, move to v2 through the router, and each SwitchService event is recorded only once
// the router applied it; v1 stays in the router, draining, until its scale-down deadline.
TEST_F(ControllerTest, BlueGreenSwitchesThroughTheRouterAndDrainsTheOldActive) {
  apply(blueGreenYaml("demo:v1", kRecordingRouting));
  runFor(std::chrono::seconds(5));
  const std::string v1 = hashOf("demo:v1");
  EXPECT_EQ(router.stableHash, v1);
  apply(blueGreenYaml("demo:v2", kRecordingRouting));
  runFor(std::chrono::seconds(5));
  const std::string v2 = hashOf("demo:v2");
  auto r = rollout();
  EXPECT_EQ(r.status.blueGreen.activeSelector, v2);
  EXPECT_EQ(spec::rolloutPhaseName(r.status.phase), std::string("Healthy")) << r.status.message;
  EXPECT_EQ(router.stableHash, v2);
  EXPECT_EQ(router.canaryHash, v2);
  EXPECT_EQ(router.drainingHashes, std::vector<std::string>{v1});
  EXPECT_EQ(router.weights, std::vector<int32_t>{0});  // blue-green never splits
  store::EventQuery q;
  q.object = store::ObjectKey{"Rollout", "default", "demo"};
  std::vector<std::string> switches;
  const auto events = store.listEvents(q);
  ASSERT_TRUE(events);
  for (const auto& e : *events) {
    if (e.reason == "SwitchService") switches.push_back(e.message);
  }
  const std::vector<std::string> want = {
      "Switched service 'demo-preview' from '' to '" + v1 + "' through ramp/recording",
      "Switched service 'demo-active' from '' to '" + v1 + "' through ramp/recording",
      "Switched service 'demo-preview' from '" + v1 + "' to '" + v2 + "' through ramp/recording",
      "Switched service 'demo-active' from '" + v1 + "' to '" + v2 + "' through ramp/recording"};
  EXPECT_EQ(switches, want);
  EXPECT_EQ(count("ServiceNotRouted"), 0u);
  runFor(std::chrono::seconds(40));
  EXPECT_TRUE(router.drainingHashes.empty()) << "v1 left the router after its deadline";
}

// A router that fails the switch: no event claims it, and the retry records it once applied.
TEST_F(ControllerTest, NoSwitchEventBeforeTheRouterAppliedIt) {
  apply(blueGreenYaml("demo:v1", kRecordingRouting));
  runFor(std::chrono::seconds(5));
  const size_t before = count("SwitchService");
  router.down = true;
  apply(blueGreenYaml("demo:v2", kRecordingRouting));
  runFor(std::chrono::seconds(5), /*allowErrors=*/true);
  EXPECT_EQ(count("SwitchService"), before) << "an event claims a switch the router refused";
  router.down = false;
  runFor(std::chrono::seconds(20), /*allowErrors=*/true);
  EXPECT_EQ(router.stableHash, hashOf("demo:v2"));
  EXPECT_EQ(count("SwitchService"), before + 2) << "the preview and active switches, once applied";
}

// Without a router nothing switches traffic on a platform without Services, and the events say
// so instead of claiming a switch.
TEST_F(ControllerTest, BlueGreenWithoutARouterSaysNothingWasSwitched) {
  apply(blueGreenYaml("demo:v1", ""));
  runFor(std::chrono::seconds(5));
  apply(blueGreenYaml("demo:v2", ""));
  runFor(std::chrono::seconds(5));
  EXPECT_EQ(rollout().status.blueGreen.activeSelector, hashOf("demo:v2"));
  EXPECT_EQ(count("SwitchService"), 0u);
  EXPECT_EQ(count("ServiceNotRouted"), 4u);  // preview and active, for v1 and for v2
}

// The router watch covers blue-green: a proxy that lost its backends is refilled within one watch
// period, and a settled blue-green (which records no weights) is not requeued by the watch.
TEST_F(ControllerTest, TheRouterWatchRestoresABlueGreensBackends) {
  apply(blueGreenYaml("demo:v1", kRecordingRouting));
  runFor(std::chrono::seconds(5));
  ASSERT_EQ(router.current, 0);
  const int64_t before = controller->stats().rolloutReconciles;
  runFor(options.routerWatch * 3);
  EXPECT_EQ(controller->stats().rolloutReconciles, before) << "the watch requeues a settled one";
  router.current = RouterLog::kLost;
  router.stableHash.clear();
  runFor(options.routerWatch + Duration(1));
  EXPECT_EQ(router.current, 0) << "restored by the watch";
  EXPECT_EQ(router.stableHash, hashOf("demo:v1"));
}

// Argo's basic canary (no trafficRouting) through ramp's serviceRouting: the router's backend
// is the one Service holding every ready replica, so the weight it is given is the canary's
// share of ready replicas (25 with 1 of 4), whatever the steps say between; the router watch
// restores it during the indefinite pause; promoted, v2 alone.
TEST_F(ControllerTest, ABasicCanaryThroughServiceRoutingSplitsByReadyReplicas) {
  const auto yaml = [](const std::string& image) {
    return rolloutHead(image, 4) + R"(    canary:
      serviceRouting:
        plugins:
          ramp/recording: {}
      steps:
      - setWeight: 25
      - pause: {}
)";
  };
  apply(yaml("demo:v1"));
  runFor(std::chrono::seconds(5));
  ASSERT_EQ(router.weights, std::vector<int32_t>{0});
  apply(yaml("demo:v2"));
  runFor(std::chrono::seconds(5));
  auto r = rollout();
  ASSERT_EQ(spec::rolloutPhaseName(r.status.phase), std::string("Paused")) << r.status.message;
  EXPECT_EQ(router.stableHash, hashOf("demo:v1"));
  EXPECT_EQ(router.canaryHash, hashOf("demo:v2"));
  EXPECT_EQ(router.current, 25) << "1 v2 and 3 v1 replicas are ready";
  EXPECT_FALSE(r.status.canary.weights.has_value()) << "a basic canary records no step weights";
  router.current = RouterLog::kLost;
  runFor(options.routerWatch + Duration(1));
  EXPECT_EQ(router.current, 25) << "restored by the watch";
  const store::ObjectKey key{"Rollout", "default", "demo"};
  auto promoted = rollout::promote(rollout());
  ASSERT_TRUE(promoted.has_value()) << promoted.error().message;
  ASSERT_TRUE(store.put(key, spec::toJson(*promoted), store.get(key)->version));
  runFor(std::chrono::seconds(10));
  r = rollout();
  EXPECT_EQ(spec::rolloutPhaseName(r.status.phase), std::string("Healthy")) << r.status.message;
  EXPECT_EQ(router.stableHash, hashOf("demo:v2"));
  EXPECT_EQ(router.current, 0) << "the canary is the stable revision";
}

TEST(SwitchEventsTest, NameTheRoutersOrSayNothingMoved) {
  const std::vector<rollout::ServiceSwitch> sync = {{"web-active", "a", "b"}};
  auto routed = switchEvents(sync, {"ramp/haproxy", "ramp/nginx"}, "platform.process");
  ASSERT_EQ(routed.size(), 1u);
  EXPECT_EQ(routed[0].type, "Normal");
  EXPECT_EQ(routed[0].reason, "SwitchService");
  EXPECT_EQ(routed[0].message,
            "Switched service 'web-active' from 'a' to 'b' through ramp/haproxy, ramp/nginx");
  auto none = switchEvents(sync, {}, "platform.process");
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].type, "Warning");
  EXPECT_EQ(none[0].reason, "ServiceNotRouted");
  EXPECT_EQ(none[0].message,
            "Service 'web-active' now selects 'b' (was 'a'), but no traffic was switched: no "
            "router serves this rollout on platform.process (set "
            "spec.strategy.blueGreen.trafficRouting.plugins)");
  EXPECT_TRUE(switchEvents({}, {}, "p").empty());
  // On Kubernetes the Service's selector is the switch: Argo's event and wording.
  auto selected = switchEvents(sync, {}, "platform.kubernetes", /*servicesRoute=*/true);
  ASSERT_EQ(selected.size(), 1u);
  EXPECT_EQ(selected[0].type, "Normal");
  EXPECT_EQ(selected[0].reason, "SwitchService");
  EXPECT_EQ(selected[0].message, "Switched selector for service 'web-active' from 'a' to 'b'");
}

TEST_F(ControllerTest, InitialDeploySkipsStepsAndBecomesHealthy) {
  apply(kTemplate);
  apply(rolloutYaml("demo:v1", kSteps));
  runFor(std::chrono::seconds(5));
  const auto r = rollout();
  EXPECT_EQ(spec::rolloutPhaseName(r.status.phase), std::string("Healthy"));
  EXPECT_EQ(r.status.stableRS, hashOf("demo:v1"));
  EXPECT_EQ(r.status.availableReplicas, 4);
  EXPECT_EQ(provider.count("run"), 0u) << "the initial deploy runs no analysis";
  EXPECT_EQ(driver.workload("default/demo").revisions.size(), 1u);
}

// Item 4 of "Plain hosts, done right": a router this platform does not have (Istio on a plain
// host) is InvalidSpec; nothing runs and no event claims a weight moved.
TEST_F(ControllerTest, ARouterThePlatformLacksIsInvalidSpecAndNothingRuns) {
  std::string yaml = rolloutYaml("demo:v1", kSteps);
  const std::string plugin = "        plugins:\n          ramp/recording: {}\n";
  yaml.replace(yaml.find(plugin), plugin.size(), "        istio: {virtualService: {name: vs}}\n");
  yaml.replace(yaml.find("      trafficRouting:"), 0,
               "      canaryService: demo-canary\n      stableService: demo-stable\n");
  apply(kTemplate);
  apply(yaml);
  runFor(std::chrono::seconds(5));
  const auto r = rollout();
  EXPECT_EQ(spec::rolloutPhaseName(r.status.phase), std::string("Degraded"));
  EXPECT_EQ(r.status.message,
            "InvalidSpec: spec.strategy.canary.trafficRouting.istio: istio traffic routing is not "
            "available on platform.instant: no router traffic.istio is registered (routers here: "
            "ramp/recording)");
  EXPECT_TRUE(driver.workload("default/demo").revisions.empty());
  EXPECT_TRUE(router.weights.empty());
  EXPECT_EQ(count("TrafficWeightUpdated"), 0u);
  EXPECT_EQ(count("RolloutCompleted"), 0u);
  EXPECT_EQ(count("InvalidSpec"), 1u);
  // Reconciled again (a resync) with the same problem: no second event, no write.
  const int64_t revision = *store.currentRevision();
  ASSERT_TRUE(controller->enqueueAll());
  runFor(std::chrono::seconds(5));
  EXPECT_EQ(count("InvalidSpec"), 1u);
  EXPECT_EQ(*store.currentRevision(), revision);
  // Fixed: the condition goes and the rollout runs.
  apply(rolloutYaml("demo:v1", kSteps));
  runFor(std::chrono::seconds(5));
  EXPECT_EQ(spec::rolloutPhaseName(rollout().status.phase), std::string("Healthy"));
}

// Item 5: a second Rollout naming the same backend is InvalidSpec (Argo's "Service … is managed
// by rollout …"); the first keeps it.
TEST_F(ControllerTest, ABackendOwnedByAnotherRolloutIsInvalidSpec) {
  RouterTraits claiming;
  claiming.inspect = [](std::string_view config) {
    RouterConfigReport report;
    const auto j = nlohmann::json::parse(config);
    const std::string backend = j.value("backend", "");
    report.claims.push_back({"test " + backend, "backend " + backend, "backend"});
    return report;
  };
  ASSERT_TRUE(registry.addRouter(
      "traffic.claiming",
      [this](const RouterContext&, const ExtensionContext&) {
        return Result<traffic::TrafficRouterPtr>(std::make_unique<RecordingRouter>(router));
      },
      claiming));
  const auto claimingRollout = [](const std::string& name) {
    std::string yaml = named(name, rolloutYaml("demo:v1", "      - setWeight: 20\n"));
    yaml.replace(yaml.find("ramp/recording: {}"), 18, "ramp/claiming: {backend: be_app}");
    return yaml;
  };
  apply(claimingRollout("a"));
  apply(claimingRollout("b"));
  runFor(std::chrono::seconds(5));
  EXPECT_EQ(spec::rolloutPhaseName(rollout("a").status.phase), std::string("Healthy"));
  const auto b = rollout("b");
  EXPECT_EQ(spec::rolloutPhaseName(b.status.phase), std::string("Degraded"));
  EXPECT_EQ(b.status.message,
            "InvalidSpec: spec.strategy.canary.trafficRouting.plugins[ramp/claiming].backend: "
            "backend be_app is managed by rollout default/a");
  EXPECT_TRUE(driver.workload("default/b").revisions.empty());

  // A fresh controller (a restart) that happens to reconcile b first still finds a's claim: the
  // listing fills the index before any reconcile.
  store.unsubscribe(subscription);
  controller = std::make_unique<Controller>(store, registry, driver, context, options);
  subscription = store.subscribe([this](const store::Change& c) { controller->onChange(c); });
  ASSERT_TRUE(controller->enqueueAll());
  ASSERT_TRUE(controller->reconcile("Rollout/default/b"));
  EXPECT_EQ(spec::rolloutPhaseName(rollout("b").status.phase), std::string("Degraded"));
  EXPECT_TRUE(driver.workload("default/b").revisions.empty());

  // Once a is deleted, b takes the backend.
  auto stored = store.get({"Rollout", "default", "a"});
  ASSERT_TRUE(stored);
  ASSERT_TRUE(store.remove({"Rollout", "default", "a"}, stored->version));
  runFor(std::chrono::seconds(5));
  EXPECT_EQ(spec::rolloutPhaseName(rollout("b").status.phase), std::string("Healthy"));
}

// Item 8: a template the platform refuses (its program is not on this host) becomes
// InvalidSpec with the platform's reason in status.message, not "Progressing" forever under
// repeated scaling events, and nothing claims the deploy completed.
TEST_F(ControllerTest, ATemplateThePlatformRefusesIsInvalidSpecWithTheReason) {
  driver.refusedImages.insert("demo:v1");
  apply(kTemplate);
  apply(rolloutYaml("demo:v1", kSteps));
  runFor(std::chrono::seconds(30), /*allowErrors=*/true);
  const auto r = rollout();
  EXPECT_EQ(spec::rolloutPhaseName(r.status.phase), std::string("Degraded"));
  EXPECT_EQ(r.status.message,
            "InvalidSpec: platform.instant refused the template: "
            "spec.template.spec.containers[0].command[0]: \"app\" is not found in PATH");
  EXPECT_EQ(count("RolloutCompleted"), 0u);
  EXPECT_LE(count("ScalingReplicaSet"), 1u);
  EXPECT_EQ(count("InvalidSpec"), 1u);
  // A new template is tried.
  apply(rolloutYaml("demo:v2", kSteps));
  runFor(std::chrono::seconds(5));
  EXPECT_EQ(spec::rolloutPhaseName(rollout().status.phase), std::string("Healthy"));
}

// Argo's hash collision (rollout/sync.go): the name of the new revision is held by another
// object. The controller raises status.collisionCount and the revision is created under the
// hash computed with it; the rollout goes Healthy, nothing is InvalidSpec.
TEST_F(ControllerTest, AHashCollisionRaisesCollisionCountAndCreatesTheRevisionUnderANewHash) {
  apply(kTemplate);
  apply(rolloutYaml("demo:v1", kSteps));
  const std::string taken = rollout::podTemplateHash(*rollout().spec.template_, std::nullopt);
  driver.takenHashes.insert(taken);
  runFor(std::chrono::seconds(10));
  const auto r = rollout();
  ASSERT_TRUE(r.status.collisionCount.has_value());
  EXPECT_EQ(*r.status.collisionCount, 1);
  const std::string next = rollout::podTemplateHash(*r.spec.template_, 1);
  EXPECT_NE(next, taken);
  EXPECT_EQ(r.status.currentPodHash, next);
  EXPECT_EQ(spec::rolloutPhaseName(r.status.phase), std::string("Healthy"));
  ASSERT_EQ(driver.workload("default/demo").revisions.size(), 1u);
  EXPECT_EQ(driver.workload("default/demo").revisions[0].podTemplateHash, next);
  EXPECT_EQ(count("InvalidSpec"), 0u);
}

// spec.workloadRef: the pod template comes from the object the platform reads. While it is
// missing the Rollout is InvalidSpec and is looked at again every workloadRefPoll (nothing in the
// store changes meanwhile); once it exists the Rollout runs its template, records its
// generation, and with scaleDown: onsuccess the controller scales the Deployment to 0 once
// Healthy. The stored spec keeps no template.
TEST_F(ControllerTest, AWorkloadRefRolloutWaitsForItsDeploymentThenMigrates) {
  apply(R"(
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  replicas: 2
  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: legacy, scaleDown: onsuccess}
  strategy:
    canary:
      steps: [{setWeight: 50}]
)");
  runFor(std::chrono::seconds(3));
  EXPECT_EQ(rollout().status.message,
            "InvalidSpec: spec.workloadRef: Deployment default/legacy not found");
  EXPECT_TRUE(driver.workload("default/demo").revisions.empty());

  const auto hashOfTemplate = [](const spec::PodTemplateSpec& t) {
    return rollout::podTemplateHash(t, std::nullopt);
  };
  const platform::ReferencedWorkload legacy = legacyDeployment(7);
  driver.referenced["default/legacy"] = legacy;
  runFor(std::chrono::seconds(10));
  const spec::Rollout r = rollout();
  EXPECT_EQ(spec::rolloutPhaseName(r.status.phase), std::string("Healthy")) << r.status.message;
  EXPECT_EQ(r.status.workloadObservedGeneration, "7");
  const auto w = driver.workload("default/demo");
  ASSERT_EQ(w.revisions.size(), 1u);
  EXPECT_EQ(w.revisions[0].template_, legacy.template_);
  EXPECT_EQ(driver.referenced["default/legacy"].replicas, 0);
  EXPECT_EQ(count("ScalingWorkloadRef"), 1u);
  EXPECT_FALSE(r.spec.template_);

  // A settled Rollout still notices a new template in its Deployment (the platform pushes no
  // change, nothing changes in the store): a second revision, through the steps, within the
  // poll. The Deployment stays at 0.
  driver.referenced["default/legacy"].template_.spec.containers[0].image = "legacy:v2";
  driver.referenced["default/legacy"].generation = 8;
  runFor(std::chrono::seconds(20));
  const spec::Rollout v2 = rollout();
  EXPECT_EQ(spec::rolloutPhaseName(v2.status.phase), std::string("Healthy")) << v2.status.message;
  EXPECT_EQ(v2.status.workloadObservedGeneration, "8");
  ASSERT_EQ(driver.workload("default/demo").revisions.size(), 2u);
  EXPECT_EQ(v2.status.stableRS, hashOfTemplate(driver.referenced["default/legacy"].template_));
  EXPECT_EQ(driver.referenced["default/legacy"].replicas, 0);
}

// Step 2b: a new revision is created, with 0 replicas, before the intent is persisted. When the
// write then fails, the revision is there and the status does not name it; the next reconcile
// announces the update once and goes on.
TEST_F(ControllerTest, ANewRevisionIsCreatedBeforeItsIntentIsPersisted) {
  store::testing::FaultyStateStore faulty(store);
  controller = std::make_unique<Controller>(faulty, registry, driver, context, options);
  apply(kTemplate);
  apply(rolloutYaml("demo:v1", kSteps));
  runFor(std::chrono::seconds(5));
  ASSERT_EQ(spec::rolloutPhaseName(rollout().status.phase), std::string("Healthy"));
  const size_t updatedBefore = count("RolloutUpdated");
  apply(rolloutYaml("demo:v2", kSteps));
  faulty.failNext(store::testing::FaultyStateStore::Op::kPut,
                  Error{ErrorCode::kUnavailable, "injected: the store is down"});
  controller->process("Rollout/default/demo");
  const auto w = driver.workload("default/demo");
  const auto v2 = std::find_if(w.revisions.begin(), w.revisions.end(), [&](const auto& r) {
    return r.podTemplateHash == hashOf("demo:v2");
  });
  ASSERT_NE(v2, w.revisions.end()) << "created before the write that failed";
  EXPECT_EQ(v2->desiredReplicas, 0);
  EXPECT_EQ(rollout().status.currentPodHash, hashOf("demo:v1"));
  EXPECT_EQ(count("RolloutUpdated"), updatedBefore);

  provider.onRun(ScriptedProvider::number(0.99));
  runFor(std::chrono::seconds(5), /*allowErrors=*/true);
  EXPECT_EQ(rollout().status.currentPodHash, hashOf("demo:v2"));
  EXPECT_EQ(count("RolloutUpdated"), updatedBefore + 1);
  EXPECT_EQ(spec::rolloutPhaseName(rollout().status.phase), std::string("Paused"));
}

// On a platform that watches the objects workloadRefs name (platform.kubernetes), nothing is
// polled: a missing Deployment, or a settled Rollout, is not reconciled again until the
// platform says its object changed, and then at once.
TEST_F(ControllerTest, AWorkloadRefRolloutWaitsForThePlatformToSayItsObjectChanged) {
  driver.pushWorkloadRefs = true;
  controller = std::make_unique<Controller>(store, registry, driver, context, options);
  apply(R"(
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  replicas: 2
  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: legacy}
  strategy:
    canary:
      steps: [{setWeight: 50}]
)");
  runFor(std::chrono::seconds(3));
  EXPECT_EQ(rollout().status.message,
            "InvalidSpec: spec.workloadRef: Deployment default/legacy not found");
  const int64_t reconciles = controller->stats().rolloutReconciles;
  driver.referenced["default/legacy"] = legacyDeployment(1);
  runFor(std::chrono::minutes(10));
  EXPECT_EQ(controller->stats().rolloutReconciles, reconciles) << "polled";
  EXPECT_TRUE(driver.workload("default/demo").revisions.empty());

  driver.referencedChanged("default/demo");
  runFor(std::chrono::seconds(10));
  EXPECT_EQ(spec::rolloutPhaseName(rollout().status.phase), std::string("Healthy"))
      << rollout().status.message;
  const int64_t settled = controller->stats().rolloutReconciles;
  driver.referenced["default/legacy"].template_.spec.containers[0].image = "legacy:v2";
  driver.referenced["default/legacy"].generation = 2;
  runFor(std::chrono::minutes(10));
  EXPECT_EQ(controller->stats().rolloutReconciles, settled) << "polled";
  EXPECT_EQ(driver.workload("default/demo").revisions.size(), 1u);
  driver.referencedChanged("default/demo");
  runFor(std::chrono::seconds(20));
  EXPECT_EQ(spec::rolloutPhaseName(rollout().status.phase), std::string("Healthy"));
  EXPECT_EQ(rollout().status.workloadObservedGeneration, "2");
  EXPECT_EQ(driver.workload("default/demo").revisions.size(), 2u);
}

TEST_F(ControllerTest, CanaryWalksEveryStepWithAnalysisAndPromotes) {
  releaseV2ToItsFirstPause();
  auto r = rollout();
  EXPECT_EQ(spec::rolloutPhaseName(r.status.phase), std::string("Paused"));
  EXPECT_EQ(r.status.currentStepIndex, 1);
  EXPECT_EQ(router.current, 20);
  EXPECT_EQ(router.canaryHash, hashOf("demo:v2"));
  EXPECT_EQ(provider.count("run"), 0u) << "analysis must wait for the pause";

  runFor(std::chrono::seconds(30));
  r = rollout();
  EXPECT_EQ(spec::rolloutPhaseName(r.status.phase), std::string("Healthy"));
  EXPECT_EQ(r.status.stableRS, hashOf("demo:v2"));
  EXPECT_EQ(provider.count("run"), 1u);
  EXPECT_EQ(router.weights, (std::vector<int32_t>{0, 20, 60, 100, 0}));
  EXPECT_EQ(count("RolloutStepCompleted"), 5u);
  EXPECT_EQ(count("AnalysisRunCreated"), 1u);
  EXPECT_EQ(count("AnalysisRunSuccessful"), 1u);
  EXPECT_EQ(count("RolloutCompleted"), 2u) << "the initial deploy, then v2";
  // The stored run is owned by the rollout and finished.
  auto runs = store.list("AnalysisRun", "default");
  ASSERT_EQ(runs->items.size(), 1u);
  auto run = spec::analysisRunFromJson(runs->items[0].json).value;
  EXPECT_EQ(run->metadata.labels.at(kOwnerLabel), "demo");
  EXPECT_EQ(run->status.phase, spec::AnalysisPhase::kSuccessful);
}

// On a store without transactions a batch may land only in part, so an AnalysisRun is written
// before the Rollout status that names it (state_store.h, write()): the run's create takes the
// lower revision of the batch that starts the analysis step.
TEST_F(ControllerTest, AnAnalysisRunIsWrittenBeforeTheStatusThatNamesIt) {
  std::vector<store::Change> changes;
  const int64_t id = store.subscribe([&](const store::Change& c) { changes.push_back(c); });
  releaseV2ToItsFirstPause();
  runFor(std::chrono::seconds(30));
  store.unsubscribe(id);
  auto created = std::find_if(changes.begin(), changes.end(),
                              [](const store::Change& c) { return c.key.kind == "AnalysisRun"; });
  ASSERT_NE(created, changes.end());
  ASSERT_NE(created + 1, changes.end());
  const store::Change& status = *(created + 1);
  EXPECT_EQ(status.key.kind, "Rollout");
  EXPECT_EQ(status.revision, created->revision + 1) << "one batch: the run, then the status";
  auto r = spec::rolloutFromJson(status.json).value;
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->status.canary.currentStepAnalysisRunStatus);
  EXPECT_EQ(r->status.canary.currentStepAnalysisRunStatus->name, created->key.name);
}

// The controller keeps the last version it decoded or wrote of a busy rollout (RolloutCache),
// and writes a new status onto that version's text. A spec written by someone else in between
// (a new store version) must be read afresh, and every text the controller writes must be what
// spec::toJson gives for the object it decodes to.
// The old stable is scaled down scaleDownDelaySeconds (30 s) after the promotion, in a reconcile
// whose status was decided before it acted; the status must then follow the platform. (Item 12
// of "Plain hosts, done right" reports it stale on the process platform; this in-test world
// does not reproduce that, so this is coverage, not the fix.)
TEST_F(ControllerTest, StatusReplicasFollowThePlatformAfterAPromotion) {
  releaseV2ToItsFirstPause();
  runFor(std::chrono::seconds(30));
  ASSERT_EQ(spec::rolloutPhaseName(rollout().status.phase), std::string("Healthy"));
  runFor(std::chrono::seconds(60));
  int32_t running = 0;
  for (const auto& rev : driver.workload("default/demo").revisions) running += rev.currentReplicas;
  ASSERT_EQ(running, 4) << "the old stable is scaled down";
  const auto r = rollout();
  EXPECT_EQ(r.status.replicas, 4);
  EXPECT_EQ(r.status.availableReplicas, 4);
  EXPECT_EQ(r.status.readyReplicas, 4);
}

TEST_F(ControllerTest, ASpecWrittenMidReleaseIsSeenAndWritesStayCanonical) {
  releaseV2ToItsFirstPause();
  ASSERT_EQ(rollout().status.currentStepIndex, 1);  // paused at 20%, requeued: cached
  EXPECT_EQ(controller->stats().cachedRollouts, 1);
  EXPECT_EQ(router.canaryHash, hashOf("demo:v2"));

  apply(rolloutYaml("demo:v3", kSteps));
  runFor(std::chrono::seconds(5));
  auto r = rollout();
  EXPECT_EQ(r.spec.template_->spec.containers.at(0).image, "demo:v3");
  EXPECT_EQ(r.status.currentPodHash, hashOf("demo:v3"));
  EXPECT_EQ(router.canaryHash, hashOf("demo:v3"));
  const auto stored = store.get({"Rollout", "default", "demo"});
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->json, spec::toJson(r));

  runFor(std::chrono::seconds(60));
  r = rollout();
  EXPECT_EQ(spec::rolloutPhaseName(r.status.phase), std::string("Healthy"));
  EXPECT_EQ(r.status.stableRS, hashOf("demo:v3"));
  EXPECT_EQ(store.get({"Rollout", "default", "demo"})->json, spec::toJson(r));
  EXPECT_EQ(controller->stats().cachedRollouts, 0) << "a settled rollout keeps no entry";
}

TEST_F(ControllerTest, FailedAnalysisAbortsAndSendsTrafficBackToStable) {
  apply(kTemplate);
  apply(rolloutYaml("demo:v1", kSteps));
  runFor(std::chrono::seconds(5));
  provider.onRun(ScriptedProvider::number(0.5));
  apply(rolloutYaml("demo:v3", kSteps));
  runFor(std::chrono::seconds(60));
  const auto r = rollout();
  EXPECT_EQ(spec::rolloutPhaseName(r.status.phase), std::string("Degraded"));
  EXPECT_TRUE(r.status.abort);
  EXPECT_EQ(r.status.stableRS, hashOf("demo:v1")) << "never promoted on a failed analysis";
  EXPECT_EQ(router.current, 0);
  EXPECT_EQ(count("RolloutAborted"), 1u);
  EXPECT_EQ(count("AnalysisRunFailed"), 1u);
  // The failing measurement is the evidence on the AnalysisRun's event.
  bool evidence = false;
  const auto events = store.listEvents({});
  for (const auto& e : *events) {
    if (e.reason == "MetricFailed") evidence = e.evidence.find("0.5") != std::string::npos;
  }
  EXPECT_TRUE(evidence);
  // Canary replicas go away after abortScaleDownDelaySeconds (30 s default).
  runFor(std::chrono::seconds(40));
  for (const auto& rev : driver.workload("default/demo").revisions) {
    if (rev.podTemplateHash == hashOf("demo:v3")) {
      EXPECT_EQ(rev.desiredReplicas, 0);
    }
  }
}

TEST_F(ControllerTest, AFreshControllerCarriesOnFromTheStoredState) {
  apply(kTemplate);
  apply(rolloutYaml("demo:v1", kSteps));
  runFor(std::chrono::seconds(5));
  provider.onRun(ScriptedProvider::number(0.99));
  apply(rolloutYaml("demo:v2", kSteps));
  runFor(std::chrono::seconds(3));
  ASSERT_EQ(rollout().status.currentStepIndex, 1);
  // The daemon dies: a new controller over the same store and platform picks up where the old
  // one was (the pause keeps its start time, so it ends at the same instant).
  controller = std::make_unique<Controller>(store, registry, driver, context, options);
  ASSERT_TRUE(controller->enqueueAll());
  runFor(std::chrono::seconds(30));
  EXPECT_EQ(spec::rolloutPhaseName(rollout().status.phase), std::string("Healthy"));
  EXPECT_EQ(count("RolloutStepCompleted"), 5u) << "no step repeated or skipped";
  EXPECT_EQ(provider.count("run"), 1u);
}

TEST_F(ControllerTest, PlatformErrorsAreRetriedWithBackoffAndReported) {
  apply(kTemplate);
  apply(rolloutYaml("demo:v1", kSteps));
  driver.failObserve = true;
  runFor(std::chrono::seconds(2), /*allowErrors=*/true);
  EXPECT_GT(controller->stats().reconcileErrors, 3) << "retried with backoff";
  EXPECT_EQ(count("ReconcileError"), 1u) << "the same error is reported once, not per retry";
  driver.failObserve = false;
  runFor(std::chrono::seconds(15));
  EXPECT_EQ(spec::rolloutPhaseName(rollout().status.phase), std::string("Healthy"));
}

// Item 22: a router that cannot be made is reported with its field path once, whether or not
// the router's own error already names it.
TEST_F(ControllerTest, ARouterErrorNamesItsFieldPathOnce) {
  ASSERT_TRUE(
      registry.addRouter("traffic.failing", [](const RouterContext& rc, const ExtensionContext&) {
        const bool named = rc.configJson.find("named") != std::string::npos;
        return Result<traffic::TrafficRouterPtr>(makeError(
            ErrorCode::kInvalidArgument,
            named ? "trafficRouting.plugins[\"ramp/failing\"].backend: required" : "cannot start"));
      }));
  const auto failing = [](const std::string& config) {
    std::string yaml = rolloutYaml("demo:v1", "      - setWeight: 20\n");
    yaml.replace(yaml.find("ramp/recording: {}"), 18, "ramp/failing: " + config);
    return yaml;
  };
  const auto lastError = [&] {
    store::EventQuery q;
    q.object = store::ObjectKey{"Rollout", "default", "demo"};
    std::string message;
    const auto events = store.listEvents(q);
    for (const store::Event& e : *events) {
      if (e.reason == "ReconcileError") message = e.message;
    }
    return message;
  };
  apply(failing("{named: true}"));
  runFor(std::chrono::seconds(2), /*allowErrors=*/true);
  EXPECT_EQ(lastError(), "trafficRouting.plugins[\"ramp/failing\"].backend: required");
  apply(failing("{other: true}"));
  runFor(std::chrono::seconds(2), /*allowErrors=*/true);
  EXPECT_EQ(lastError(), "trafficRouting.plugins[\"ramp/failing\"]: cannot start");
}

TEST_F(ControllerTest, DeletingARolloutRemovesItsRevisionsAndRuns) {
  apply(kTemplate);
  apply(rolloutYaml("demo:v1", kSteps));
  runFor(std::chrono::seconds(5));
  provider.onRun(ScriptedProvider::number(0.99));
  apply(rolloutYaml("demo:v2", kSteps));
  runFor(std::chrono::seconds(15));
  ASSERT_EQ(store.list("AnalysisRun", "default")->items.size(), 1u);
  ASSERT_EQ(controller->stats().cachedRollouts, 1) << "mid-release: busy";
  auto got = store.get({"Rollout", "default", "demo"});
  auto removed = store.remove(got->key, got->version);
  ASSERT_TRUE(removed);
  router.down = true;  // the proxy is unreachable for a while: the rest goes on, routes retried
  runFor(std::chrono::seconds(5), /*allowErrors=*/true);
  EXPECT_TRUE(driver.workload("default/demo").revisions.empty());
  EXPECT_TRUE(store.list("AnalysisRun", "default")->items.empty());
  EXPECT_EQ(controller->stats().cachedRollouts, 0) << "a deleted rollout keeps no entry";
  EXPECT_FALSE(router.removed);
  router.down = false;
  runFor(std::chrono::seconds(15));
  EXPECT_TRUE(router.removed) << "its servers no longer point at stopped replicas";
  EXPECT_TRUE(router.canaryHash.empty());
}

TEST_F(ControllerTest, AnIdleHealthyRolloutIsNotRequeued) {
  // Unrouted: nothing at all is due (no router watch either).
  std::string yaml = rolloutYaml("demo:v1", kSteps);
  yaml.replace(
      yaml.find("      trafficRouting:"),
      std::string("      trafficRouting:\n        plugins:\n          ramp/recording: {}\n").size(),
      "");
  apply(kTemplate);
  apply(yaml);
  runFor(std::chrono::seconds(5));
  ASSERT_EQ(spec::rolloutPhaseName(rollout().status.phase), std::string("Healthy"));
  auto before = controller->stats();
  int scales = driver.scaleCalls;
  runFor(std::chrono::hours(1));
  EXPECT_EQ(controller->stats().rolloutReconciles, before.rolloutReconciles);
  EXPECT_EQ(driver.scaleCalls, scales);
  EXPECT_FALSE(controller->queue().nextDueTime().has_value());
  EXPECT_EQ(router.verifyCalls, 0);

  // Routed: the router watch reads the proxy every 2 s, and while it holds the weight the
  // rollout is not reconciled.
  apply(named("routed", rolloutYaml("demo:v1", kSteps)));
  runFor(std::chrono::seconds(5));
  ASSERT_EQ(spec::rolloutPhaseName(rollout("routed").status.phase), std::string("Healthy"))
      << rollout("routed").status.message;
  before = controller->stats();
  scales = driver.scaleCalls;
  const int verifies = router.verifyCalls;
  runFor(std::chrono::hours(1));
  EXPECT_EQ(controller->stats().rolloutReconciles, before.rolloutReconciles);
  EXPECT_EQ(driver.scaleCalls, scales);
  EXPECT_NEAR(router.verifyCalls - verifies, 1800, 1) << "one check per 2 s";
}

// The router watch, whatever the phase: a proxy that loses its state (HAProxy restarted) is
// found within options.routerWatch and restored by the reconcile it triggers; a proxy that is
// down shows in the status (weights.verified false, never Healthy) until it is back.
TEST_F(ControllerTest, TheRouterWatchRestoresAProxyThatLostItsStateInEveryPhase) {
  const std::string steps = "      - setWeight: 25\n      - pause: {}\n";
  struct Row {
    const char* phase;
    int32_t weight;
  };
  for (const Row& row : {Row{"Healthy", 0}, Row{"Paused", 25}, Row{"Degraded", 0}}) {
    SCOPED_TRACE(row.phase);
    const std::string name = std::string("r-") + row.phase;
    apply(named(name, rolloutYaml("demo:v1", steps)));
    runFor(std::chrono::seconds(5));
    if (std::string(row.phase) != "Healthy") {
      apply(named(name, rolloutYaml("demo:v2", steps)));
      runFor(std::chrono::seconds(5));
    }
    if (std::string(row.phase) == "Degraded") {
      const store::ObjectKey key{"Rollout", "default", name};
      auto aborted = rollout::abortRollout(rollout(name));
      ASSERT_TRUE(aborted) << aborted.error().message;
      ASSERT_TRUE(store.put(key, spec::toJson(*aborted), store.get(key)->version));
      runFor(std::chrono::seconds(5));
    }
    auto r = rollout(name);
    ASSERT_EQ(spec::rolloutPhaseName(r.status.phase), std::string(row.phase)) << r.status.message;
    ASSERT_EQ(router.current, row.weight);
    ASSERT_NE(r.status.canary.weights->verified, false);

    // The proxy restarts empty: back within one watch period.
    router.current = RouterLog::kLost;
    runFor(options.routerWatch + Duration(1));
    EXPECT_EQ(router.current, row.weight) << "restored by the watch";
    runFor(options.routerWatch * 2);
    r = rollout(name);
    EXPECT_EQ(spec::rolloutPhaseName(r.status.phase), std::string(row.phase)) << r.status.message;
    EXPECT_NE(r.status.canary.weights->verified, false);

    // The proxy is down: the status says so while it lasts, and it is restored after.
    router.down = true;
    runFor(options.routerWatch * 2, /*allowErrors=*/true);
    r = rollout(name);
    EXPECT_EQ(r.status.canary.weights->verified, false);
    EXPECT_NE(spec::rolloutPhaseName(r.status.phase), std::string("Healthy"));
    router.down = false;
    router.current = RouterLog::kLost;
    runFor(options.routerWatch * 3, /*allowErrors=*/true);
    EXPECT_EQ(router.current, row.weight);
    r = rollout(name);
    EXPECT_EQ(spec::rolloutPhaseName(r.status.phase), std::string(row.phase)) << r.status.message;
    EXPECT_NE(r.status.canary.weights->verified, false);
    auto got = store.get({"Rollout", "default", name});
    ASSERT_TRUE(store.remove(got->key, got->version));
    runFor(std::chrono::seconds(5));
  }
}

TEST(RouterWatchTest, RequeuesWhenTheProxyDisagreesWithWhatWasAppliedOrRecorded) {
  using V = rollout::WeightVerification;
  const struct {
    V probe;
    std::optional<bool> status;
    bool requeue;
  } table[] = {
      {V::kVerified, true, false},  // in place, and recorded so: nothing to do
      {V::kVerified, false, true},  // back in place: the status must catch up
      {V::kVerified, std::nullopt, false},
      {V::kNotYet, true, true},   // lost (restart, reload, drift, unreachable)
      {V::kNotYet, false, true},  // still lost: keep repairing
      {V::kNotYet, std::nullopt, true},
      {V::kUnsupported, false, false},  // cannot be read back: not watched
      {V::kNotChecked, false, false},
  };
  for (const auto& row : table) {
    EXPECT_EQ(routerWatchRequeues(row.probe, row.status), row.requeue)
        << static_cast<int>(row.probe) << " " << row.status.value_or(-1);
  }
}

TEST_F(ControllerTest, RestartAtReplacesEveryReplicaOneAtATimeThenSetsRestartedAt) {
  apply(kTemplate);
  apply(rolloutYaml("demo:v1", kSteps));
  runFor(std::chrono::seconds(5));
  const Time restartAt = clock.now();
  {
    const store::ObjectKey key{"Rollout", "default", "demo"};
    auto stored = store.get(key);
    ASSERT_TRUE(stored);
    auto next = rollout::restart(*spec::rolloutFromJson(stored->json).value, restartAt);
    ASSERT_TRUE(next) << next.error().message;
    ASSERT_TRUE(store.put(key, spec::toJson(*next), stored->version));
  }
  runFor(std::chrono::minutes(2));
  const auto r = rollout();
  EXPECT_EQ(driver.restartCalls, 4);  // 4 replicas, maxUnavailable 25%: one per reconcile
  EXPECT_EQ(r.status.restartedAt, restartAt);
  EXPECT_EQ(count("RestartingReplica"), 4u);
  EXPECT_EQ(count("RolloutRestarted"), 1u);
  EXPECT_EQ(spec::rolloutPhaseName(r.status.phase), std::string("Healthy")) << r.status.message;
  const auto workload = driver.workload("default/demo");
  for (Time t : workload.revisions.at(0).replicaStartedAt) EXPECT_GE(t, restartAt);
}

// The platform is told which Service selects which revision: the blue-green preview follows the
// new revision at once, the active Service switches only at promotion (Argo's SwitchService).
TEST_F(ControllerTest, BlueGreenServicesSwitchOnThePlatformAtPromotion) {
  auto blueGreen = [](const std::string& image) {
    return R"(
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  replicas: 2
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec: {containers: [{name: app, image: )" +
           image + R"(}]}
  strategy:
    blueGreen: {activeService: demo-active, previewService: demo-preview,
                autoPromotionEnabled: false}
)";
  };
  using Services = std::map<std::string, std::string>;
  apply(blueGreen("demo:v1"));
  runFor(std::chrono::seconds(5));
  const std::string v1 = hashOf("demo:v1");
  EXPECT_EQ(driver.services("default/demo"), (Services{{"demo-active", v1}, {"demo-preview", v1}}));
  apply(blueGreen("demo:v2"));
  runFor(std::chrono::seconds(5));
  const std::string v2 = hashOf("demo:v2");
  ASSERT_EQ(spec::rolloutPhaseName(rollout().status.phase), std::string("Paused"));
  EXPECT_EQ(driver.services("default/demo"), (Services{{"demo-active", v1}, {"demo-preview", v2}}));
  const store::ObjectKey key{"Rollout", "default", "demo"};
  auto promoted = rollout::promote(rollout());
  ASSERT_TRUE(promoted) << promoted.error().message;
  ASSERT_TRUE(store.put(key, spec::toJson(*promoted), store.get(key)->version));
  runFor(std::chrono::seconds(5));
  EXPECT_EQ(driver.services("default/demo"), (Services{{"demo-active", v2}, {"demo-preview", v2}}));
}

TEST_F(ControllerTest, MetricsRenderTheReconcileHistogram) {
  apply(kTemplate);
  apply(rolloutYaml("demo:v1", kSteps));
  runFor(std::chrono::seconds(5));
  MetricsPage page;
  controller->appendMetrics(page);
  EXPECT_EQ(page.errors(), std::vector<std::string>{});
  const std::string text = page.text();
  EXPECT_NE(text.find("rollout_reconcile_bucket{le=\"+Inf\"}"), std::string::npos);
  EXPECT_NE(text.find("controller_events_total{reason=\"RolloutCompleted\",type=\"Normal\"} 1"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("rollout_events_total"), std::string::npos)
      << "rollout_events_total is the API's (WatchHub): one owner per metric name";
}

TEST_F(ControllerTest, ABatchPersistsEveryIntentInOneTransactionThenActs) {
  apply(kTemplate);
  for (int i = 0; i < 4; ++i)
    apply(named("demo-" + std::to_string(i), rolloutYaml("demo:v1", kSteps)));
  std::vector<std::string> keys;
  while (auto key = controller->queue().tryGet(clock.now())) keys.push_back(*key);
  ASSERT_EQ(keys.size(), 4u);
  controller->processBatch(keys);
  EXPECT_EQ(controller->stats().rolloutReconciles, 4);
  EXPECT_EQ(controller->stats().storeWrites, 1) << "four intents, one commit";
  for (int i = 0; i < 4; ++i) {
    const std::string name = "demo-" + std::to_string(i);
    EXPECT_FALSE(rollout(name).status.currentPodHash.empty()) << name << ": status persisted";
    EXPECT_EQ(driver.workload("default/" + name).revisions.size(), 1u) << name << ": acted";
  }
  EXPECT_EQ(controller->queue().processing(), 0u) << "every key is done()";
  batch = 4;
  runFor(std::chrono::seconds(5));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(spec::rolloutPhaseName(rollout("demo-" + std::to_string(i)).status.phase),
              std::string("Healthy"));
  }
}

TEST_F(ControllerTest, ABatchThatLosesARaceCommitsTheOthersOneByOne) {
  batch = 3;
  apply(kTemplate);
  for (int i = 0; i < 3; ++i)
    apply(named("demo-" + std::to_string(i), rolloutYaml("demo:v1", kSteps)));
  runFor(std::chrono::seconds(5));
  for (int i = 0; i < 3; ++i) provider.onRun(ScriptedProvider::number(0.99));  // one per release
  for (int i = 0; i < 3; ++i)
    apply(named("demo-" + std::to_string(i), rolloutYaml("demo:v2", kSteps)));
  // While the batch decides demo-2, someone writes demo-0 (decided first, on the old version):
  // the batch's commit fails on demo-0's compare-and-swap.
  int64_t racedVersion = 0;
  driver.onObserve = [&](const std::string& key) {
    if (key != "default/demo-2" || racedVersion != 0) return;
    apply(named("demo-0", rolloutYaml("demo:v3", kSteps)));
    racedVersion = store.get({"Rollout", "default", "demo-0"})->version;
  };
  std::vector<std::string> keys;
  while (auto key = controller->queue().tryGet(clock.now())) keys.push_back(*key);
  ASSERT_EQ(keys.size(), 3u);
  const ControllerStats before = controller->stats();
  controller->processBatch(keys);
  driver.onObserve = nullptr;
  ASSERT_NE(racedVersion, 0);
  const ControllerStats after = controller->stats();
  EXPECT_EQ(after.reconcileErrors - before.reconcileErrors, 1) << "demo-0 lost, and only it";
  EXPECT_EQ(after.storeWrites - before.storeWrites, 2) << "demo-1 and demo-2, one by one";
  EXPECT_EQ(store.get({"Rollout", "default", "demo-0"})->version, racedVersion)
      << "the losing intent wrote nothing";
  // It did not act: its new revision was created (step 2b, before the commit) and stays empty.
  const auto lost = driver.workload("default/demo-0").revisions;
  const std::string stable = rollout("demo-0").status.stableRS;
  ASSERT_EQ(lost.size(), 2u);
  for (const auto& r : lost) {
    EXPECT_EQ(r.desiredReplicas, r.podTemplateHash == stable ? 4 : 0) << r.podTemplateHash;
  }
  for (const char* name : {"demo-1", "demo-2"}) {
    EXPECT_EQ(driver.workload(std::string("default/") + name).revisions.size(), 2u)
        << name << ": v2 deployed";
  }
  EXPECT_EQ(controller->queue().processing(), 0u);
  runFor(std::chrono::seconds(60));
  for (int i = 0; i < 3; ++i) {
    const auto r = rollout("demo-" + std::to_string(i));
    EXPECT_EQ(spec::rolloutPhaseName(r.status.phase), std::string("Healthy"));
    EXPECT_EQ(r.status.stableRS, r.status.currentPodHash);
  }
  EXPECT_EQ(rollout("demo-0").spec.template_->spec.containers.at(0).image, "demo:v3");
  EXPECT_EQ(provider.count("run"), 3u) << "each release analysed once";
}

// The signature gate (docs/supply-chain.md) with a fake verifier: a revision is created only
// with every image verified, pinned to its digest; a refused one pauses the rollout and starts
// nothing; the verifier is asked once per revision, and about a refusal again only after a
// retry or a spec change.
class ImageGateControllerTest : public ControllerTest {
 protected:
  ImageGateControllerTest() {
    options.imageVerifier = &verifier;
    controller = std::make_unique<Controller>(store, registry, driver, context, options);
  }
  // The image revision `hash` runs on the platform ("" when there is no such revision).
  std::string runningImage(const std::string& hash) {
    for (const auto& r : driver.workload("default/demo").revisions) {
      if (r.podTemplateHash == hash) return r.template_.spec.containers.at(0).image;
    }
    return "";
  }
  const spec::RolloutCondition* imageCondition(const spec::Rollout& r) {
    for (const auto& c : r.status.conditions) {
      if (c.type == rollout::kConditionImageVerified) return &c;
    }
    return nullptr;
  }
  testing::FakeImageVerifier verifier;
};

TEST_F(ImageGateControllerTest, AnUnsignedImageStartsNothingUntilSignedAndRetried) {
  verifier.signedImages = {"demo:v1"};
  apply(kTemplate);
  apply(rolloutYaml("demo:v1", kSteps));
  runFor(std::chrono::seconds(5));
  const std::string v1 = hashOf("demo:v1");
  EXPECT_EQ(spec::rolloutPhaseName(rollout().status.phase), std::string("Healthy"));
  EXPECT_EQ(runningImage(v1), "demo:v1@" + testing::FakeImageVerifier::digestOf("demo:v1"));
  EXPECT_EQ(verifier.callsFor("demo:v1"), 1);  // once for the revision, not per reconcile
  EXPECT_EQ(count("ImageVerified"), 1u);

  apply(rolloutYaml("demo:v2", kSteps));
  runFor(std::chrono::seconds(30));
  const std::string v2 = hashOf("demo:v2");
  auto r = rollout();
  EXPECT_EQ(spec::rolloutPhaseName(r.status.phase), std::string("Paused")) << r.status.message;
  ASSERT_NE(imageCondition(r), nullptr);
  EXPECT_EQ(imageCondition(r)->status, "False");
  EXPECT_NE(imageCondition(r)->message.find("test-policy"), std::string::npos);
  EXPECT_EQ(runningImage(v2), "");  // no revision, no replica of the image
  EXPECT_EQ(r.status.stableRS, v1);
  EXPECT_EQ(router.weights, std::vector<int32_t>{0});  // all traffic stays on v1
  EXPECT_EQ(count("ImageNotVerified"), 1u);
  EXPECT_EQ(verifier.callsFor("demo:v2"), 1);

  // Signing alone changes nothing: the refusal stands until a retry (or a spec change).
  verifier.signedImages.insert("demo:v2");
  runFor(std::chrono::seconds(30));
  EXPECT_EQ(verifier.callsFor("demo:v2"), 1);
  EXPECT_EQ(runningImage(v2), "");

  auto retried = rollout::retry(rollout());
  ASSERT_TRUE(retried) << retried.error().message;
  auto stored = store.get({"Rollout", "default", "demo"});
  ASSERT_TRUE(store.put(stored->key, spec::toJson(*retried), stored->version));
  runFor(std::chrono::seconds(5));
  EXPECT_EQ(verifier.callsFor("demo:v2"), 2);
  EXPECT_EQ(runningImage(v2), "demo:v2@" + testing::FakeImageVerifier::digestOf("demo:v2"));
  r = rollout();
  EXPECT_EQ(r.status.currentPodHash, v2);  // the spec's hash, not the pinned template's
  EXPECT_EQ(imageCondition(r)->status, "True");
  EXPECT_EQ(count("ImageVerified"), 2u);
  EXPECT_EQ(router.weights, (std::vector<int32_t>{0, 20}));
}

TEST_F(ImageGateControllerTest, ASpecChangeAsksAboutARefusalAgain) {
  verifier.signedImages = {"demo:v1"};
  apply(kTemplate);
  apply(rolloutYaml("demo:v1", kSteps));
  runFor(std::chrono::seconds(5));
  apply(rolloutYaml("demo:v2", kSteps));
  runFor(std::chrono::seconds(5));
  EXPECT_EQ(verifier.callsFor("demo:v2"), 1);
  // The same template under other steps: a new generation, the same revision.
  verifier.signedImages.insert("demo:v2");
  apply(rolloutYaml("demo:v2", kSteps + "      - setWeight: 80\n"));
  runFor(std::chrono::seconds(5));
  EXPECT_EQ(verifier.callsFor("demo:v2"), 2);
  EXPECT_FALSE(runningImage(hashOf("demo:v2")).empty());
}

// The poller for other processes' writes: quiet polls double the wait up to the idle bound, a
// poll that finds a change goes back to the shortest wait.
TEST(ExternalPollTest, QuietPollsBackOffAndAChangeComesBack) {
  ControllerOptions o;
  o.externalPoll = std::chrono::milliseconds(250);
  o.externalPollIdle = std::chrono::seconds(2);
  using std::chrono::milliseconds;
  const struct {
    Duration current;
    bool found;
    Duration next;
  } table[] = {
      {milliseconds(250), false, milliseconds(500)},
      {milliseconds(500), false, milliseconds(1000)},
      {milliseconds(1000), false, milliseconds(2000)},
      {milliseconds(2000), false, milliseconds(2000)},  // bounded
      {milliseconds(2000), true, milliseconds(250)},
      {milliseconds(500), true, milliseconds(250)},
      {milliseconds(250), true, milliseconds(250)},
  };
  for (const auto& row : table) {
    EXPECT_EQ(nextExternalPoll(row.current, row.found, o), row.next)
        << row.current.count() << " found=" << row.found;
  }
  // An idle bound below the poll period means no back-off.
  o.externalPollIdle = milliseconds(100);
  EXPECT_EQ(nextExternalPoll(milliseconds(250), false, o), milliseconds(250));
}

// When the caches are made again: after at least repackAfter reconciles, once none has run for
// repackQuiet; never with repackAfter 0.
TEST(RepackTest, AfterMuchWorkOnceQuiet) {
  ControllerOptions o;
  o.repackAfter = 1000;
  o.repackQuiet = std::chrono::seconds(10);
  using std::chrono::seconds;
  EXPECT_TRUE(shouldRepack(1000, seconds(10), o));
  EXPECT_TRUE(shouldRepack(50'000, seconds(600), o));
  EXPECT_FALSE(shouldRepack(999, seconds(600), o)) << "too little work to have left much";
  EXPECT_FALSE(shouldRepack(1000, seconds(9), o)) << "still busy";
  EXPECT_FALSE(shouldRepack(0, seconds(600), o));
  o.repackAfter = 0;
  EXPECT_FALSE(shouldRepack(50'000, seconds(600), o)) << "0 turns it off";
}

// The poller's call: the driver and the store repack once the reconciles of a release have been
// quiet for repackQuiet, once per burst of work.
TEST_F(ControllerTest, RepacksMemoryOnceQuietAfterAReleasesWork) {
  options.repackAfter = 3;
  options.repackQuiet = std::chrono::seconds(10);
  controller = std::make_unique<Controller>(store, registry, driver, context, options);
  controller->repackIfQuiet();
  clock.advance(std::chrono::seconds(60));
  controller->repackIfQuiet();
  EXPECT_EQ(driver.repacks, 0) << "nothing has run yet";
  apply(kTemplate);
  apply(rolloutYaml("demo:v1", kSteps));
  runFor(std::chrono::seconds(5));
  ASSERT_GE(controller->stats().rolloutReconciles, 3);
  controller->repackIfQuiet();  // sees the reconciles: quiet from now
  clock.advance(std::chrono::seconds(9));
  controller->repackIfQuiet();
  EXPECT_EQ(driver.repacks, 0) << "quiet for 9 s only";
  clock.advance(std::chrono::seconds(1));
  controller->repackIfQuiet();
  EXPECT_EQ(driver.repacks, 1);
  EXPECT_EQ(controller->stats().memoryRepacks, 1);
  clock.advance(std::chrono::seconds(60));
  controller->repackIfQuiet();
  EXPECT_EQ(driver.repacks, 1) << "no work since the last repack";
}

}  // namespace
}  // namespace ramp::controller
