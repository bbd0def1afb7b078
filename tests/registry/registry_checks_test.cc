// Registry::checkRouters / checkPlatform / claimsOf with the builtins, and claimConflicts: each
// row states the one thing that differs from a Rollout platform.process runs behind HAProxy,
// and the path and message the check must give. The base is clean, so each row fails if its
// check is removed.
#include <gtest/gtest.h>

#include <string>

#include "fakes/manifests.h"
#include "ramp/registry.h"
#include "spec/codec.h"

namespace ramp {
namespace {

const std::string kHaproxy =
    "        plugins:\n"
    "          ramp/haproxy: {runtimeApi: \"127.0.0.1:9999\", backend: be_app}\n";
const std::string kNginx =
    "        plugins: {ramp/nginx: {includePath: /etc/nginx/ramp.conf, upstream: app, "
    "pidFile: /run/nginx.pid}}\n";

// A Rollout platform.process can run behind HAProxy. `routing` replaces the trafficRouting
// block; `container` is appended to the container; `extra` to the canary strategy.
std::string manifest(const std::string& routing = kHaproxy, const std::string& container = "",
                     const std::string& extra = "") {
  return R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web, namespace: default}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: web:1
        command: [/usr/bin/true]
)" + container +
         R"(  strategy:
    canary:
      canaryService: web-canary
      stableService: web-stable
      trafficRouting:
)" + routing +
         extra;
}

spec::Rollout decode(const std::string& yaml) {
  spec::ParseOutput parsed = spec::parseDocuments(yaml, "case.yaml");
  EXPECT_FALSE(spec::hasErrors(parsed.diagnostics));
  if (parsed.documents.size() != 1) {
    ADD_FAILURE() << "manifest does not decode:\n" << yaml;
    return {};
  }
  return std::get<spec::Rollout>(parsed.documents[0].object);
}

std::string dump(const std::vector<spec::Diagnostic>& ds) {
  std::string s;
  for (const auto& d : ds) s += "  " + spec::formatDiagnostic(d) + "\n";
  return s;
}

class RegistryChecksTest : public ::testing::Test {
 protected:
  RegistryChecksTest() { registerBuiltins(registry_); }
  Registry registry_;
};

TEST_F(RegistryChecksTest, BaseRolloutRunsOnProcessAndSim) {
  spec::Rollout r = decode(manifest());
  EXPECT_TRUE(registry_.checkRollout(r, "platform.process").empty())
      << dump(registry_.checkRollout(r, "platform.process"));
  EXPECT_TRUE(registry_.checkRollout(r, "platform.sim").empty());
}

struct Case {
  const char* what;
  std::string yaml;
  const char* path;
  const char* message;  // substring
  spec::Severity severity = spec::Severity::kError;
};

// Each case is reported by checkRollout for platform.process at its path, severity and message.
template <size_t N>
void expectReported(const Registry& registry, const Case (&cases)[N]) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    spec::Rollout r = decode(c.yaml);
    auto ds = registry.checkRollout(r, "platform.process");
    bool found = false;
    for (const auto& d : ds) {
      found = found || (d.path == c.path && d.severity == c.severity &&
                        d.message.find(c.message) != std::string::npos);
    }
    EXPECT_TRUE(found) << "not reported at " << c.path << "\n" << c.yaml << "got:\n" << dump(ds);
  }
}

