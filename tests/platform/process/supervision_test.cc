// Unit tests of the process platform's pure decisions (src/platform/process/supervision.h):
// $(VAR) expansion, environment and argv, template validation, probe bookkeeping, backoff,
// crash-loop rule, scale-down order, /proc parsing and the file_sd document. Plain values and
// times; no processes, no clock.

#include "platform/process/supervision.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

namespace ramp::platform::process {
namespace {

spec::HttpGetAction httpAction(const std::string& path, const spec::IntOrString& port) {
  spec::HttpGetAction a;
  a.path = path;
  a.port = port;
  return a;
}

Time at(int64_t ms) { return Time(Duration(ms)); }

std::string envGet(const EnvList& env, const std::string& name) {
  std::string value = "<unset>";
  int seen = 0;
  for (const auto& [k, v] : env) {
    if (k == name) {
      value = v;
      ++seen;
    }
  }
  EXPECT_LE(seen, 1) << name << " appears more than once";
  return value;
}

TEST(ProcessExpandVars, KubernetesRules) {
  std::map<std::string, std::string> vars = {{"A", "a"}, {"PORT", "8081"}, {"E", ""}};
  struct Case {
    std::string in, out;
  } cases[] = {
      {"$(A)", "a"},
      {"x$(A)y$(A)z",
       "xaya"
       "z"},
      {"$$(A)", "$(A)"},  // $$ escapes the reference
      {"$$$(A)", "$a"},   // escaped '$' then a reference
      {"$$", "$"},
      {"$(B)", "$(B)"},              // unknown kept as written
      {"$()", "$()"},                // empty name is unknown
      {"$(A", "$(A"},                // unclosed kept
      {"$(A$(PORT)", "$(A$(PORT)"},  // name runs to the first ')': "A$(PORT" is unknown
      {"a$", "a$"},                  // trailing '$'
      {"$x", "$x"},                  // '$' before another character
      {"--port=$(PORT)", "--port=8081"},
      {"[$(E)]", "[]"},  // defined as empty
      {"", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(expandVars(c.in, vars), c.out) << c.in;
}

TEST(ProcessImageVersion, TagDigestOrLatest) {
  EXPECT_EQ(imageVersion("demo:v2"), "v2");
  EXPECT_EQ(imageVersion("ghcr.io/acme/demo:1.4.0"), "1.4.0");
  EXPECT_EQ(imageVersion("registry:5000/demo"), "latest");  // the port is not a tag
  EXPECT_EQ(imageVersion("registry:5000/demo:v3"), "v3");
  EXPECT_EQ(imageVersion("demo@sha256:abc"), "sha256:abc");
  EXPECT_EQ(imageVersion("demo"), "latest");
}

spec::Container demoContainer() {
  spec::Container c;
  c.name = "app";
  c.image = "demo:v2";
  c.command = {"ramp-demo-service"};
  c.args = {"--port", "$(PORT)", "--literal", "$$(PORT)"};
  c.ports = {{"http", 8080, "TCP", std::nullopt, ""}, {"metrics", 9090, "", std::nullopt, ""}};
  return c;
}

ReplicaIdentity identity() {
  ReplicaIdentity id;
  id.rolloutKey = "shop/demo";
  id.podTemplateHash = "6f9c";
  id.revision = 3;
  id.index = 1;
  id.ports = {41000, 41001};
  id.inherited = {{"PATH", "/usr/bin:/bin"}, {"HOME", "/root"}};
  return id;
}

TEST(ProcessBuildEnvironment, RampVariablesPortsAndContainerEnv) {
  auto c = demoContainer();
  c.env = {{"URL", "http://127.0.0.1:$(PORT)/x", {}},
           {"SELF", "$(URL)?v=$(VERSION)", {}},  // earlier entries are visible
           {"LATER", "$(AFTER)", {}},            // later entries are not
           {"AFTER", "1", {}},
           {"PORT", "8080", {}}};  // the assigned port wins over a fixed one
  auto env = buildEnvironment(identity(), c);
  EXPECT_EQ(envGet(env, "PORT"), "41000");
  EXPECT_EQ(envGet(env, "HTTP"), "41000");
  EXPECT_EQ(envGet(env, "PORT_HTTP"), "41000");
  EXPECT_EQ(envGet(env, "METRICS"), "41001");
  EXPECT_EQ(envGet(env, "PORT_METRICS"), "41001");
  EXPECT_EQ(envGet(env, "RAMP_IMAGE"), "demo:v2");
  EXPECT_EQ(envGet(env, "VERSION"), "v2");
  EXPECT_EQ(envGet(env, "RAMP_REVISION"), "3");
  EXPECT_EQ(envGet(env, "RAMP_POD_TEMPLATE_HASH"), "6f9c");
  EXPECT_EQ(envGet(env, "RAMP_ROLLOUT"), "shop/demo");
  EXPECT_EQ(envGet(env, "RAMP_POD_NAME"), "demo-6f9c-1");
  EXPECT_EQ(envGet(env, "RAMP_REPLICA"), "1");
  EXPECT_EQ(envGet(env, "PATH"), "/usr/bin:/bin");
  EXPECT_EQ(envGet(env, "URL"), "http://127.0.0.1:41000/x");
  EXPECT_EQ(envGet(env, "SELF"), "http://127.0.0.1:41000/x?v=v2");
  EXPECT_EQ(envGet(env, "LATER"), "$(AFTER)");
}

TEST(ProcessBuildEnvironment, ContainerMayOverrideVersionButPortNamesNeverReplacePath) {
  auto c = demoContainer();
  c.ports[1].name = "path";  // would be PATH
  c.env = {{"VERSION", "custom", {}}};
  auto env = buildEnvironment(identity(), c);
  EXPECT_EQ(envGet(env, "VERSION"), "custom");
  EXPECT_EQ(envGet(env, "PATH"), "/usr/bin:/bin");
  EXPECT_EQ(envGet(env, "PORT_PATH"), "41001");
}

TEST(ProcessBuildArgv, ExpandsCommandAndArgs) {
  auto c = demoContainer();
  auto argv = buildArgv(c, buildEnvironment(identity(), c));
  EXPECT_EQ(argv, (std::vector<std::string>{"ramp-demo-service", "--port", "41000", "--literal",
                                            "$(PORT)"}));
}

TEST(ProcessPortVariableName, UppercaseAndUnderscore) {
  EXPECT_EQ(portVariableName("http"), "HTTP");
  EXPECT_EQ(portVariableName("metrics-port"), "METRICS_PORT");
}

TEST(ProcessValidateTemplate, NamesTheField) {
  auto valid = [] {
    spec::PodTemplateSpec t;
    t.spec.containers = {demoContainer()};
    return t;
  };
  EXPECT_TRUE(validateTemplate(valid()));
  struct Case {
    std::string what;
    std::function<void(spec::PodTemplateSpec&)> change;
    std::string field;
  } cases[] = {
      {"no container", [](auto& t) { t.spec.containers.clear(); },
       "spec.template.spec.containers:"},
      {"two containers", [](auto& t) { t.spec.containers.push_back(t.spec.containers[0]); },
       "spec.template.spec.containers[1]"},
      {"init containers", [](auto& t) { t.spec.initContainers = {t.spec.containers[0]}; },
       "spec.template.spec.initContainers"},
      {"no command", [](auto& t) { t.spec.containers[0].command.clear(); },
       "spec.template.spec.containers[0].command"},
      {"valueFrom",
       [](auto& t) {
         t.spec.containers[0].env = {{"A", "1", {}}, {"B", "", spec::RawJson{"{}"}}};
       },
       "spec.template.spec.containers[0].env[1].valueFrom"},
      {"duplicate port name", [](auto& t) { t.spec.containers[0].ports[1].name = "http"; },
       "spec.template.spec.containers[0].ports[1].name"},
      {"probe without action", [](auto& t) { t.spec.containers[0].readinessProbe = spec::Probe{}; },
       "spec.template.spec.containers[0].readinessProbe"},
      {"probe with unknown port name",
       [](auto& t) {
         spec::Probe p;
         p.httpGet = httpAction("/healthz", spec::IntOrString{std::string("admin")});
         t.spec.containers[0].livenessProbe = p;
       },
       "spec.template.spec.containers[0].livenessProbe.httpGet.port"},
      {"probe port out of range",
       [](auto& t) {
         spec::Probe p;
         p.tcpSocket = spec::TcpSocketAction{spec::IntOrString{int64_t{70000}}, ""};
         t.spec.containers[0].startupProbe = p;
       },
       "spec.template.spec.containers[0].startupProbe.tcpSocket.port"},
      {"exec probe without command",
       [](auto& t) {
         spec::Probe p;
         p.exec.emplace();
         t.spec.containers[0].readinessProbe = p;
       },
       "spec.template.spec.containers[0].readinessProbe.exec.command"},
  };
  for (const auto& c : cases) {
    auto t = valid();
    c.change(t);
    auto s = validateTemplate(t);
    ASSERT_FALSE(s) << c.what;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument) << c.what;
    EXPECT_NE(s.error().message.find(c.field), std::string::npos)
        << c.what << ": " << s.error().message;
  }
}

TEST(ProcessProbeParams, KubernetesDefaults) {
  spec::Probe p;
  EXPECT_EQ(probeParams(p, ProbeKind::kReadiness),
            (ProbeParams{Duration(0), Duration(10000), Duration(1000), 1, 3}));
  p.initialDelaySeconds = 2;
  p.periodSeconds = 5;
  p.timeoutSeconds = 3;
  p.successThreshold = 2;
  p.failureThreshold = 4;
  EXPECT_EQ(probeParams(p, ProbeKind::kReadiness),
            (ProbeParams{Duration(2000), Duration(5000), Duration(3000), 2, 4}));
  // Liveness and startup probes must use success threshold 1.
  EXPECT_EQ(probeParams(p, ProbeKind::kLiveness).successThreshold, 1);
  EXPECT_EQ(probeParams(p, ProbeKind::kStartup).successThreshold, 1);
}

TEST(ProcessProbe, StartsAfterInitialDelay) {
  ProbeParams params{Duration(3000), Duration(1000), Duration(1000), 1, 3};
  auto r = startProbe(params, ProbeKind::kReadiness, at(10000));
  EXPECT_FALSE(r.passing);
  EXPECT_EQ(r.due, at(13000));
  auto l = startProbe(params, ProbeKind::kLiveness, at(10000));
  EXPECT_TRUE(l.passing);  // alive until proven otherwise
}

TEST(ProcessProbe, ThresholdsFlipPassing) {
  // success threshold 2, failure threshold 3: the verdict after each result.
  ProbeParams params{Duration(0), Duration(1000), Duration(1000), 2, 3};
  struct Step {
    bool success;
    bool passing;
  };
  std::vector<Step> steps = {
      {true, false}, {true, true},                   // two successes: ready
      {false, true}, {false, true}, {true, true},    // failures reset by a success
      {false, true}, {false, true}, {false, false},  // three in a row: not ready
      {true, false}, {true, true},
  };
  ProbeState s = startProbe(params, ProbeKind::kReadiness, at(0));
  int64_t t = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    recordProbe(s, params, steps[i].success, at(t));
    EXPECT_EQ(s.passing, steps[i].passing) << "step " << i;
    EXPECT_EQ(s.due, at(t + 1000)) << "step " << i;
    t += 1000;
  }
}

TEST(ProcessResolveProbe, PortsMapToAssignedPorts) {
  auto c = demoContainer();
  std::vector<int> assigned = {41000, 41001};
  spec::Probe p;
  p.httpGet = httpAction("healthz", spec::IntOrString{std::string("metrics")});
  auto t = resolveProbe(p, c, assigned);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->url, "http://127.0.0.1:41001/healthz");

