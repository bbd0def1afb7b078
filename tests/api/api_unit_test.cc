// Unit tests of the API below HTTP: route and query decoding, tokens and roles, the shared
// request/response types, ObjectService (apply, actions, delete, events) against the memory
// store on a simulated clock, and the WatchHub's bounded fan-out.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "api/auth.h"
#include "api/metrics.h"
#include "api/object_service.h"
#include "api/request.h"
#include "api/types.h"
#include "api/watch_hub.h"
#include "common/metrics_page.h"
#include "fakes/manifests.h"
#include "fakes/simulated_clock.h"
#include "ramp/registry.h"
#include "spec/codec.h"
#include "store/memory/memory_state_store.h"

namespace ramp::api {
namespace {

using nlohmann::json;

constexpr const char* kRollout = R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: web:v1
  strategy:
    canary:
      steps:
      - setWeight: 20
      - pause: {}
      - setWeight: 60
)";

constexpr const char* kRun = R"(apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata:
  name: web-run
spec:
  metrics:
  - name: ok
    provider:
      web:
        url: http://127.0.0.1:1/x
)";

// --- routes ---

TEST(ParseRoute, DecodesEveryEndpoint) {
  struct Case {
    const char* method;
    const char* path;
    Endpoint endpoint;
    const char* ns;
    const char* name;
  };
  const Case cases[] = {
      {"POST", "/api/v1/apply", Endpoint::kApply, "", ""},
      {"GET", "/api/v1/namespaces/default/rollouts", Endpoint::kList, "default", ""},
      {"GET", "/api/v1/rollouts", Endpoint::kList, "", ""},
      {"GET", "/api/v1/namespaces/prod/rollouts/web", Endpoint::kGet, "prod", "web"},
      {"PUT", "/api/v1/namespaces/prod/rollouts/web", Endpoint::kPut, "prod", "web"},
      {"DELETE", "/api/v1/namespaces/prod/analysisruns/r1", Endpoint::kDelete, "prod", "r1"},
      {"POST", "/api/v1/namespaces/prod/rollouts/web/promote", Endpoint::kAction, "prod", "web"},
      {"POST", "/api/v1/namespaces/prod/analysisruns/r/terminate", Endpoint::kAction, "prod", "r"},
      {"GET", "/api/v1/namespaces/prod/rollouts/web/revisions", Endpoint::kRevisions, "prod",
       "web"},
      {"GET", "/api/v1/namespaces/prod/rollouts/web/replicas", Endpoint::kReplicas, "prod", "web"},
      {"GET", "/api/v1/namespaces/prod/rollouts/web/logs", Endpoint::kLogs, "prod", "web"},
      {"GET", "/api/v1/clusteranalysistemplates/t", Endpoint::kGet, "", "t"},
      {"GET", "/api/v1/watch", Endpoint::kWatch, "", ""},
      {"GET", "/api/v1/events", Endpoint::kEvents, "", ""},
      {"GET", "/metrics", Endpoint::kMetrics, "", ""},
      {"GET", "/healthz", Endpoint::kHealthz, "", ""},
      {"GET", "/readyz", Endpoint::kReadyz, "", ""},
  };
  for (const Case& c : cases) {
    auto r = parseRoute(c.method, c.path);
    ASSERT_TRUE(r) << c.path << ": " << r.error().message;
    EXPECT_EQ(r->endpoint, c.endpoint) << c.path;
    EXPECT_EQ(r->namespace_, c.ns) << c.path;
    EXPECT_EQ(r->name, c.name) << c.path;
  }
}

TEST(ParseRoute, RejectsWhatIsNotAnEndpoint) {
  struct Case {
    const char* method;
    const char* path;
    ErrorCode code;
  };
  const Case cases[] = {
      {"GET", "/api/v2/rollouts", ErrorCode::kNotFound},
      {"GET", "/api/v1/namespaces/default/widgets", ErrorCode::kNotFound},
      {"GET", "/api/v1/rollouts/web", ErrorCode::kNotFound},  // namespaced kind without ns
      {"GET", "/api/v1/namespaces/default/clusteranalysistemplates/t", ErrorCode::kNotFound},
      {"GET", "/api/v1/namespaces/Default/rollouts", ErrorCode::kInvalidArgument},
      {"GET", "/api/v1/namespaces/default/rollouts/Web_1", ErrorCode::kInvalidArgument},
      {"POST", "/api/v1/namespaces/default/rollouts/web/terminate", ErrorCode::kInvalidArgument},
      {"POST", "/api/v1/namespaces/default/analysisruns/r/promote", ErrorCode::kInvalidArgument},
      {"POST", "/api/v1/namespaces/default/rollouts/web/explode", ErrorCode::kNotFound},
      {"GET", "/api/v1/namespaces/default/rollouts/web/promote", ErrorCode::kUnsupported},
      {"POST", "/api/v1/namespaces/default/rollouts", ErrorCode::kUnsupported},
      {"GET", "/api/v1/apply", ErrorCode::kUnsupported},
      {"DELETE", "/metrics", ErrorCode::kUnsupported},
      {"POST", "/api/v1/namespaces/default/rollouts/web/logs", ErrorCode::kUnsupported},
      {"GET", "/api/v1/namespaces/default/analysisruns/r/replicas", ErrorCode::kNotFound},
      {"GET", "/api/v1/namespaces/default/rollouts/web/logs/x", ErrorCode::kNotFound},
  };
  for (const Case& c : cases) {
    auto r = parseRoute(c.method, c.path);
    ASSERT_FALSE(r) << c.method << " " << c.path;
    EXPECT_EQ(r.error().code, c.code) << c.method << " " << c.path << ": " << r.error().message;
  }
}

