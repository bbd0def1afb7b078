// Decoder (positions, strictness, kinds), bounded handling of bad input, and the JSON round trip.
#include "spec/codec.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "spec/node.h"
#include "spec/validation.h"

namespace ramp::spec {
namespace {

std::string dump(const std::vector<Diagnostic>& ds) {
  std::string s;
  for (const Diagnostic& d : ds) s += "  " + formatDiagnostic(d) + "\n";
  return s;
}

const Diagnostic* find(const std::vector<Diagnostic>& ds, const std::string& path) {
  for (const Diagnostic& d : ds)
    if (d.path == path) return &d;
  return nullptr;
}

const char* kRollout = R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: demo
  labels: {team: web}
spec:
  replicas: 3
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      serviceAccountName: demo
      containers:
      - name: app
        image: demo:1
        command: [/usr/bin/demo]
        args: [--port, "8080"]
        env: [{name: MODE, value: canary}]
        ports: [{name: http, containerPort: 8080, protocol: TCP}]
        resources: {limits: {cpu: 500m}}
        imagePullPolicy: IfNotPresent
        readinessProbe:
          httpGet: {path: /healthz, port: http}
          periodSeconds: 2
  strategy:
    canary:
      canaryService: demo-canary
      stableService: demo-stable
      maxSurge: "50%"
      maxUnavailable: 0
      trafficRouting:
        plugins:
          ramp/haproxy: {backend: demo, weights: [1, 2.5, true, null]}
        managedRoutes: [{name: hdr}]
      analysis:
        templates: [{templateName: rate}]
        startingStep: 1
        args: [{name: svc, value: demo}, {name: hash, valueFrom: {podTemplateHashValue: Latest}}]
      antiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {}}
      steps:
      - setWeight: 5
      - pause: {duration: 30s}
      - analysis: {templates: [{templateName: rate, clusterScope: true}]}
      - setHeaderRoute: {name: hdr, match: [{headerName: x-canary, headerValue: {exact: "yes"}}]}
      - pause: {}
status:
  currentStepIndex: 2
  phase: Paused
  abort: false
  pauseConditions: [{reason: CanaryPauseStep, startTime: "2026-11-22T10:00:00Z"}]
  canary:
    currentStepAnalysisRunStatus: {name: run-1, status: Running}
    weights: {canary: {weight: 5, podTemplateHash: abc}, stable: {weight: 95}, verified: true}
  conditions:
  - {type: Progressing, status: "True", reason: ReplicaSetUpdated, message: m,
     lastUpdateTime: "2026-11-22T10:00:00Z", lastTransitionTime: "2026-11-22T10:00:00Z"}
)";

const char* kTemplate = R"(apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: rate}
spec:
  args: [{name: service}, {name: key, valueFrom: {secretKeyRef: {name: s, key: k}}}]
  dryRun: [{metricName: ".*"}]
  measurementRetention: [{metricName: rate, limit: 20}]
  metrics:
  - name: rate
    interval: 1m
    count: "{{args.count}}"
    failureLimit: 1
    successCondition: result[0] >= 0.95
    provider:
      prometheus:
        address: http://127.0.0.1:9090
        query: sum(rate(x[1m]))
        timeout: 10
        headers: [{key: X-Scope, value: t}]
        authentication: {basicAuth: {username: u, password: p}}
  - name: web
    provider:
      web: {url: "http://127.0.0.1/health", method: POST, jsonBody: {a: [1, {b: c}]}, timeoutSeconds: 5}
  - name: job
    provider:
      job:
        metadata: {labels: {x: y}}
        spec:
          backoffLimit: 1
          activeDeadlineSeconds: 60
          template:
            spec:
              restartPolicy: Never
              containers:
              - {name: c, image: i, command: [sh, -c], args: [exit 0], env: [{name: A, value: b}], workingDir: /tmp}
  - name: dd
    provider:
      datadog: {query: "avg:x{*}", interval: 5m}
  - name: judge
    provider:
      plugin:
        ramp/judge: {alpha: 0.05}
)";

const char* kRun = R"(apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata: {name: run-1, namespace: prod}
spec:
  args: [{name: service, value: demo}]
  terminate: true
  ttlStrategy: {secondsAfterCompletion: 60}
  metrics:
  - name: rate
    provider: {prometheus: {query: q}}
status:
  phase: Failed
  message: Metric "rate" assessed Failed
  startedAt: "2026-11-22T10:00:00Z"
  runSummary: {count: 1, failed: 1}
  metricResults:
  - name: rate
    phase: Failed
    count: 1
    failed: 1
    measurements:
    - {phase: Failed, value: "[0.5]", startedAt: "2026-11-22T10:00:00Z", finishedAt: "2026-11-22T10:00:01.250Z", metadata: {q: x}}
)";