  p.httpGet->port = spec::IntOrString{int64_t{8080}};  // the declared containerPort
  p.httpGet->scheme = "HTTPS";
  p.httpGet->host = "localhost";
  p.httpGet->httpHeaders = {{"X-Probe", "1"}};
  t = resolveProbe(p, c, assigned);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->url, "https://localhost:41000/healthz");
  EXPECT_EQ(t->headers.size(), 1u);

  p.httpGet->port = spec::IntOrString{int64_t{7000}};  // not declared: used as written
  EXPECT_EQ(resolveProbe(p, c, assigned)->url, "https://localhost:7000/healthz");

  spec::Probe tcp;
  tcp.tcpSocket = spec::TcpSocketAction{spec::IntOrString{int64_t{8080}}, ""};
  c.ports.clear();  // no ports declared: any number means the one assigned port
  t = resolveProbe(tcp, c, {42000});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind, ProbeTarget::Kind::kTcp);
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_EQ(t->port, 42000);

  spec::Probe named;
  named.tcpSocket = spec::TcpSocketAction{spec::IntOrString{std::string("nope")}, ""};
  EXPECT_FALSE(resolveProbe(named, c, {42000}));
}

TEST(ProcessBackoff, DoublesFromBaseUpToCap) {
  BackoffPolicy kubelet{Duration(10000), Duration(300000), Duration(600000)};
  EXPECT_EQ(restartDelay(0, kubelet), Duration(0));
  EXPECT_EQ(restartDelay(1, kubelet), Duration(10000));
  EXPECT_EQ(restartDelay(2, kubelet), Duration(20000));
  EXPECT_EQ(restartDelay(3, kubelet), Duration(40000));
  EXPECT_EQ(restartDelay(5, kubelet), Duration(160000));
  EXPECT_EQ(restartDelay(6, kubelet), Duration(300000));
  EXPECT_EQ(restartDelay(1000, kubelet), Duration(300000));
  BackoffPolicy fast{Duration(200), Duration(1000), Duration(600000)};
  EXPECT_EQ(restartDelay(3, fast), Duration(800));
  EXPECT_EQ(restartDelay(4, fast), Duration(1000));
  EXPECT_EQ(restartDelay(1, BackoffPolicy{}), Duration(1000));  // ramp's default base
}