TEST(ParseRoute, RolesFollowTheEndpoint) {
  auto role = [](const char* m, const char* p) { return requiredRole(*parseRoute(m, p)); };
  EXPECT_EQ(role("GET", "/healthz"), std::nullopt);
  EXPECT_EQ(role("GET", "/readyz"), std::nullopt);
  EXPECT_EQ(role("GET", "/metrics"), Role::kViewer);
  EXPECT_EQ(role("GET", "/api/v1/watch"), Role::kViewer);
  EXPECT_EQ(role("GET", "/api/v1/namespaces/d/rollouts/x"), Role::kViewer);
  EXPECT_EQ(role("GET", "/api/v1/namespaces/d/rollouts/x/replicas"), Role::kViewer);
  EXPECT_EQ(role("GET", "/api/v1/namespaces/d/rollouts/x/logs"), Role::kViewer);
  EXPECT_EQ(role("POST", "/api/v1/namespaces/d/rollouts/x/promote"), Role::kOperator);
  EXPECT_EQ(role("POST", "/api/v1/apply"), Role::kAdmin);
  EXPECT_EQ(role("DELETE", "/api/v1/namespaces/d/rollouts/x"), Role::kAdmin);
  EXPECT_EQ(role("GET", "/api/v1/audit/records"), Role::kAuditor);
  EXPECT_EQ(role("GET", "/api/v1/audit/checkpoints"), Role::kAuditor);
  EXPECT_EQ(role("GET", "/api/v1/audit/key"), Role::kAuditor);
  EXPECT_EQ(parseRoute("GET", "/api/v1/audit/bogus").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(parseRoute("POST", "/api/v1/audit/records").error().code, ErrorCode::kUnsupported);
}

// An auditor reads everything a viewer does and the audit log, and acts on nothing.
TEST(Auth, AuditorsReadButCannotAct) {
  Identity auditor{"ada", *parseRole("auditor")};
  EXPECT_STREQ(roleName(auditor.role), "auditor");
  EXPECT_TRUE(authorize(auditor, Role::kViewer, "get"));
  EXPECT_TRUE(authorize(auditor, Role::kAuditor, "reading the audit log"));
  EXPECT_FALSE(authorize(auditor, Role::kOperator, "promote"));
  EXPECT_FALSE(authorize(auditor, Role::kAdmin, "apply"));
  EXPECT_FALSE(authorize(Identity{"vic", Role::kViewer}, Role::kAuditor, "reading the audit log"));
  EXPECT_TRUE(authorize(Identity{"olga", Role::kOperator}, Role::kAuditor, "audit"));
}

TEST(Query, AuditRecords) {
  auto all = parseAuditRecordsQuery({});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->from, 0);
  EXPECT_EQ(all->limit, 1000);
  EXPECT_FALSE(all->object);
  auto one = parseAuditRecordsQuery(parseQueryString("from=5&limit=10&name=web"));
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ(one->from, 5);
  EXPECT_EQ(one->object, (store::ObjectKey{"Rollout", "default", "web"}));
  EXPECT_FALSE(parseAuditRecordsQuery(parseQueryString("limit=0")));
  EXPECT_FALSE(parseAuditRecordsQuery(parseQueryString("from=-1")));
  EXPECT_FALSE(parseAuditRecordsQuery(parseQueryString("kind=widget&name=x")));
  EXPECT_FALSE(parseAuditRecordsQuery(parseQueryString("sinceId=1")));
}

TEST(Types, AuditRowsRoundTrip) {
  AuditRecordsView view;
  view.size = 9;
  view.records.push_back({3,
                          17,
                          Time(Duration(1'767'225'600'123)),
                          {"Rollout", "shop", "web"},
                          "ab12",
                          R"({"payloadType":"x"})"});
  auto back = decodeAuditRecords(encodeAuditRecords(view));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->size, 9);
  ASSERT_EQ(back->records.size(), 1u);
  const store::AuditRecord& r = back->records[0];
  EXPECT_EQ(r.index, 3);
  EXPECT_EQ(r.eventId, 17);
  EXPECT_EQ(r.time, view.records[0].time);
  EXPECT_EQ(r.object, view.records[0].object);
  EXPECT_EQ(r.leafHash, "ab12");
  EXPECT_EQ(r.entry, view.records[0].entry);
  std::vector<store::AuditCheckpoint> cps = {{4, "cd34", "note\n", Time(Duration(1'000))}};
  auto cpsBack = decodeAuditCheckpoints(encodeAuditCheckpoints(cps));
  ASSERT_TRUE(cpsBack);
  EXPECT_EQ((*cpsBack)[0].note, "note\n");
  EXPECT_EQ((*cpsBack)[0].size, 4);
  EXPECT_EQ(decodeAuditKey(encodeAuditKey({"PEM"}))->publicKey, "PEM");
  EXPECT_FALSE(decodeAuditRecords("[]"));
}

TEST(Query, WatchAndEvents) {
  auto q =
      parseWatchQuery(parseQueryString("kind=ro&namespace=prod&name=web&resourceVersion=7"), "");
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->resource->kind, spec::Kind::kRollout);
  EXPECT_EQ(q->from, (WatchCursor{7, -1}));
  auto resumed = parseWatchQuery(parseQueryString("resourceVersion=7"), "9.4");
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->from, (WatchCursor{9, 4}));  // Last-Event-ID wins
  EXPECT_FALSE(parseWatchQuery(parseQueryString("resourceVersion=-1"), ""));
  EXPECT_FALSE(parseWatchQuery(parseQueryString("name=web"), ""));  // name needs kind
  EXPECT_FALSE(parseWatchQuery(parseQueryString("bogus=1"), ""));
  EXPECT_FALSE(parseWatchQuery({}, "1.x"));
  auto e = parseEventsQuery(parseQueryString("kind=Rollout&name=web&tail=5"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, "Rollout");
  EXPECT_EQ(e->tail, 5);
  EXPECT_FALSE(parseEventsQuery(parseQueryString("limit=0")));
  EXPECT_FALSE(parseEventsQuery(parseQueryString("limit=5000")));
  EXPECT_EQ(parseQueryString("a=x%20y+z&b").find("a")->second, "x y z");
}

// --- auth ---

TEST(Auth, TokensFileAndOutcomes) {
  auto a = Authenticator::fromText(
      "# comment\nadmin-token-0123456789,alice,admin\n\n"
      "viewer-token-0123456789, bob , viewer  # trailing comment\n",
      "tokens.csv");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->size(), 2u);
  auto alice = a->authenticate("Bearer admin-token-0123456789");
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(alice->role, Role::kAdmin);
  auto bob = a->authenticate("bearer viewer-token-0123456789");
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->name, "bob");
  for (const char* bad : {"", "Bearer ", "Basic YWxpY2U6eA==", "Bearer wrong-token-0123456789",
                          "admin-token-0123456789"}) {
    auto r = a->authenticate(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(r.error().message.find("token-0123456789"), std::string::npos);
  }
  EXPECT_TRUE(authorize(*bob, Role::kViewer, "get"));
  auto denied = authorize(*bob, Role::kOperator, "promote");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(denied.error().message.find("operator"), std::string::npos);
}

TEST(Auth, MalformedTokensFilesNameTheLine) {
  struct Case {
    const char* text;
    const char* expect;
  };
  const Case cases[] = {
      {"only-two-fields-0123456789,alice\n", "tokens.csv:1:"},
      {"\nshort,alice,admin\n", "tokens.csv:2: token is too short"},
      {"long-enough-token-0123,alice,root\n", "unknown role"},
      {"long-enough-token-0123,,admin\n", "name is empty"},
      {"long-enough-token-0123,a,admin\nlong-enough-token-0123,b,viewer\n", "appears twice"},
      {"# nothing\n", "no tokens"},
  };
  for (const Case& c : cases) {
    auto a = Authenticator::fromText(c.text, "tokens.csv");
    ASSERT_FALSE(a) << c.text;
    EXPECT_NE(a.error().message.find(c.expect), std::string::npos) << a.error().message;
    EXPECT_EQ(a.error().message.find("long-enough-token"), std::string::npos);
  }
}

TEST(Auth, EveryMalformedLineIsReportedAtOnce) {
  auto a = Authenticator::fromText(
      "only-two-fields-0123456789,alice\n"
      "good-token-0123456789,carol,admin\n"
      "short,bob,admin\n"
      "\n"
      "long-enough-token-0123,dave,root\n",
      "tokens.csv");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().message,
            "tokens.csv:1: expected TOKEN,NAME,ROLE (three comma-separated fields)\n"
            "tokens.csv:3: token is too short (at least 16 characters)\n"
            "tokens.csv:5: unknown role \"root\" (viewer, operator or admin)");
}