TEST_F(RegistryChecksTest, EachCheckReportsItsPathAndMessage) {
  const std::string routes = "        managedRoutes: [{name: r}]\n";
  const Case cases[] = {
      {"istio on a plain host", manifest("        istio: {virtualService: {name: vs}}\n"),
       "spec.strategy.canary.trafficRouting.istio",
       "istio traffic routing is not available on platform.process: no router traffic.istio"},
      {"nginx ingress on a plain host", manifest("        nginx: {stableIngress: web}\n"),
       "spec.strategy.canary.trafficRouting.nginx", "no router traffic.nginx_ingress"},
      {"alb", manifest("        alb: {ingress: web, servicePort: 80}\n"),
       "spec.strategy.canary.trafficRouting.alb", "(routers here: ramp/haproxy, ramp/nginx"},
      {"smi", manifest("        smi: {rootService: web}\n"),
       "spec.strategy.canary.trafficRouting.smi", "not available on platform.process"},
      {"another project's plugin",
       manifest("        plugins: {argoproj-labs/gatewayAPI: {httpRoute: web}}\n"),
       "spec.strategy.canary.trafficRouting.plugins[argoproj-labs/gatewayAPI]",
       "ramp runs only its own routers"},
      {"a ramp plugin nobody registered", manifest("        plugins: {ramp/envoy: {}}\n"),
       "spec.strategy.canary.trafficRouting.plugins[ramp/envoy]", "no router traffic.envoy"},
      {"haproxy config: backend required",
       manifest("        plugins: {ramp/haproxy: {runtimeApi: \"127.0.0.1:9999\"}}\n"),
       "spec.strategy.canary.trafficRouting.plugins[ramp/haproxy].backend", "required"},
      {"haproxy config: unknown field",
       manifest("        plugins: {ramp/haproxy: {frontend: demo, backend: b, runtimeApi: x:1}}\n"),
       "spec.strategy.canary.trafficRouting.plugins[ramp/haproxy].frontend", "unknown field"},
      {"nginx config: upstream required",
       manifest("        plugins: {ramp/nginx: {includePath: /etc/nginx/ramp.conf, pidFile: "
                "/run/nginx.pid}}\n"),
       "spec.strategy.canary.trafficRouting.plugins[ramp/nginx].upstream", "required"},
      {"nginx config: includePath absolute",
       manifest("        plugins: {ramp/nginx: {includePath: ramp.conf, upstream: app, pidFile: "
                "/run/nginx.pid}}\n"),
       "spec.strategy.canary.trafficRouting.plugins[ramp/nginx].includePath", "must be absolute"},
      {"header route on haproxy",
       manifest(kHaproxy + routes, "",
                "      steps:\n      - setHeaderRoute: {name: r, match: [{headerName: x, "
                "headerValue: {exact: y}}]}\n"),
       "spec.strategy.canary.steps[0].setHeaderRoute", "ramp/haproxy cannot route by header"},
      {"mirror route on nginx",
       manifest(kNginx + routes, "",
                "      steps:\n      - setMirrorRoute: {name: r, percentage: 10}\n"),
       "spec.strategy.canary.steps[0].setMirrorRoute", "ramp/nginx cannot mirror traffic"},
      {"ping-pong on haproxy",
       manifest(kHaproxy, "", "      pingPong: {pingService: ping, pongService: pong}\n"),
       "spec.strategy.canary.pingPong", "ramp/haproxy cannot alternate ping and pong"},
      {"process needs a command",
       [] {
         std::string y = manifest();
         y.erase(y.find("        command: [/usr/bin/true]\n"), 33);
         return y;
       }(),
       "spec.template.spec.containers[0].command", "required by the process platform"},
      {"process ignores resources",
       manifest(kHaproxy, "        resources: {limits: {cpu: \"1\"}}\n"),
       "spec.template.spec.containers[0].resources", "ignored by the process platform",
       spec::Severity::kWarning},
      {"process runs one container",
       manifest(kHaproxy, "      - {name: side, image: side:1, command: [/bin/true]}\n"),
       "spec.template.spec.containers[1]", "one container per replica"},
  };
  expectReported(registry_, cases);
}

TEST_F(RegistryChecksTest, ConfigProblemsDoNotDependOnThePlatform) {
  spec::Rollout r =
      decode(manifest("        plugins: {ramp/haproxy: {runtimeApi: \"127.0.0.1:9999\"}}\n"));
  auto routers = registry_.checkRouters(r);
  ASSERT_EQ(routers.size(), 1u) << dump(routers);
  EXPECT_TRUE(registry_.checkPlatform(r, "platform.process").empty());
  // Argo's keys are a platform question only.
  spec::Rollout istio = decode(manifest("        istio: {virtualService: {name: vs}}\n"));
  EXPECT_TRUE(registry_.checkRouters(istio).empty());
  EXPECT_FALSE(registry_.checkPlatform(istio, "platform.sim").empty());
}