TEST(DecodeTest, DecodesEveryModelledField) {
  ParseOutput out = parseDocuments(kRollout, "r.yaml");
  ASSERT_EQ(out.documents.size(), 1u) << dump(out.diagnostics);
  EXPECT_TRUE(out.diagnostics.empty()) << dump(out.diagnostics);
  const Rollout& r = std::get<Rollout>(out.documents[0].object);
  EXPECT_EQ(r.metadata.name, "demo");
  EXPECT_EQ(r.metadata.namespace_, "default");
  EXPECT_EQ(*r.spec.replicas, 3);
  const Container& c = r.spec.template_->spec.containers.at(0);
  EXPECT_EQ(c.command, std::vector<std::string>{"/usr/bin/demo"});
  EXPECT_EQ(c.args, (std::vector<std::string>{"--port", "8080"}));
  EXPECT_EQ(c.ports.at(0).name, "http");
  EXPECT_EQ(c.readinessProbe->httpGet->port, IntOrString{std::string("http")});
  EXPECT_EQ(*c.readinessProbe->periodSeconds, 2);
  EXPECT_EQ(c.resources.text, R"({"limits":{"cpu":"500m"}})");
  EXPECT_EQ(c.extra.at("imagePullPolicy").text, R"("IfNotPresent")");
  EXPECT_EQ(r.spec.template_->spec.extra.at("serviceAccountName").text, R"("demo")");
  const CanaryStrategy& cs = *r.spec.strategy.canary;
  EXPECT_EQ(*cs.maxSurge, IntOrString{std::string("50%")});
  EXPECT_EQ(*cs.maxUnavailable, IntOrString{int64_t{0}});
  EXPECT_EQ(cs.trafficRouting->plugins.at("ramp/haproxy").text,
            R"({"backend":"demo","weights":[1,2.5,true,null]})");
  EXPECT_EQ(*cs.analysis->startingStep, 1);
  EXPECT_EQ(*cs.analysis->args.at(1).valueFrom->podTemplateHashValue, "Latest");
  EXPECT_TRUE(cs.antiAffinity->requiredDuringSchedulingIgnoredDuringExecution);
  ASSERT_EQ(cs.steps.size(), 5u);
  EXPECT_EQ(*cs.steps[0].setWeight, 5);
  EXPECT_EQ(*cs.steps[1].pause->duration, IntOrString{std::string("30s")});
  EXPECT_TRUE(cs.steps[2].analysis->templates.at(0).clusterScope);
  EXPECT_EQ(cs.steps[3].setHeaderRoute->match.at(0).headerValue.exact, "yes");
  EXPECT_TRUE(cs.steps[4].pause.has_value());
  EXPECT_FALSE(cs.steps[4].pause->duration.has_value());
  EXPECT_EQ(*r.status.currentStepIndex, 2);
  EXPECT_EQ(r.status.phase, RolloutPhase::kPaused);
  EXPECT_EQ(r.status.pauseConditions.at(0).reason, kPauseReasonCanaryPauseStep);
  EXPECT_EQ(r.status.canary.currentStepAnalysisRunStatus->status, AnalysisPhase::kRunning);
  EXPECT_EQ(*r.status.canary.weights->verified, true);
  EXPECT_EQ(r.status.conditions.at(0).status, "True");
}

TEST(DecodeTest, DecodesAnalysisKinds) {
  ParseOutput out = parseDocuments(std::string(kTemplate) + "---\n" + kRun, "a.yaml");
  ASSERT_EQ(out.documents.size(), 2u) << dump(out.diagnostics);
  const AnalysisTemplate& t = std::get<AnalysisTemplate>(out.documents[0].object);
  EXPECT_FALSE(t.clusterScoped);
  EXPECT_EQ(*t.spec.metrics[0].count, IntOrString{std::string("{{args.count}}")});
  EXPECT_EQ(*t.spec.metrics[0].provider.prometheus->timeout, 10);
  EXPECT_EQ(t.spec.metrics[1].provider.web->jsonBody.text, R"({"a":[1,{"b":"c"}]})");
  const JobMetric& job = *t.spec.metrics[2].provider.job;
  EXPECT_EQ(job.command, (std::vector<std::string>{"sh", "-c"}));
  EXPECT_EQ(job.args, std::vector<std::string>{"exit 0"});
  EXPECT_EQ(job.env.at(0).value, "b");
  EXPECT_EQ(job.workingDir, "/tmp");
  EXPECT_EQ(*job.activeDeadlineSeconds, 60);
  EXPECT_EQ(*job.backoffLimit, 1);
  EXPECT_EQ(t.spec.metrics[3].provider.other.count("datadog"), 1u);
  EXPECT_EQ(t.spec.metrics[4].provider.plugin.at("ramp/judge").text, R"({"alpha":0.05})");
  const AnalysisRun& run = std::get<AnalysisRun>(out.documents[1].object);
  EXPECT_EQ(run.metadata.namespace_, "prod");
  EXPECT_TRUE(run.spec.terminate);
  EXPECT_EQ(run.status.phase, AnalysisPhase::kFailed);
  EXPECT_EQ(run.status.metricResults.at(0).measurements.at(0).value, "[0.5]");
  EXPECT_EQ(
      run.status.metricResults[0].measurements[0].finishedAt->time_since_epoch().count() % 1000,
      250);
}