TEST(Auth, TokensFileReadableByOthersIsWarnedAbout) {
  struct Case {
    unsigned mode;
    const char* expect;  // "" = no warning
  };
  const Case cases[] = {
      {0100600, ""},
      {0100400, ""},
      {0100640, "(mode 0640) can be read by its group: chmod 600 /etc/ramp/tokens"},
      {0100604, "(mode 0604) can be read by other users: chmod 600 /etc/ramp/tokens"},
      {0100644, "(mode 0644) can be read by its group and other users"},
      {0100620, "(mode 0620) can be read by its group"},
  };
  for (const Case& c : cases) {
    std::string w = tokensFileModeWarning("/etc/ramp/tokens", c.mode);
    if (std::string(c.expect).empty()) {
      EXPECT_EQ(w, "") << std::oct << c.mode;
    } else {
      EXPECT_NE(w.find(c.expect), std::string::npos) << w;
      EXPECT_EQ(w.rfind("warning: tokens file /etc/ramp/tokens", 0), 0u) << w;
    }
  }
}

TEST(Auth, DisabledIsLocalAdmin) {
  auto who = Authenticator::disabled().authenticate("");
  ASSERT_TRUE(who);
  EXPECT_EQ(who->role, Role::kAdmin);
}

// --- types ---

TEST(Types, ActionRequestRoundTripAndStrictness) {
  ActionRequest r{true, 3, "web", "web:v2"};
  auto back = decodeActionRequest(encodeActionRequest(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, r);
  EXPECT_TRUE(decodeActionRequest(""));
  EXPECT_TRUE(decodeActionRequest(" \n"));
  EXPECT_FALSE(decodeActionRequest("{\"ful\":true}"));
  EXPECT_FALSE(decodeActionRequest("{\"full\":\"yes\"}"));
  EXPECT_FALSE(decodeActionRequest("{\"toRevision\":0}"));
  ActionRequest rollback;
  rollback.id = 4;
  rollback.noGit = true;
  rollback.prune = true;
  rollback.reason = "5xx after the release";
  EXPECT_EQ(*decodeActionRequest(encodeActionRequest(rollback)), rollback);
  EXPECT_FALSE(decodeActionRequest("{\"id\":0}"));
  EXPECT_FALSE(decodeActionRequest("{\"noGit\":\"yes\"}"));
  EXPECT_FALSE(decodeActionRequest("[1]"));
  EXPECT_FALSE(decodeActionRequest("{"));
}

TEST(Types, CursorAndResourceVersion) {
  EXPECT_EQ(formatCursor({12, 5}), "12.5");
  EXPECT_EQ(*parseCursor("12.5"), (WatchCursor{12, 5}));
  EXPECT_FALSE(parseCursor("12."));
  EXPECT_FALSE(parseCursor(".5"));
  EXPECT_FALSE(parseCursor("99999999999999999999"));
  json j = json::parse(withResourceVersion(R"({"metadata":{"name":"x"}})", 42));
  EXPECT_EQ(j["metadata"]["resourceVersion"], "42");
  // The textual fast path (the store's own layout) and the parser agree.
  for (
      const char* text :
      {R"({"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout","metadata":{"name":"x"},"spec":{}})",
       R"({"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout","metadata":{},"spec":{}})",
       R"({"apiVersion":"a","kind":"K","metadata":{"name":"x","resourceVersion":"3"}})",
       R"({"apiVersion":"a\"","kind":"K","metadata":{"name":"x"}})"}) {
    json fast = json::parse(withResourceVersion(text, 9));
    json slow = json::parse(text);
    slow["metadata"]["resourceVersion"] = "9";
    EXPECT_EQ(fast, slow) << text;
  }
  EXPECT_EQ(httpStatusFor(ErrorCode::kConflict), 409);
  EXPECT_EQ(httpStatusFor(ErrorCode::kFailedPrecondition), 422);
}

// --- ObjectService ---

class ServiceTest : public ::testing::Test {
 protected:
  store::MemoryStateStore store_;
  testing::SimulatedClock clock_;
  ObjectService service_{store_, clock_};
  Identity alice_{"alice", Role::kAdmin};

  Route route(const char* method, const std::string& path) { return *parseRoute(method, path); }

  json getJson(const std::string& path) {
    ApiReply r = service_.get(route("GET", path));
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }

  std::vector<store::Event> events() { return *store_.listEvents({std::nullopt, 0, 1000}); }

  // Writes a status into the stored rollout as the controller would (CAS).
  void setStatus(const std::function<void(spec::Rollout&)>& f) {
    store::ObjectKey key{"Rollout", "default", "web"};
    auto obj = store_.get(key);
    ASSERT_TRUE(obj);
    auto r = spec::rolloutFromJson(obj->json);
    ASSERT_TRUE(r.value);
    f(*r.value);
    ASSERT_TRUE(store_.put(key, spec::toJson(*r.value), obj->version));
  }
};