TEST_F(RegistryChecksTest, AnUnregisteredPlatformHasNoChecksOfItsOwn) {
  std::string noCommand = manifest();
  noCommand.erase(noCommand.find("        command: [/usr/bin/true]\n"), 33);
  EXPECT_TRUE(registry_.checkPlatform(decode(noCommand), "platform.injected").empty());
  auto ds = registry_.checkPlatform(
      decode(manifest("        istio: {virtualService: {name: vs}}\n")), "platform.injected");
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].path, "spec.strategy.canary.trafficRouting.istio");
}

TEST_F(RegistryChecksTest, WorkloadRefNeedsAPlatformThatReadsIt) {
  spec::Rollout r = decode(manifest("        plugins: {ramp/sim: {}}\n"));
  r.spec.template_.reset();
  r.spec.workloadRef = spec::WorkloadRef{"apps/v1", "Deployment", "web", "onsuccess"};
  for (const char* platform : {"platform.process", "platform.sim"}) {
    SCOPED_TRACE(platform);
    auto ds = registry_.checkPlatform(r, platform);
    ASSERT_EQ(ds.size(), 1u) << dump(ds);
    EXPECT_EQ(ds[0].path, "spec.workloadRef");
    EXPECT_EQ(ds[0].message, std::string(platform) +
                                 " cannot read a pod template from a Kubernetes Deployment: "
                                 "workloadRef needs platform.kubernetes (or inline spec.template)");
  }
  EXPECT_TRUE(registry_.checkPlatform(r, "platform.kubernetes").empty())
      << dump(registry_.checkPlatform(r, "platform.kubernetes"));
}

TEST_F(RegistryChecksTest, RouterDeclaresThePlatformsItServes) {
  Registry registry;
  ASSERT_TRUE(registry.addPlatform("platform.process", [](const ExtensionContext&) {
    return makeError(ErrorCode::kUnsupported, "unused");
  }));
  ASSERT_TRUE(registry.addRouter(
      "traffic.istio",
      [](const RouterContext&, const ExtensionContext&) -> Result<traffic::TrafficRouterPtr> {
        return makeError(ErrorCode::kUnsupported, "unused");
      },
      RouterTraits{{}, {"platform.kubernetes"}}));
  auto ds = registry.checkPlatform(
      decode(manifest("        istio: {virtualService: {name: vs}}\n")), "platform.process");
  ASSERT_EQ(ds.size(), 1u) << dump(ds);
  EXPECT_EQ(ds[0].message,
            "istio traffic routing is not available on platform.process: traffic.istio routes "
            "only for platform.kubernetes (routers here: none)");
}

TEST_F(RegistryChecksTest, ClaimsNameTheBackendAndTheUpstream) {
  auto claims = registry_.claimsOf("default/web", decode(manifest()));
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims[0].claim.description, "backend be_app");
  EXPECT_EQ(claims[0].path, "spec.strategy.canary.trafficRouting.plugins[ramp/haproxy].backend");
  auto nginx = registry_.claimsOf("default/web", decode(manifest(kNginx)));
  ASSERT_EQ(nginx.size(), 2u);
  EXPECT_EQ(nginx[0].claim.description, "upstream app");
  EXPECT_EQ(nginx[1].claim.description, "include file /etc/nginx/ramp.conf");
  // A config with problems claims nothing; so does a router without claims.
  EXPECT_TRUE(
      registry_.claimsOf("default/web", decode(manifest("        plugins: {ramp/haproxy: {}}\n")))
          .empty());
  EXPECT_TRUE(
      registry_.claimsOf("default/web", decode(manifest("        plugins: {ramp/sim: {}}\n")))
          .empty());
}

const std::string kBlueGreenHaproxy =
    "plugins: {ramp/haproxy: {runtimeApi: \"127.0.0.1:9999\", backend: be_web, "
    "previewBackend: be_web_preview}}";