TEST(DecodeTest, ClusterAnalysisTemplateIsClusterScoped) {
  std::string yaml = kTemplate;
  yaml.replace(yaml.find("kind: AnalysisTemplate"), 22, "kind: ClusterAnalysisTemplate");
  ParseOutput out = parseDocuments(yaml, "c.yaml");
  ASSERT_EQ(out.documents.size(), 1u) << dump(out.diagnostics);
  EXPECT_TRUE(std::get<AnalysisTemplate>(out.documents[0].object).clusterScoped);
  EXPECT_EQ(kindOf(out.documents[0].object), Kind::kClusterAnalysisTemplate);
}

TEST(DecodeTest, UnknownFieldsAreErrorsWithPathAndPosition) {
  const char* yaml = R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  replica: 3
  strategy:
    canary:
      steps:
      - setWeight: 5
        pauze: {}
)";
  ParseOutput out = parseDocuments(yaml, "r.yaml");
  EXPECT_TRUE(out.documents.empty());
  const Diagnostic* a = find(out.diagnostics, "spec.replica");
  ASSERT_NE(a, nullptr) << dump(out.diagnostics);
  EXPECT_EQ(a->message, "unknown field \"replica\"");
  EXPECT_EQ(a->line, 5);
  EXPECT_EQ(a->column, 3);
  EXPECT_EQ(formatDiagnostic(*a), "r.yaml:5:3: spec.replica: unknown field \"replica\"");
  const Diagnostic* b = find(out.diagnostics, "spec.strategy.canary.steps[0].pauze");
  ASSERT_NE(b, nullptr) << dump(out.diagnostics);
  EXPECT_EQ(b->line, 10);
  EXPECT_EQ(b->column, 9);
}

// Go wrote an empty metav1.ObjectMeta as {"creationTimestamp":null} before apimachinery v0.33:
// `kubectl argo rollouts undo` of Argo v1.8 and older patches a ReplicaSet's template into
// spec.template with it, and `kubectl create deployment -o yaml` before Kubernetes 1.33 printed
// it into many committed manifests. Kubernetes accepts it in a pod template; so does ramp (and
// drops it: a template with it is the same template).
TEST(DecodeTest, PodTemplateCreationTimestampIsAccepted) {
  auto rollout = [](const std::string& stamp) {
    return rolloutFromJson(
        R"({"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout","metadata":{"name":"web"},)"
        R"("spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},)"
        R"("template":{"metadata":{)" +
        stamp +
        R"("labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"w:1"}]}},)"
        R"("strategy":{"canary":{}}}})");
  };
  Decoded<Rollout> without = rollout("");
  ASSERT_TRUE(without.value) << dump(without.diagnostics);
  for (const char* stamp :
       {R"("creationTimestamp":null,)", R"("creationTimestamp":"2026-12-06T20:00:00Z",)"}) {
    Decoded<Rollout> with = rollout(stamp);
    ASSERT_TRUE(with.value) << stamp << dump(with.diagnostics);
    EXPECT_EQ(with.value->spec.template_, without.value->spec.template_) << stamp;
  }
}

TEST(DecodeTest, WrongTypesAreErrorsAtTheNode) {
  const char* yaml = R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: [demo]}