constexpr const char* kWebPath = "/api/v1/namespaces/default/rollouts/web";

TEST_F(ServiceTest, ApplyCreatesThenIsIdempotent) {
  ApiReply created = service_.apply(alice_, kRollout);
  ASSERT_EQ(created.status, 201) << created.body;
  auto resp = decodeApplyResponse(created.body);
  ASSERT_TRUE(resp);
  ASSERT_EQ(resp->objects.size(), 1u);
  EXPECT_EQ(resp->objects[0].result, "created");
  json obj = getJson(kWebPath);
  EXPECT_EQ(obj["metadata"]["generation"], 1);
  EXPECT_FALSE(obj["metadata"]["uid"].get<std::string>().empty());
  EXPECT_EQ(obj["metadata"]["resourceVersion"], std::to_string(resp->objects[0].resourceVersion));
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].reason, "SpecApplied");
  EXPECT_EQ(ev[0].actor, "alice");

  int64_t rev = *store_.currentRevision();
  ApiReply again = service_.apply(alice_, kRollout);
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(decodeApplyResponse(again.body)->objects[0].result, "unchanged");
  EXPECT_EQ(*store_.currentRevision(), rev);  // nothing written
  EXPECT_EQ(events().size(), 1u);
}

TEST_F(ServiceTest, UpdateKeepsStatusAndBumpsGeneration) {
  ASSERT_EQ(service_.apply(alice_, kRollout).status, 201);
  setStatus([](spec::Rollout& r) {
    r.status.currentStepIndex = 1;
    r.status.stableRS = "abc";
    r.status.phase = spec::RolloutPhase::kPaused;
  });
  std::string v2 = kRollout;
  v2.replace(v2.find("web:v1"), 6, "web:v2");
  ApiReply r = service_.apply(alice_, v2);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(decodeApplyResponse(r.body)->objects[0].result, "configured");
  json obj = getJson(kWebPath);
  EXPECT_EQ(obj["metadata"]["generation"], 2);
  EXPECT_EQ(obj["status"]["currentStepIndex"], 1);
  EXPECT_EQ(obj["status"]["stableRS"], "abc");
  EXPECT_EQ(obj["spec"]["template"]["spec"]["containers"][0]["image"], "web:v2");
}

TEST_F(ServiceTest, StaleResourceVersionIsAConflictAndChangesNothing) {
  ASSERT_EQ(service_.apply(alice_, kRollout).status, 201);
  std::string stale = kRollout;
  stale.replace(stale.find("  name: web\n"), 12, "  name: web\n  resourceVersion: \"999\"\n");
  stale.replace(stale.find("web:v1"), 6, "web:v9");
  int64_t rev = *store_.currentRevision();
  ApiReply r = service_.apply(alice_, stale);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(decodeError(r.body)->reason, "conflict");
  EXPECT_EQ(*store_.currentRevision(), rev);
}

TEST_F(ServiceTest, InvalidManifestIs400WithLintErrorsAndNothingApplied) {
  std::string bad = std::string(kRun) + "---\n" + kRollout;
  bad.replace(bad.find("setWeight: 20"), 13, "setWeight: 120");
  ApiReply r = service_.apply(alice_, bad);
  ASSERT_EQ(r.status, 400) << r.body;
  auto e = decodeError(r.body);
  ASSERT_TRUE(e);
  ASSERT_FALSE(e->diagnostics.empty());
  EXPECT_EQ(e->diagnostics[0].path, "spec.strategy.canary.steps[0].setWeight");
  EXPECT_GT(e->diagnostics[0].line, 0);
  EXPECT_EQ(*store_.currentRevision(), 0);  // the valid AnalysisRun was not applied either
  EXPECT_EQ(service_.apply(alice_, "a: [").status, 400);
  EXPECT_EQ(service_.apply(alice_, "kind: Service\napiVersion: v1\n").status, 400);
}

TEST_F(ServiceTest, SkippedDocumentsAreListed) {
  std::string body =
      std::string("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n---\n") + kRun;
  ApiReply r = service_.apply(alice_, body);
  ASSERT_EQ(r.status, 201) << r.body;
  auto resp = decodeApplyResponse(r.body);
  ASSERT_TRUE(resp);
  ASSERT_EQ(resp->warnings.size(), 1u);
  EXPECT_EQ(resp->warnings[0],
            "request body:1:1: note: Service \"web\" is not a kind ramp manages: skipped");
  // Nothing to apply: the 400 still says what was skipped.
  r = service_.apply(alice_, "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n");
  ASSERT_EQ(r.status, 400);
  auto e = decodeError(r.body);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->diagnostics.size(), 1u);
  EXPECT_NE(e->diagnostics[0].message.find("skipped"), std::string::npos);
}

// Apply with the daemon's extensions (what `ramp serve --platform platform.process` wires).
class RunCheckTest : public ServiceTest {
 protected:
  RunCheckTest() { registerBuiltins(registry_); }
  Registry registry_;
  ObjectService checked_{store_, clock_, nullptr, RunChecks{&registry_, "platform.process"}};

  static std::string routed(const std::string& name, const std::string& routing) {
    return testing::routedRollout(name, routing);
  }
  static constexpr const char* kBackend =
      "plugins: {ramp/haproxy: {runtimeApi: \"127.0.0.1:9999\", backend: be_app}}";
};