TEST_F(RegistryChecksTest, BlueGreenBehindHaproxyRunsAndClaimsBothBackends) {
  spec::Rollout r = decode(testing::blueGreenRollout("web", kBlueGreenHaproxy));
  EXPECT_TRUE(registry_.checkRollout(r, "platform.process").empty())
      << dump(registry_.checkRollout(r, "platform.process"));
  auto claims = registry_.claimsOf("default/web", r);
  ASSERT_EQ(claims.size(), 2u);
  EXPECT_EQ(claims[1].claim.description, "backend be_web_preview");
  EXPECT_EQ(claims[1].path,
            "spec.strategy.blueGreen.trafficRouting.plugins[ramp/haproxy].previewBackend");
}

// Where nothing would route traffic, lint and apply say so (warnings: the replicas still run).
TEST_F(RegistryChecksTest, NothingRoutesToItIsSaid) {
  const Case cases[] = {
      {"blue-green without a router", testing::blueGreenRollout("web", ""),
       "spec.strategy.blueGreen",
       "nothing routes traffic to the active or preview Service on the process platform",
       spec::Severity::kWarning},
      {"a basic canary",
       [] {
         std::string y = manifest();
         const std::string routing = "      trafficRouting:\n" + kHaproxy;
         y.erase(y.find(routing), routing.size());
         return y;
       }(),
       "spec.strategy.canary", "nothing routes traffic to this canary on the process platform",
       spec::Severity::kWarning},
      {"a preview without a destination",
       testing::blueGreenRollout(
           "web", "plugins: {ramp/haproxy: {runtimeApi: \"127.0.0.1:9999\", backend: be_app}}"),
       "spec.strategy.blueGreen.trafficRouting.plugins[ramp/haproxy]",
       "the preview (previewService web-preview) is not reachable through ramp/haproxy before "
       "promotion: set previewBackend",
       spec::Severity::kWarning},
      {"another project's plugin",
       testing::blueGreenRollout("web", "plugins: {argoproj-labs/gatewayAPI: {httpRoute: web}}"),
       "spec.strategy.blueGreen.trafficRouting.plugins[argoproj-labs/gatewayAPI]",
       "ramp runs only its own routers"},
  };
  expectReported(registry_, cases);
}

ClaimHolder holder(const std::string& key, int64_t createdMs, const std::string& resource) {
  ClaimHolder h;
  h.rolloutKey = key;
  h.createdAt = Time(Duration(createdMs));
  h.claim = {resource, "backend be_app", "backend"};
  h.path = "spec.strategy.canary.trafficRouting.plugins[ramp/haproxy].backend";
  return h;
}

TEST(ClaimConflictsTest, TheFirstCreatedOwns) {
  struct Row {
    const char* what;
    std::vector<ClaimHolder> mine;
    std::vector<ClaimHolder> others;
    std::string error;  // "" = none
  };
  const Row rows[] = {
      {"no one else", {holder("default/b", 2, "x")}, {}, ""},
      {"own claim ignored", {holder("default/b", 2, "x")}, {holder("default/b", 2, "x")}, ""},
      {"other resource", {holder("default/b", 2, "x")}, {holder("default/a", 1, "y")}, ""},
      {"older owns",
       {holder("default/b", 2, "x")},
       {holder("default/a", 1, "x")},
       "backend be_app is managed by rollout default/a"},
      {"younger does not", {holder("default/a", 1, "x")}, {holder("default/b", 2, "x")}, ""},
      {"same time: smaller key",
       {holder("default/b", 1, "x")},
       {holder("default/a", 1, "x")},
       "backend be_app is managed by rollout default/a"},
      {"the oldest of several",
       {holder("default/c", 3, "x")},
       {holder("default/b", 2, "x"), holder("default/a", 1, "x")},
       "backend be_app is managed by rollout default/a"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.what);
    auto ds = claimConflicts(row.mine, row.others);
    if (row.error.empty()) {
      EXPECT_TRUE(ds.empty()) << dump(ds);
    } else {
      ASSERT_EQ(ds.size(), 1u);
      EXPECT_EQ(ds[0].message, row.error);
      EXPECT_EQ(ds[0].path, row.mine[0].path);
    }
  }
}

}  // namespace
}  // namespace ramp