spec:
  replicas: three
  paused: "yes"
  minReadySeconds: 1.5
  progressDeadlineSeconds: 99999999999
  selector: {matchLabels: [app]}
  strategy:
    canary:
      maxSurge: 1.5
      steps: {setWeight: 5}
)";
  ParseOutput out = parseDocuments(yaml, "r.yaml");
  EXPECT_TRUE(out.documents.empty());
  struct Want {
    const char* path;
    const char* message;
    int line;
  };
  for (const Want& w : {Want{"metadata.name", "must be a string, got list", 3},
                        Want{"spec.replicas", "must be an integer, got string \"three\"", 5},
                        Want{"spec.paused", "must be true or false, got string \"yes\"", 6},
                        Want{"spec.minReadySeconds", "must be an integer, got number 1.5", 7},
                        Want{"spec.progressDeadlineSeconds", "must fit in a 32-bit integer", 8},
                        Want{"spec.selector.matchLabels", "must be an object, got list", 9},
                        Want{"spec.strategy.canary.maxSurge", "must be an integer or a string", 12},
                        Want{"spec.strategy.canary.steps", "must be a list, got object", 13}}) {
    const Diagnostic* d = find(out.diagnostics, w.path);
    ASSERT_NE(d, nullptr) << w.path << "\n" << dump(out.diagnostics);
    EXPECT_NE(d->message.find(w.message), std::string::npos) << formatDiagnostic(*d);
    EXPECT_EQ(d->line, w.line) << formatDiagnostic(*d);
  }
}

TEST(DecodeTest, DuplicateKeysAreErrors) {
  ParseOutput out = parseDocuments(
      "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: a, name: b}\nspec: {}\n",
      "d.yaml");
  const Diagnostic* d = find(out.diagnostics, "metadata.name");
  ASSERT_NE(d, nullptr) << dump(out.diagnostics);
  EXPECT_NE(d->message.find("duplicate field"), std::string::npos);
}

// Found by fuzz_spec: a repeated key inside a free-form value (kept as JSON text) kept its last
// value in the text but the first one in the fields read from it.
TEST(DecodeTest, DuplicateKeysInFreeFormValuesAreErrors) {
  ParseOutput out = parseDocuments(
      "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: t}\n"
      "spec:\n  metrics:\n  - name: job\n    provider:\n      job:\n        spec:\n"
      "          template: {spec: {containers: [{name: a, image: i, command: [x]}]}}\n"
      "          template: {spec: {containers: [{name: b, image: i, command: [y]}]}}\n",
      "j.yaml");
  const Diagnostic* d = find(out.diagnostics, "spec.metrics[0].provider.job.spec.template");
  ASSERT_NE(d, nullptr) << dump(out.diagnostics);
  EXPECT_NE(d->message.find("duplicate key \"template\""), std::string::npos) << d->message;
  EXPECT_EQ(d->line, 11);
  EXPECT_EQ(d->column, 11);
}

TEST(DecodeTest, OtherKindsArePassedOverWithANote) {
  const char* yaml = R"(apiVersion: v1
kind: Service
metadata: {name: demo-stable}
spec: {ports: [{port: 80}]}
---
apiVersion: argoproj.io/v1alpha1
kind: Experiment
metadata: {name: e}
---
# only a comment
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: t}
spec: {metrics: [{name: m, provider: {web: {url: "http://x"}}}]}
)";
  ParseOutput out = parseDocuments(yaml, "mixed.yaml");
  EXPECT_EQ(out.documents.size(), 1u);
  EXPECT_FALSE(hasErrors(out.diagnostics)) << dump(out.diagnostics);
  ASSERT_EQ(out.diagnostics.size(), 2u) << dump(out.diagnostics);
  EXPECT_EQ(out.diagnostics[0].severity, Severity::kNote);
  EXPECT_NE(out.diagnostics[0].message.find("Service \"demo-stable\" is not a kind ramp manages"),
            std::string::npos);
  EXPECT_EQ(out.diagnostics[0].line, 1);
  EXPECT_EQ(out.diagnostics[1].severity, Severity::kWarning);  // an Argo kind ramp lacks
  EXPECT_EQ(out.diagnostics[1].line, 6);
}

TEST(DecodeTest, KubernetesListIsExpanded) {
  const char* yaml = R"(apiVersion: v1
kind: List
items:
- {apiVersion: argoproj.io/v1alpha1, kind: AnalysisTemplate, metadata: {name: a},
   spec: {metrics: [{name: m, provider: {web: {url: "http://x"}}}]}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
)";
  ParseOutput out = parseDocuments(yaml, "list.yaml");
  EXPECT_EQ(out.documents.size(), 1u) << dump(out.diagnostics);
}