TEST_F(RunCheckTest, WhatThePlatformCannotRunIsRefusedWithTheField) {
  struct Case {
    const char* what;
    std::string body;
    const char* path;
    const char* message;
  };
  std::string noCommand = routed("web", kBackend);
  noCommand.replace(noCommand.find(", command: [/usr/bin/true]"), 26, "");
  const Case cases[] = {
      {"istio on a plain host", routed("web", "istio: {virtualService: {name: vs}}"),
       "spec.strategy.canary.trafficRouting.istio",
       "istio traffic routing is not available on platform.process"},
      {"a bad ramp/haproxy config", routed("web", "plugins: {ramp/haproxy: {backend: be_app}}"),
       "spec.strategy.canary.trafficRouting.plugins[ramp/haproxy].runtimeApi", "required"},
      {"no command on platform.process", noCommand, "spec.template.spec.containers[0].command",
       "required by the process platform"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    // Every document is checked before any is written: the valid run goes in with it or not.
    ApiReply r = checked_.apply(alice_, std::string(kRun) + "---\n" + c.body);
    ASSERT_EQ(r.status, 400) << r.body;
    auto e = decodeError(r.body);
    ASSERT_TRUE(e);
    ASSERT_EQ(e->diagnostics.size(), 1u) << r.body;
    EXPECT_EQ(e->diagnostics[0].path, c.path);
    EXPECT_NE(e->diagnostics[0].message.find(c.message), std::string::npos) << r.body;
    EXPECT_GT(e->diagnostics[0].line, 10);
    EXPECT_EQ(*store_.currentRevision(), 0);
  }
  ApiReply ok = checked_.apply(alice_, routed("web", kBackend));
  EXPECT_EQ(ok.status, 201) << ok.body;
}

// A Rollout nothing would route traffic to on platform.process is applied, and the answer
// says so (a warning at the strategy), rather than silently.
TEST_F(RunCheckTest, NothingRoutesToItIsAWarningAtApply) {
  ApiReply r = checked_.apply(alice_, testing::blueGreenRollout("bg", ""));
  ASSERT_EQ(r.status, 201) << r.body;
  auto resp = decodeApplyResponse(r.body);
  ASSERT_TRUE(resp);
  ASSERT_EQ(resp->warnings.size(), 1u) << r.body;
  EXPECT_NE(resp->warnings[0].find("spec.strategy.blueGreen: nothing routes traffic to the active "
                                   "or preview Service on the process platform"),
            std::string::npos)
      << resp->warnings[0];
}

TEST_F(RunCheckTest, ABackendHasOneRollout) {
  ASSERT_EQ(checked_.apply(alice_, routed("web", kBackend)).status, 201);
  clock_.advance(std::chrono::seconds(1));
  ApiReply r = checked_.apply(alice_, routed("shop", kBackend));
  ASSERT_EQ(r.status, 400) << r.body;
  auto e = decodeError(r.body);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->diagnostics.size(), 1u) << r.body;
  EXPECT_EQ(e->diagnostics[0].path,
            "spec.strategy.canary.trafficRouting.plugins[ramp/haproxy].backend");
  EXPECT_EQ(e->diagnostics[0].message, "backend be_app is managed by rollout default/web");
  // The owner may re-apply itself; another backend is free; two in one body collide too.
  EXPECT_EQ(checked_.apply(alice_, routed("web", kBackend)).status, 200);
  std::string other = kBackend;
  other.replace(other.find("be_app"), 6, "be_shop");
  EXPECT_EQ(checked_.apply(alice_, routed("shop", other)).status, 201);
  ApiReply both = checked_.apply(
      alice_, routed("a",
                     "plugins: {ramp/nginx: {includePath: /etc/nginx/r.conf, upstream: app, "
                     "pidFile: /run/nginx.pid}}") +
                  "---\n" +
                  routed("b",
                         "plugins: {ramp/nginx: {includePath: /etc/nginx/r2.conf, upstream: "
                         "app, pidFile: /run/nginx.pid}}"));
  ASSERT_EQ(both.status, 400) << both.body;
  EXPECT_NE(both.body.find("upstream app is managed by rollout default/a"), std::string::npos)
      << both.body;
  // Once the owner is gone the backend is free.
  ASSERT_EQ(checked_.remove(alice_, route("DELETE", kWebPath), std::nullopt).status, 200);
  EXPECT_EQ(checked_.apply(alice_, routed("other", kBackend)).status, 201);
}

TEST_F(ServiceTest, PutMustMatchThePath) {
  ApiReply r =
      service_.put(alice_, route("PUT", "/api/v1/namespaces/default/rollouts/other"), kRollout);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(service_.put(alice_, route("PUT", kWebPath), kRollout).status, 201);
}

TEST_F(ServiceTest, ActionsWriteIntentWithAnEvent) {
  ASSERT_EQ(service_.apply(alice_, kRollout).status, 201);
  Identity op{"olga", Role::kOperator};
  ApiReply p = service_.action(op, route("POST", std::string(kWebPath) + "/promote"), "");
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(getJson(kWebPath)["status"]["currentStepIndex"], 1);
  auto ev = events();
  EXPECT_EQ(ev.back().reason, "RolloutPromoted");
  EXPECT_EQ(ev.back().actor, "olga");

  ASSERT_EQ(service_.action(op, route("POST", std::string(kWebPath) + "/pause"), "").status, 200);
  EXPECT_EQ(getJson(kWebPath)["spec"]["paused"], true);
  EXPECT_EQ(getJson(kWebPath)["metadata"]["generation"], 2);
  // Pausing again succeeds and writes nothing (Argo's pause is a patch): no new event.
  const size_t eventsBefore = events().size();
  ApiReply again = service_.action(op, route("POST", std::string(kWebPath) + "/pause"), "");
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_NE(again.body.find("unchanged"), std::string::npos) << again.body;
  EXPECT_EQ(events().size(), eventsBefore);
  EXPECT_EQ(getJson(kWebPath)["metadata"]["generation"], 2);
  ASSERT_EQ(service_.action(op, route("POST", std::string(kWebPath) + "/resume"), "").status, 200);

  ApiReply img = service_.action(op, route("POST", std::string(kWebPath) + "/set-image"),
                                 R"({"container":"web","image":"web:v2"})");
  ASSERT_EQ(img.status, 200) << img.body;
  EXPECT_EQ(getJson(kWebPath)["spec"]["template"]["spec"]["containers"][0]["image"], "web:v2");
  EXPECT_EQ(service_
                .action(op, route("POST", std::string(kWebPath) + "/set-image"),
                        R"({"container":"nope","image":"x"})")
                .status,
            422);
  EXPECT_EQ(service_.action(op, route("POST", std::string(kWebPath) + "/set-image"), "{}").status,
            400);

  // No update in progress: abort does not apply, and nothing changes.
  int64_t rev = *store_.currentRevision();
  ApiReply a = service_.action(op, route("POST", std::string(kWebPath) + "/abort"), "");
  EXPECT_EQ(a.status, 422) << a.body;
  EXPECT_EQ(*store_.currentRevision(), rev);

  setStatus([](spec::Rollout& r) {
    r.status.stableRS = "old";
    r.status.currentPodHash = "new";
  });
  ASSERT_EQ(service_.action(op, route("POST", std::string(kWebPath) + "/abort"), "").status, 200);
  EXPECT_EQ(getJson(kWebPath)["status"]["abort"], true);
  ASSERT_EQ(service_.action(op, route("POST", std::string(kWebPath) + "/retry"), "").status, 200);
  ASSERT_EQ(service_.action(op, route("POST", std::string(kWebPath) + "/restart"), "").status, 200);
  EXPECT_TRUE(getJson(kWebPath)["spec"].contains("restartAt"));
  ASSERT_EQ(
      service_.action(op, route("POST", std::string(kWebPath) + "/promote"), R"({"full":true})")
          .status,
      200);
  EXPECT_EQ(getJson(kWebPath)["status"]["promoteFull"], true);
  // Undo needs the platform's revision history.
  EXPECT_EQ(service_.action(op, route("POST", std::string(kWebPath) + "/undo"), "").status, 501);
  EXPECT_EQ(service_.action(op, route("POST", "/api/v1/namespaces/default/rollouts/nope/pause"), "")
                .status,
            404);
}