TEST(ProcessCrashLoop, TwoCrashesInARowAndNotReady) {
  EXPECT_FALSE(isCrashLooping(0, false));
  EXPECT_FALSE(isCrashLooping(1, false));  // one crash may be a fluke
  EXPECT_TRUE(isCrashLooping(2, false));
  EXPECT_FALSE(isCrashLooping(5, true));  // running and ready again
}

TEST(ProcessScaleDown, NotReadyFirstThenNewest) {
  std::vector<ScaleDownCandidate> r = {{0, true}, {1, false}, {2, true}, {3, true}};
  EXPECT_EQ(pickScaleDown(r, 4), std::vector<int32_t>{});
  EXPECT_EQ(pickScaleDown(r, 3), std::vector<int32_t>{1});
  EXPECT_EQ(pickScaleDown(r, 2), (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(pickScaleDown(r, 0), (std::vector<int32_t>{1, 3, 2, 0}));
  EXPECT_EQ(pickScaleDown(r, -1).size(), 4u);
}

TEST(ProcessLowestFreeIndex, FillsGaps) {
  EXPECT_EQ(lowestFreeIndex({}), 0);
  EXPECT_EQ(lowestFreeIndex({0, 1, 3}), 2);
  EXPECT_EQ(lowestFreeIndex({1, 2}), 0);
}

TEST(ProcessProcStat, ParsesStartTimeAfterTheCommandName) {
  std::string stat =
      "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 "
      "1000 10 18446744073709551615\n";
  auto st = parseProcStat(stat);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->pgrp, 4242);
  EXPECT_EQ(st->startTime, 987654u);
}

TEST(ProcessProcStat, RejectsTruncatedText) {
  EXPECT_FALSE(parseProcStat(""));
  EXPECT_FALSE(parseProcStat("12 (x"));
  EXPECT_FALSE(parseProcStat("12 (x) S 1 12 12"));  // no field 22
}

TEST(ProcessFileSd, LabelsAndDocument) {
  auto labels = replicaLabels("shop/demo", "6f9c", 3, "canary", "demo-6f9c-0",
                              {{"app.kubernetes.io/name", "demo"},
                               {"role", "from-template"},
                               {"__secret", "x"},
                               {"9lives", "cat"}});
  EXPECT_EQ(labels, (std::map<std::string, std::string>{{"app_kubernetes_io_name", "demo"},
                                                        {"_9lives", "cat"},
                                                        {"namespace", "shop"},
                                                        {"pod", "demo-6f9c-0"},
                                                        {"revision", "3"},
                                                        {"role", "canary"},
                                                        {"rollout", "demo"},
                                                        {"rollouts_pod_template_hash", "6f9c"}}));
  auto noRole = replicaLabels("shop/demo", "6f9c", 3, "", "p", {{"role", "x"}});
  EXPECT_FALSE(noRole.contains("role")) << "a role ramp has not set is never claimed";

  std::string doc =
      fileSdJson({{"127.0.0.1:9", {{"role", "stable"}}}, {"127.0.0.1:10", {{"role", "canary"}}}});
  auto j = nlohmann::json::parse(doc);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["targets"][0], "127.0.0.1:10");  // sorted, so equal sets give equal text
  EXPECT_EQ(j[0]["labels"]["role"], "canary");
  EXPECT_EQ(j[1]["targets"][0], "127.0.0.1:9");
  EXPECT_EQ(fileSdJson({}), "[]\n");
}