TEST(DecodeTest, BadApiVersionAndMissingKind) {
  ParseOutput out = parseDocuments(
      "apiVersion: argoproj.io/v1beta1\nkind: Rollout\nmetadata: {name: a}\n---\n"
      "metadata: {name: b}\n---\n- just\n- a list\n",
      "bad.yaml");
  EXPECT_TRUE(out.documents.empty());
  EXPECT_FALSE(out.unreadable);
  ASSERT_EQ(out.diagnostics.size(), 3u) << dump(out.diagnostics);
  EXPECT_EQ(out.diagnostics[0].path, "apiVersion");
  EXPECT_NE(out.diagnostics[0].message.find("must be argoproj.io/v1alpha1"), std::string::npos);
  EXPECT_EQ(out.diagnostics[1].path, "kind");
  EXPECT_EQ(out.diagnostics[1].line, 5);
  EXPECT_NE(out.diagnostics[2].message.find("must be an object with apiVersion and kind"),
            std::string::npos);
}

TEST(DecodeTest, JsonInputIsYaml) {
  const char* json = R"({"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate",
  "metadata": {"name": "t"},
  "spec": {"metrics": [{"name": "m", "count": 1, "provider": {"web": {"url": "http://x"}}}]}})";
  ParseOutput out = parseDocuments(json, "t.json");
  ASSERT_EQ(out.documents.size(), 1u) << dump(out.diagnostics);
  EXPECT_EQ(*std::get<AnalysisTemplate>(out.documents[0].object).spec.metrics[0].count,
            IntOrString{int64_t{1}});
}

TEST(DecodeTest, QuotedScalarsStayStrings) {
  ParseOutput out = parseDocuments(
      "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: a}\n"
      "spec: {replicas: \"3\"}\n",
      "q.yaml");
  const Diagnostic* d = find(out.diagnostics, "spec.replicas");
  ASSERT_NE(d, nullptr) << dump(out.diagnostics);
  EXPECT_NE(d->message.find("got string \"3\""), std::string::npos);
}

// --- bad input: clear error, bounded time and memory, never a crash ---------------------------

TEST(BadInputTest, EmptyAndCommentOnlyInputHaveNoObjects) {
  for (const char* text : {"", "\n\n", "# nothing\n", "---\n---\n"}) {
    ParseOutput out = parseDocuments(text, "e.yaml");
    EXPECT_TRUE(out.documents.empty());
    EXPECT_FALSE(out.unreadable) << text;
    EXPECT_TRUE(out.diagnostics.empty()) << dump(out.diagnostics);
  }
}

TEST(BadInputTest, SyntaxErrorIsUnreadableWithLine) {
  ParseOutput out = parseDocuments("a: b\nc: [d\n  e: f\n", "s.yaml");
  EXPECT_TRUE(out.unreadable);
  ASSERT_EQ(out.diagnostics.size(), 1u);
  EXPECT_GT(out.diagnostics[0].line, 0);
  EXPECT_NE(out.diagnostics[0].message.find("not valid YAML"), std::string::npos);
}

TEST(BadInputTest, BinaryIsRejected) {
  const char kElf[] =
      "\x7f"
      "ELF\x02\x01\x01\0\0\0\xff\xfe";
  std::string binary(kElf, sizeof kElf - 1);
  ParseOutput out = parseDocuments(binary, "b.bin");
  EXPECT_TRUE(out.unreadable);
  ASSERT_EQ(out.diagnostics.size(), 1u);
  EXPECT_NE(out.diagnostics[0].message.find("not a text file"), std::string::npos);
}

TEST(BadInputTest, HugeInputIsCapped) {
  DecodeLimits limits;
  limits.maxBytes = 1024;
  std::string big(2048, '#');
  ParseOutput out = parseDocuments(big, "h.yaml", limits);
  EXPECT_TRUE(out.unreadable);
  ASSERT_EQ(out.diagnostics.size(), 1u);
  EXPECT_NE(out.diagnostics[0].message.find("more than the limit of 1024 bytes"),
            std::string::npos);
  // The default cap is 8 MiB.
  EXPECT_EQ(DecodeLimits{}.maxBytes, 8u * 1024 * 1024);
}

TEST(BadInputTest, DeepNestingIsCapped) {
  // Deeper than ramp's cap (64): ramp's message.
  std::string deep = "a: " + std::string(100, '[') + std::string(100, ']') + "\n";
  ParseOutput out = parseDocuments(deep, "deep.yaml");
  EXPECT_TRUE(out.unreadable);
  ASSERT_FALSE(out.diagnostics.empty());
  EXPECT_NE(out.diagnostics[0].message.find("nesting"), std::string::npos) << dump(out.diagnostics);
  std::string deeper(100000, '[');
  out = parseDocuments(deeper, "deeper.yaml");
  EXPECT_TRUE(out.unreadable);
}