TEST_F(ServiceTest, TerminateAnalysisRun) {
  ASSERT_EQ(service_.apply(alice_, kRun).status, 201);
  std::string path = "/api/v1/namespaces/default/analysisruns/web-run";
  ApiReply t = service_.action(alice_, route("POST", path + "/terminate"), "");
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(getJson(path)["spec"]["terminate"], true);
  int64_t rev = *store_.currentRevision();
  EXPECT_EQ(service_.action(alice_, route("POST", path + "/terminate"), "").status, 200);
  EXPECT_EQ(*store_.currentRevision(), rev);  // already terminating: no write
}

TEST_F(ServiceTest, DeleteAndList) {
  ASSERT_EQ(service_.apply(alice_, kRollout).status, 201);
  ApiReply list = service_.list(route("GET", "/api/v1/rollouts"));
  auto l = decodeObjectList(list.body);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->kind, "RolloutList");
  ASSERT_EQ(l->items.size(), 1u);
  int64_t v =
      *parseNonNegative(json::parse(l->items[0])["metadata"]["resourceVersion"].get<std::string>());
  EXPECT_EQ(service_.remove(alice_, route("DELETE", kWebPath), v + 1).status, 409);
  ApiReply d = service_.remove(alice_, route("DELETE", kWebPath), v);
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(service_.get(route("GET", kWebPath)).status, 404);
  EXPECT_EQ(service_.remove(alice_, route("DELETE", kWebPath), std::nullopt).status, 404);
  EXPECT_EQ(events().back().reason, "ObjectDeleted");
}

TEST_F(ServiceTest, EventsTail) {
  ASSERT_EQ(service_.apply(alice_, kRollout).status, 201);
  for (const char* a : {"pause", "resume", "pause", "resume"}) {
    ASSERT_EQ(service_.action(alice_, route("POST", std::string(kWebPath) + "/" + a), "").status,
              200);
  }
  EventsQuery q;
  q.kind = "Rollout";
  q.namespace_ = "default";
  q.name = "web";
  q.tail = 2;
  auto got = decodeEvents(service_.events(q).body);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].reason, "RolloutPaused");
  EXPECT_EQ((*got)[1].reason, "RolloutResumed");
}

// --- replicas and logs ---

TEST(Query, Logs) {
  struct Case {
    const char* query;
    std::optional<LogsQuery> want;  // nullopt: kInvalidArgument
  };
  const Case cases[] = {
      {"replica=web-abc-0", LogsQuery{"web-abc-0", 0, 65536}},
      {"replica=web-abc-0&offset=120&limit=10", LogsQuery{"web-abc-0", 120, 10}},
      {"replica=web-abc-0&offset=-4096", LogsQuery{"web-abc-0", -4096, 65536}},
      {"replica=web-abc-0&limit=1048576", LogsQuery{"web-abc-0", 0, 1048576}},
      {"", std::nullopt},                   // replica is required
      {"replica=", std::nullopt},           // and not empty
      {"replica=a&limit=0", std::nullopt},  // limit 1..1 MiB
      {"replica=a&limit=1048577", std::nullopt},
      {"replica=a&offset=x", std::nullopt},
      {"replica=a&offset=--1", std::nullopt},
      {"replica=a&offset=-", std::nullopt},
      {"replica=a&follow=true", std::nullopt},  // unknown parameter
  };
  for (const Case& c : cases) {
    auto q = parseLogsQuery(parseQueryString(c.query));
    if (c.want) {
      ASSERT_TRUE(q) << c.query << ": " << q.error().message;
      EXPECT_EQ(*q, *c.want) << c.query;
    } else {
      ASSERT_FALSE(q) << c.query;
      EXPECT_EQ(q.error().code, ErrorCode::kInvalidArgument) << c.query;
    }
  }
}

TEST(Query, LogsRoundTripThroughTheClientsEncoding) {
  for (const LogsQuery& q : {LogsQuery{"web-abc-0", 0, 65536}, LogsQuery{"web-abc-1", -4096, 1},
                             LogsQuery{"odd name&x=1/é", 17, 1048576}}) {
    std::string text = encodeLogsQuery(q);
    auto back = parseLogsQuery(parseQueryString(text));
    ASSERT_TRUE(back) << text << ": " << back.error().message;
    EXPECT_EQ(*back, q) << text;
  }
}

TEST(Types, ReplicasAndLogChunksRoundTrip) {
  std::vector<ReplicaView> replicas = {
      {"web-abc-0", "abc", 0, "Running", true, 0, "", "", Time(Duration(1700000000123))},
      {"web-abc-1", "abc", 1, "CrashLoopBackOff", false, 4, "exit 3", "pid 9 exited", {}},
  };
  auto back = decodeReplicas(encodeReplicas(replicas));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, replicas);
  EXPECT_FALSE(decodeReplicas(R"({"items":[{"restarts":"many"}]})"));
  EXPECT_FALSE(decodeReplicas(R"({"items":[{"startedAt":"yesterday"}]})"));
  EXPECT_FALSE(decodeReplicas(R"({"kind":"ReplicaList"})"));

  LogChunkView chunk{"web-abc-0", "line 1\nline \xc3\xa9\n", 10, 26};
  auto c = decodeLogChunk(encodeLogChunk(chunk));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(*c, chunk);
  // Bytes that are not UTF-8 become U+FFFD rather than breaking the JSON.
  auto bad = decodeLogChunk(encodeLogChunk({"r", "a\xff", 0, 2}));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->text, "a\xef\xbf\xbd");
  EXPECT_FALSE(decodeLogChunk(R"({"text":"x"})")) << "nextOffset is needed to read on";
}