TEST(ProcessRoles, OnlyTheFour) {
  for (const char* r : {"stable", "canary", "preview", "active"}) EXPECT_TRUE(validRole(r)) << r;
  EXPECT_FALSE(validRole("Stable"));
  EXPECT_FALSE(validRole(""));
}

TEST(ProcessReplicaName, FromRolloutKey) {
  EXPECT_EQ(replicaName("shop/demo", "6f9c", 2), "demo-6f9c-2");
  EXPECT_EQ(replicaName("demo", "6f9c", 0), "demo-6f9c-0");
}

// What `ramp get` and the dashboard show for a replica, from what the driver knows of it. Each
// row changes one fact of a replica that runs and is ready.
TEST(ProcessObservedReplica, StateReadyAndMessageFromTheDriversFacts) {
  ReplicaInfo base;
  base.name = "demo-abc-1";
  base.podTemplateHash = "abc";
  base.index = 1;
  base.pid = 4242;
  base.ready = true;
  base.becameReady = true;
  base.restarts = 2;
  base.startedAt = at(5000);
  base.lastExit = "exit 1";
  base.lastError = "pid 4000 exited with status 1";
  struct Case {
    const char* what;
    std::function<void(ReplicaInfo&)> change;
    std::string state;
    bool ready;
    std::string message;
    bool started;
  };
  const std::string why = base.lastError;
  const Case cases[] = {
      {"running and ready", [](ReplicaInfo&) {}, "Running", true, "", true},
      {"ready once, failing readiness now", [](ReplicaInfo& r) { r.ready = false; }, "Running",
       false, why, true},
      {"running, never ready since it started",
       [](ReplicaInfo& r) { r.ready = false, r.becameReady = false; }, "Starting", false, why,
       true},
      {"waiting for its first start",
       [](ReplicaInfo& r) { r.pid = 0, r.ready = false, r.becameReady = false; }, "Waiting", false,
       why, false},
      {"crashed repeatedly, in backoff",
       [](ReplicaInfo& r) { r.pid = 0, r.ready = false, r.crashLooping = true; },
       "CrashLoopBackOff", false, why, false},
      {"scaled down, still running", [](ReplicaInfo& r) { r.terminating = true; }, "Terminating",
       false, why, true},
      {"crash-looping but terminating",
       [](ReplicaInfo& r) { r.terminating = true, r.crashLooping = true; }, "Terminating", false,
       why, true},
      {"a ready flag without a process is not ready", [](ReplicaInfo& r) { r.pid = 0; }, "Waiting",
       false, why, false},
  };
  for (const Case& c : cases) {
    ReplicaInfo r = base;
    c.change(r);
    ObservedReplica o = toObservedReplica(r);
    EXPECT_EQ(o.state, c.state) << c.what;
    EXPECT_EQ(o.ready, c.ready) << c.what;
    EXPECT_EQ(o.message, c.message) << c.what;
    EXPECT_EQ(o.startedAt.has_value(), c.started) << c.what;
    EXPECT_EQ(o.name, "demo-abc-1") << c.what;
    EXPECT_EQ(o.podTemplateHash, "abc") << c.what;
    EXPECT_EQ(o.index, 1) << c.what;
    EXPECT_EQ(o.restarts, 2) << c.what;
    EXPECT_EQ(o.lastExit, "exit 1") << c.what;
  }
}