TEST(BadInputTest, AliasBombIsCapped) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = c;
  }
  ParseOutput out = parseDocuments(bomb, "bomb.yaml");  // 10^10 nodes if expanded
  EXPECT_TRUE(out.unreadable);
  ASSERT_FALSE(out.diagnostics.empty());
  EXPECT_NE(out.diagnostics[0].message.find("alias"), std::string::npos) << dump(out.diagnostics);
}

TEST(BadInputTest, MalformedFlowInputReturnsADiagnostic) {
  // yaml-cpp 0.7 looped forever on these bytes (fuzz/corpus/fuzz_spec/yamlcpp-flow-hang.yaml);
  // the loader must return, with the syntax error's position and libyaml's reason.
  const std::string text =
      "{\"apiVersion\":\"argoproj.io/v1alpha1\",\"kind\":\"Rollout\",\"metadata\":{\"nam:bb\"}},"
      "\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}}{\"\x01uration\":\"1h\"}}]}\x7f}}";
  ParseOutput out = parseDocuments(text, "hang.yaml");
  EXPECT_TRUE(out.unreadable);
  EXPECT_TRUE(out.documents.empty());
  ASSERT_EQ(out.diagnostics.size(), 1u) << dump(out.diagnostics);
  EXPECT_EQ(out.diagnostics[0].file, "hang.yaml");
  EXPECT_EQ(out.diagnostics[0].line, 1);
  EXPECT_GT(out.diagnostics[0].column, 1);
  EXPECT_NE(out.diagnostics[0].message.find("not valid YAML: "), std::string::npos);
}

TEST(BadInputTest, VeryDeepWellFormedNestingGetsTheNestingMessage) {
  std::string deep = "a: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  ParseOutput out = parseDocuments(deep, "deep.yaml");
  EXPECT_TRUE(out.unreadable);
  ASSERT_EQ(out.diagnostics.size(), 1u) << dump(out.diagnostics);
  EXPECT_NE(out.diagnostics[0].message.find("nesting deeper than 64 levels"), std::string::npos)
      << dump(out.diagnostics);
}

TEST(BadInputTest, UndefinedAliasIsUnreadable) {
  ParseOutput out = parseDocuments("a: 1\nb: *nowhere\n", "alias.yaml");
  EXPECT_TRUE(out.unreadable);
  ASSERT_EQ(out.diagnostics.size(), 1u) << dump(out.diagnostics);
  EXPECT_EQ(out.diagnostics[0].line, 2);
  EXPECT_EQ(out.diagnostics[0].column, 4);
  EXPECT_NE(out.diagnostics[0].message.find("*nowhere"), std::string::npos);
}

TEST(BadInputTest, SelfReferentialAnchorIsCapped) {
  ParseOutput out = parseDocuments("a: &x [*x]\n", "cycle.yaml");
  EXPECT_TRUE(out.unreadable);
  ASSERT_EQ(out.diagnostics.size(), 1u) << dump(out.diagnostics);
  EXPECT_NE(out.diagnostics[0].message.find("nesting"), std::string::npos);
}

TEST(BadInputTest, WrongTypesEverywhereNeverCrash) {
  // Every field of the base manifests replaced by each kind of wrong value.
  const std::string bases[] = {kRollout, kTemplate, kRun};
  const char* values[] = {"[]", "{}", "\"s\"", "1", "-1", "true", "null", "1.5", "[{}]", "{a: b}"};
  for (const std::string& base : bases) {
    std::istringstream lines(base);
    std::vector<std::string> all;
    for (std::string l; std::getline(lines, l);) all.push_back(l);
    for (size_t i = 0; i < all.size(); ++i) {
      size_t colon = all[i].find(": ");
      if (colon == std::string::npos || all[i].find('{') < colon) continue;
      for (const char* v : values) {
        std::string text;
        for (size_t k = 0; k < all.size(); ++k) {
          text += (k == i ? all[k].substr(0, colon + 2) + v : all[k]) + "\n";
        }
        LintResult r = lintText(text, "w.yaml");
        for (const Document& doc : r.documents) {
          // Whatever decoded must survive the round trip.
          Decoded<Object> back = objectFromJson(toJson(doc.object));
          ASSERT_TRUE(back.value.has_value()) << text << dump(back.diagnostics);
          EXPECT_EQ(*back.value, doc.object) << text;
        }
      }
    }
  }
}

// --- JSON round trip ------------------------------------------------------------------------