TEST(Types, CompleteUtf8Prefix) {
  struct Case {
    std::string text;
    size_t want;
  };
  const Case cases[] = {
      {"", 0},
      {"abc", 3},
      {"\xc3\xa9", 2},              // é whole
      {"a\xc3", 1},                 // é cut after its lead byte
      {"a\xe2\x82", 1},             // € cut after two of three bytes
      {"a\xe2\x82\xac", 4},         // € whole
      {"a\xf0\x9f\x98", 1},         // an emoji cut after three of four bytes
      {"a\xf0\x9f\x98\x80", 5},     // whole
      {"\x80\x80\x80\x80\x80", 5},  // not UTF-8: kept as is
      {"a\xff", 2},                 // not a lead byte: kept
  };
  for (const Case& c : cases) EXPECT_EQ(completeUtf8Prefix(c.text), c.want) << c.text;
}

// A platform as the API sees it: the replicas and logs of one rollout, and what it was asked.
struct FakePlatform {
  std::vector<platform::ObservedReplica> replicas;
  std::map<std::string, std::string> logs;  // replica name -> log
  std::string askedKey;
  Result<std::vector<platform::ObservedReplica>> observe(const std::string& key) {
    askedKey = key;
    return replicas;
  }
  Result<platform::LogChunk> read(const std::string& key, const std::string& name, int64_t offset,
                                  int64_t maxBytes) {
    askedKey = key;
    auto it = logs.find(name);
    if (it == logs.end()) return makeError(ErrorCode::kNotFound, "no replica " + name);
    int64_t start = std::min(offset, static_cast<int64_t>(it->second.size()));
    std::string text = it->second.substr(start, maxBytes);
    return platform::LogChunk{text, start, start + static_cast<int64_t>(text.size())};
  }
};

TEST_F(ServiceTest, ReplicasAndLogsFromThePlatform) {
  ASSERT_EQ(service_.apply(alice_, kRollout).status, 201);
  const std::string replicasPath = std::string(kWebPath) + "/replicas";
  const std::string logsPath = std::string(kWebPath) + "/logs";
  // Without a platform: 501, saying why.
  ApiReply none = service_.replicas(route("GET", replicasPath));
  EXPECT_EQ(none.status, 501) << none.body;
  EXPECT_NE(none.body.find("no platform"), std::string::npos) << none.body;
  EXPECT_EQ(service_.logs(route("GET", logsPath), LogsQuery{"web-abc-0"}).status, 501);

  FakePlatform fake;
  fake.replicas = {{"web-abc-0", "abc", 0, "Running", true, 1, "exit 1", "", Time(Duration(5))}};
  fake.logs["web-abc-0"] = "hello \xc3\xa9t\xc3\xa9\n";
  ObjectService service(
      store_, clock_, nullptr, {}, [&](const std::string& k) { return fake.observe(k); },
      [&](const std::string& k, const std::string& n, int64_t o, int64_t m) {
        return fake.read(k, n, o, m);
      });
  ApiReply list = service.replicas(route("GET", replicasPath));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(fake.askedKey, "default/web");
  auto decoded = decodeReplicas(list.body);
  ASSERT_TRUE(decoded);
  ASSERT_EQ(decoded->size(), 1u);
  EXPECT_EQ((*decoded)[0], (ReplicaView{"web-abc-0", "abc", 0, "Running", true, 1, "exit 1", "",
                                        Time(Duration(5))}));

  // A read cut inside "é" stops before it; the next read starts there.
  ApiReply cut = service.logs(route("GET", logsPath), LogsQuery{"web-abc-0", 0, 7});
  ASSERT_EQ(cut.status, 200) << cut.body;
  auto first = decodeLogChunk(cut.body);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->text, "hello ");
  EXPECT_EQ(first->nextOffset, 6);
  auto rest = decodeLogChunk(
      service.logs(route("GET", logsPath), LogsQuery{"web-abc-0", first->nextOffset, 100}).body);
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->text, "\xc3\xa9t\xc3\xa9\n");
  EXPECT_EQ(rest->nextOffset, 12);

  EXPECT_EQ(service.logs(route("GET", logsPath), LogsQuery{"web-abc-9"}).status, 404);
  const std::string other = "/api/v1/namespaces/default/rollouts/nope";
  EXPECT_EQ(service.replicas(route("GET", other + "/replicas")).status, 404);
  EXPECT_EQ(service.logs(route("GET", other + "/logs"), LogsQuery{"web-abc-0"}).status, 404);

  // A platform that keeps no replicas (the seam's defaults) answers 501 through the API.
  struct Bare final : platform::WorkloadDriver {
    Result<platform::ObservedWorkload> observe(const std::string&) override { return {}; }
    Status ensureRevision(const std::string&, const platform::RevisionSpec&) override { return {}; }
    Status scale(const std::string&, const std::string&, int32_t, int32_t) override { return {}; }
    Status setScaleDownDeadline(const std::string&, const std::string&,
                                std::optional<Time>) override {
      return {};
    }
    Status retire(const std::string&, const std::string&) override { return {}; }
    std::string type() const override { return "platform.bare"; }
  } bare;
  ObjectService bareService(
      store_, clock_, nullptr, {}, [&](const std::string& k) { return bare.observeReplicas(k); },
      [&](const std::string& k, const std::string& n, int64_t o, int64_t m) {
        return bare.readLog(k, n, o, m);
      });
  ApiReply unsupported = bareService.replicas(route("GET", replicasPath));
  EXPECT_EQ(unsupported.status, 501);
  EXPECT_NE(unsupported.body.find("platform.bare"), std::string::npos) << unsupported.body;
  EXPECT_EQ(bareService.logs(route("GET", logsPath), LogsQuery{"x"}).status, 501);
}

// --- WatchHub ---