TEST(ProcessExitText, ExitCodeOrSignal) {
  // Wait statuses as the kernel encodes them: exit code in bits 8-15, signal in bits 0-6.
  struct Case {
    int status;
    std::string text;
  };
  const Case cases[] = {{0, "exit 0"},
                        {1 << 8, "exit 1"},
                        {3 << 8, "exit 3"},
                        {255 << 8, "exit 255"},
                        {9, "signal 9"},
                        {15, "signal 15"},
                        {0x7f | (19 << 8), "wait status 4991"}};  // stopped by SIGSTOP
  for (const Case& c : cases) EXPECT_EQ(exitText(c.status), c.text) << c.status;
}

TEST(ProcessLogRange, OffsetsFromTheStartOrTheEnd) {
  struct Case {
    int64_t offset, maxBytes, size;
    LogRange want;
  };
  const Case cases[] = {
      {0, 100, 10, {0, 10}},    // whole log
      {0, 4, 10, {0, 4}},       // capped
      {4, 4, 10, {4, 4}},       // from the middle
      {8, 100, 10, {8, 2}},     // up to the end
      {10, 100, 10, {10, 0}},   // at the end: nothing new yet
      {25, 100, 10, {10, 0}},   // past the end: clamped, so a follower resumes at the end
      {-3, 100, 10, {7, 3}},    // the last 3 bytes
      {-30, 100, 10, {0, 10}},  // more than there is: the whole log
      {-6, 2, 10, {4, 2}},      // from the end, capped
      {0, 100, 0, {0, 0}},      // empty log
      {-5, 100, 0, {0, 0}},     // empty log from the end
      {0, 0, 10, {0, 0}},       // nothing asked
  };
  for (const Case& c : cases) {
    EXPECT_EQ(logRange(c.offset, c.maxBytes, c.size), c.want)
        << c.offset << " " << c.maxBytes << " " << c.size;
  }
}

}  // namespace
}  // namespace ramp::platform::process