TEST(RoundTripTest, EveryKindRoundTrips) {
  ParseOutput out =
      parseDocuments(std::string(kRollout) + "---\n" + kTemplate + "---\n" + kRun, "all.yaml");
  ASSERT_EQ(out.documents.size(), 3u) << dump(out.diagnostics);
  for (const Document& doc : out.documents) {
    std::string json = toJson(doc.object);
    Decoded<Object> back = objectFromJson(json);
    ASSERT_TRUE(back.value.has_value()) << json << dump(back.diagnostics);
    EXPECT_EQ(*back.value, doc.object) << json;
    EXPECT_EQ(toJson(*back.value), json);  // the text is stable too
  }
  const Rollout& r = std::get<Rollout>(out.documents[0].object);
  Decoded<Rollout> typed = rolloutFromJson(toJson(r));
  ASSERT_TRUE(typed.value);
  EXPECT_EQ(*typed.value, r);
}

TEST(RoundTripTest, ObjectsBuiltInCodeRoundTrip) {
  Rollout r;
  r.metadata.name = "built";
  r.metadata.generation = 7;
  r.metadata.creationTimestamp = Time(std::chrono::milliseconds(1763800000123));
  r.spec.replicas = 0;  // explicit zero survives (optional)
  r.spec.strategy.blueGreen = BlueGreenStrategy{};
  r.spec.strategy.blueGreen->activeService = "a";
  r.spec.strategy.blueGreen->autoPromotionEnabled = false;
  r.status.currentStepIndex = 0;
  r.status.pauseConditions.push_back({kPauseReasonBlueGreenPause, Time(std::chrono::seconds(5))});
  r.status.duration = RolloutDuration{};
  r.status.duration->completionStatus = "Promoted";
  r.status.albs.push_back(RawJson{R"({"ingress":"i"})"});
  std::string json = toJson(r);
  Decoded<Rollout> back = rolloutFromJson(json);
  ASSERT_TRUE(back.value) << json << dump(back.diagnostics);
  EXPECT_EQ(*back.value, r) << json;
  EXPECT_NE(json.find(R"("replicas":0)"), std::string::npos);
  EXPECT_NE(json.find(R"("autoPromotionEnabled":false)"), std::string::npos);
}

// The controller writes a new status onto a head it serialised once: head + status must be
// exactly toJson's text, with a full status, with none, and whatever the labels hold (a label
// named "status" must not confuse anything).
TEST(RoundTripTest, HeadPlusStatusIsToJson) {
  ParseOutput out = parseDocuments(kRollout, "r.yaml");
  ASSERT_EQ(out.documents.size(), 1u) << dump(out.diagnostics);
  Rollout r = std::get<Rollout>(out.documents[0].object);
  r.metadata.labels["status"] = "{\"status\":1}";
  const std::string head = rolloutJsonHead(r);
  EXPECT_EQ(rolloutJsonWithStatus(head, r.status), toJson(r));
  r.status.phase = RolloutPhase::kPaused;
  r.status.currentStepIndex = 2;
  r.status.pauseConditions.push_back({kPauseReasonCanaryPauseStep, Time(std::chrono::seconds(9))});
  r.status.canary.currentStepAnalysisRunStatus = RolloutAnalysisRunStatus{};
  r.status.canary.currentStepAnalysisRunStatus->name = "run";
  EXPECT_EQ(rolloutJsonWithStatus(head, r.status), toJson(r));
  EXPECT_EQ(rolloutJsonHead(r), head);  // the head does not depend on the status
  // Every kind of value the status writer handles: escapes, control bytes, UTF-8, negative and
  // large numbers, nested and repeated objects, optional zeroes, raw JSON, times with and
  // without milliseconds.
  r.status.abort = true;
  r.status.abortedAt = Time(std::chrono::milliseconds(-1500));
  r.status.message = "quote \" backslash \\ tab \t nl \n cr \r bs \b ff \f ctl \x01\x1f del \x7f";
  r.status.observedGeneration = "caf\xc3\xa9 \xe2\x9c\x93";
  r.status.collisionCount = 0;
  r.status.replicas = -3;
  r.status.HPAReplicas = 2147483647;
  r.status.conditions.push_back({"Progressing", "True", Time(std::chrono::milliseconds(1234)),
                                 Time(std::chrono::seconds(1700000000)), "NewReplicaSetAvailable",
                                 "ReplicaSet \"r-1\" has successfully progressed."});
  r.status.conditions.push_back({"Available", "False", std::nullopt, std::nullopt, "", ""});
  r.status.canary.weights = TrafficWeights{};
  r.status.canary.weights->canary = {20, "canary-svc", "abc"};
  r.status.canary.weights->stable = {80, "stable-svc", "def"};
  r.status.canary.weights->additional.push_back({0, "", ""});
  r.status.canary.weights->verified = false;
  r.status.alb = RawJson{R"({"z":1,"a":[true,null,"x"]})"};
  r.status.albs.push_back(RawJson{"not json"});
  r.status.duration = RolloutDuration{};
  r.status.phase = RolloutPhase::kDegraded;
  EXPECT_EQ(rolloutJsonWithStatus(head, r.status), toJson(r));
  r.status = RolloutStatus{};
  EXPECT_EQ(rolloutJsonWithStatus(head, r.status), toJson(r));
  Decoded<Rollout> back = rolloutFromJson(rolloutJsonWithStatus(head, r.status));
  ASSERT_TRUE(back.value) << dump(back.diagnostics);
  EXPECT_EQ(*back.value, r);
}