TEST(WatchHub, FansOutInOrderAndCutsOffASlowSubscriber) {
  store::MemoryStateStore store;
  WatchHub hub(store, 5, Duration(20));
  ASSERT_TRUE(hub.start());
  WatchCursor at;
  auto fast = hub.subscribe(WatchFilter{}, &at);
  auto slow = hub.subscribe(WatchFilter{}, &at);
  auto other = hub.subscribe(WatchFilter{&resourceOf(spec::Kind::kAnalysisRun), "", "", true}, &at);
  EXPECT_EQ(hub.streams(), 3u);
  // 20 writes: the slow subscriber (never reading) overflows; writers are never blocked.
  std::vector<int64_t> seen;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(store.put({"Rollout", "default", "r" + std::to_string(i)}, "{\"x\":1}", 0));
    std::vector<WatchFrame> frames;
    // Drain the fast subscriber as the writes happen.
    while (seen.size() < static_cast<size_t>(i) + 1) {
      ASSERT_EQ(fast->wait(Duration(2000), &frames), WatchSubscriber::State::kOpen);
      for (const WatchFrame& f : frames) {
        if (!f.isEvent) seen.push_back(f.revision);
      }
      frames.clear();
    }
  }
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_LT(seen[i - 1], seen[i]);
  // By the time the fast subscriber saw change 20, the slow one (capacity 5) overflowed at
  // change 6: its frames are dropped and its state says so.
  std::vector<WatchFrame> frames;
  EXPECT_EQ(slow->wait(Duration(1), &frames), WatchSubscriber::State::kOverflowed);
  EXPECT_TRUE(frames.empty());
  frames.clear();
  EXPECT_EQ(other->wait(Duration(1), &frames), WatchSubscriber::State::kOpen);
  EXPECT_TRUE(frames.empty());  // filtered: no Rollout frames for an AnalysisRun watcher
  hub.stop();
  EXPECT_EQ(fast->wait(Duration(1), &frames), WatchSubscriber::State::kClosed);
}

// rollout_events_total: one series per rollout, type and reason, counting every event about a
// Rollout (repeats included; other kinds not), in the order of its labels.
TEST(WatchHub, CountsEventsPerRolloutTypeAndReason) {
  store::MemoryStateStore store;
  WatchHub hub(store, 100, Duration(20));
  ASSERT_TRUE(hub.start());
  WatchCursor at;
  auto watcher = hub.subscribe(WatchFilter{nullptr, "", "", true}, &at);
  const auto event = [&](const std::string& kind, const std::string& name, store::EventType type,
                         const std::string& reason, int n) {
    store::Event e;
    e.object = {kind, "shop", name};
    e.type = type;
    e.reason = reason;
    e.message = reason + " " + std::to_string(n);  // no two alike: none folded
    ASSERT_TRUE(store.appendEvent(e));
  };
  event("Rollout", "web", store::EventType::kNormal, "RolloutUpdated", 1);
  event("Rollout", "web", store::EventType::kWarning, "RolloutAborted", 2);
  event("Rollout", "api", store::EventType::kNormal, "RolloutUpdated", 3);
  event("Rollout", "web", store::EventType::kNormal, "RolloutUpdated", 4);
  event("AnalysisRun", "web-1", store::EventType::kNormal, "RolloutUpdated", 5);
  size_t seen = 0;
  // Until the watcher has seen `n` events in all (each counted before it is sent).
  const auto waitForEvents = [&](size_t n) {
    while (seen < n) {
      std::vector<WatchFrame> frames;
      ASSERT_EQ(watcher->wait(Duration(2000), &frames), WatchSubscriber::State::kOpen);
      for (const WatchFrame& f : frames) seen += f.isEvent ? 1 : 0;
    }
  };
  ASSERT_NO_FATAL_FAILURE(waitForEvents(5));
  MetricsPage page;
  hub.appendEventCounts(page);
  const std::string text = page.text();
  const std::string want =
      "rollout_events_total{namespace=\"shop\",name=\"api\",type=\"Normal\","
      "reason=\"RolloutUpdated\"} 1\n"
      "rollout_events_total{namespace=\"shop\",name=\"web\",type=\"Normal\","
      "reason=\"RolloutUpdated\"} 2\n"
      "rollout_events_total{namespace=\"shop\",name=\"web\",type=\"Warning\","
      "reason=\"RolloutAborted\"} 1\n";
  EXPECT_NE(text.find(want), std::string::npos) << text;
  EXPECT_EQ(text.find("web-1"), std::string::npos) << text;
  // Made again (what the hub does once quiet after many): the same counts, still counting.
  hub.repackMemory();
  MetricsPage again;
  hub.appendEventCounts(again);
  EXPECT_EQ(again.text(), text);
  event("Rollout", "api", store::EventType::kNormal, "RolloutUpdated", 6);
  ASSERT_NO_FATAL_FAILURE(waitForEvents(6));
  MetricsPage after;
  hub.appendEventCounts(after);
  EXPECT_NE(after.text().find("name=\"api\",type=\"Normal\",reason=\"RolloutUpdated\"} 2"),
            std::string::npos)
      << after.text();
  hub.stop();
}

// rollout_traffic_weight_verified: one series per routed rollout, 0 while its status records
// that a router does not hold the applied weight.
TEST(ObjectMetrics, TrafficWeightVerifiedFollowsTheStatus) {
  store::MemoryStateStore store;
  const auto put = [&](const std::string& name, bool routed, std::optional<bool> verified) {
    auto r =
        std::get<spec::Rollout>(spec::parseDocuments(kRollout, "m.yaml").documents.at(0).object);
    r.metadata.name = name;
    r.metadata.namespace_ = "default";
    if (routed) {
      r.spec.strategy.canary->trafficRouting.emplace();
      r.spec.strategy.canary->trafficRouting->plugins["ramp/haproxy"].text = "{}";
      r.status.canary.weights.emplace();
      r.status.canary.weights->verified = verified;
    }
    ASSERT_TRUE(store.put({"Rollout", "default", name}, spec::toJson(r), 0));
  };
  put("lost", true, false);
  put("fine", true, std::nullopt);
  put("plain", false, std::nullopt);
  MetricsPage page;
  ASSERT_TRUE(appendObjectMetrics(store, page));
  const std::string text = page.text();
  EXPECT_NE(text.find("rollout_traffic_weight_verified{namespace=\"default\",name=\"lost\"} 0"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("rollout_traffic_weight_verified{namespace=\"default\",name=\"fine\"} 1"),
            std::string::npos);
  EXPECT_EQ(text.find("rollout_traffic_weight_verified{namespace=\"default\",name=\"plain\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace ramp::api