TEST(RoundTripTest, FromJsonReportsPathsAndKind) {
  Decoded<Rollout> bad = rolloutFromJson(
      R"({"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout","metadata":{"name":"x"},)"
      R"("spec":{"replicas":"many","strategy":{"canary":{"stepz":[]}}}})");
  EXPECT_FALSE(bad.value);
  EXPECT_NE(find(bad.diagnostics, "spec.replicas"), nullptr) << dump(bad.diagnostics);
  EXPECT_NE(find(bad.diagnostics, "spec.strategy.canary.stepz"), nullptr);
  Decoded<Rollout> wrongKind = rolloutFromJson(
      R"({"apiVersion":"argoproj.io/v1alpha1","kind":"AnalysisRun","metadata":{"name":"x"}})");
  EXPECT_FALSE(wrongKind.value);
  EXPECT_NE(find(wrongKind.diagnostics, "kind"), nullptr);
  Decoded<Object> notJson = objectFromJson("{\"a\": ");
  EXPECT_FALSE(notJson.value);
  ASSERT_EQ(notJson.diagnostics.size(), 1u);
  EXPECT_NE(notJson.diagnostics[0].message.find("not valid JSON"), std::string::npos);
  Decoded<Object> deep = objectFromJson(std::string(10000, '[') + std::string(10000, ']'));
  EXPECT_FALSE(deep.value);
  EXPECT_NE(deep.diagnostics.at(0).message.find("nesting"), std::string::npos);
}

// JSON is read as YAML is: a repeated key is an error (not "last one wins"), a syntax error has
// its line and column, and the depth limit counts open brackets (64 pass, 65 do not).
TEST(RoundTripTest, FromJsonRejectsRepeatedKeysAndLocatesSyntaxErrors) {
  Decoded<Rollout> twice = rolloutFromJson(
      R"({"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout","metadata":{"name":"x"},)"
      R"("spec":{"replicas":1,"replicas":2}})");
  EXPECT_FALSE(twice.value);
  const Diagnostic* d = find(twice.diagnostics, "spec.replicas");
  ASSERT_NE(d, nullptr) << dump(twice.diagnostics);
  EXPECT_NE(d->message.find("duplicate field"), std::string::npos) << d->message;

  Decoded<Object> broken = objectFromJson("{\"kind\": \"Rollout\",\n  \"spec\": [1,,2]}");
  ASSERT_EQ(broken.diagnostics.size(), 1u);
  EXPECT_EQ(broken.diagnostics[0].line, 2);
  EXPECT_EQ(broken.diagnostics[0].column, 14);

  const auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  DecodeLimits limits;
  EXPECT_FALSE(internal::loadJson(nested(64), "f", limits).failed);
  auto tooDeep = internal::loadJson(nested(65), "f", limits);
  EXPECT_TRUE(tooDeep.failed);
  limits.maxNodes = 3;
  auto tooMany = internal::loadJson("[1,2,3]", "f", limits);
  EXPECT_TRUE(tooMany.failed);
  EXPECT_NE(tooMany.diagnostics.at(0).message.find("more than 3 nodes"), std::string::npos);
}

TEST(LocateTest, ValidationErrorsFallBackToTheNearestKnownParent) {
  const char* yaml = R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec: {containers: [{name: app, image: demo:1}]}
  strategy:
    blueGreen:
      previewService: p
)";
  LintResult r = lintText(yaml, "bg.yaml");
  const Diagnostic* d = find(r.diagnostics, "spec.strategy.blueGreen.activeService");
  ASSERT_NE(d, nullptr) << dump(r.diagnostics);
  EXPECT_EQ(d->line, 11);  // the blueGreen object starts at its first key
  EXPECT_EQ(d->file, "bg.yaml");
}

}  // namespace
}  // namespace ramp::spec
