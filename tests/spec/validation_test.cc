// Every validation rule: a table of manifests, each breaking one rule, with the path and message
// the rule must report. The base manifests are valid, so each case fails if its rule is removed.
#include "spec/validation.h"

#include <gtest/gtest.h>

#include <string>

namespace ramp::spec {
namespace {

// A valid canary Rollout; `spec` lines are appended under spec:, `canary` under canary:.
std::string canaryRollout(const std::string& canary, const std::string& spec = "") {
  return R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: demo
spec:
  replicas: 4
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers:
      - name: app
        image: demo:1
        ports: [{name: http, containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /healthz, port: http}
)" + spec +
         R"(  strategy:
    canary:
      canaryService: demo-canary
      stableService: demo-stable
)" + canary;
}

std::string routed(const std::string& extra) {
  return "      trafficRouting:\n        plugins:\n          ramp/haproxy: {backend: demo}\n" +
         extra;
}

// canaryRollout("") whose container has `resources: <resources>`.
std::string withResources(const std::string& resources) {
  std::string yaml = canaryRollout("");
  yaml.insert(yaml.find("        readinessProbe:"), "        resources: " + resources + "\n");
  return yaml;
}

std::string blueGreenRollout(const std::string& bg, const std::string& spec = "") {
  return R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: demo
spec:
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers: [{name: app, image: demo:1}]
)" + spec +
         "  strategy:\n    blueGreen:\n" + bg;
}

std::string analysisTemplate(const std::string& metric, const std::string& spec = "") {
  return R"Y(apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: rate
spec:
)Y" + spec +
         R"Y(  metrics:
  - name: success-rate
    provider:
      prometheus: {address: "http://127.0.0.1:9090", query: "vector(1)"}
)Y" + metric;
}

struct Case {
  const char* rule;
  std::string yaml;
  const char* path;
  const char* message;  // substring
};

std::vector<Diagnostic> lint(const std::string& yaml) {
  return lintText(yaml, "case.yaml").diagnostics;
}

std::string dump(const std::vector<Diagnostic>& ds) {
  std::string s;
  for (const Diagnostic& d : ds) s += "  " + formatDiagnostic(d) + "\n";
  return s;
}

TEST(ValidationTest, BaseManifestsAreValid) {
  for (const std::string& yaml :
       {canaryRollout(""), canaryRollout(routed("")), blueGreenRollout("      activeService: a\n"),
        blueGreenRollout("      activeService: a\n      trafficRouting:\n"
                         "        plugins: {ramp/haproxy: {runtimeApi: /a.sock, backend: b}}\n"),
        analysisTemplate("")}) {
    auto ds = lint(yaml);
    EXPECT_FALSE(hasErrors(ds)) << yaml << dump(ds);
  }
}

TEST(ValidationTest, EachRuleReportsItsPathAndMessage) {
  const std::string steps = "      steps:\n";
  const Case cases[] = {
      // --- spec ---
      {"replicas non-negative",
       canaryRollout("", "  minReadySeconds: 0\n")
           .replace(canaryRollout("").find("replicas: 4"), 11, "replicas: -1"),
       "spec.replicas", "greater than or equal to 0"},
      {"selector required",
       R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  template:
    metadata: {labels: {app: demo}}
    spec: {containers: [{name: app, image: demo:1}]}
  strategy: {canary: {}}
)",
       "spec.selector", "missing field '.spec.selector'"},
      {"selector non-empty",
       R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  selector: {}
  template:
    metadata: {labels: {app: demo}}
    spec: {containers: [{name: app, image: demo:1}]}
  strategy: {canary: {}}
)",
       "spec.selector", "empty selector is invalid"},
      {"selector matches template labels",
       R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  selector: {matchLabels: {app: other}}
  template:
    metadata: {labels: {app: demo}}
    spec: {containers: [{name: app, image: demo:1}]}
  strategy: {canary: {}}
)",
       "spec.template.metadata.labels", "`selector` does not match template `labels`"},
      {"selector expression operator",
       R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  selector: {matchExpressions: [{key: app, operator: Like, values: [demo]}]}
  template:
    metadata: {labels: {app: demo}}
    spec: {containers: [{name: app, image: demo:1}]}
  strategy: {canary: {}}
)",
       "spec.selector.matchExpressions[0].operator", "must be In, NotIn, Exists or DoesNotExist"},
      {"template required without workloadRef",
       R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  selector: {matchLabels: {app: demo}}
  strategy: {canary: {}}
)",
       "spec.template", "missing field '.spec.template'"},
      {"workloadRef excludes template",
       canaryRollout("", "  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: d}\n"),
       "spec.template", "template must be empty for workload reference rollout"},
      {"workloadRef kind",
       R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  workloadRef: {apiVersion: apps/v1, kind: StatefulSet, name: d}
  strategy: {canary: {}}
)",
       "spec.workloadRef.kind", "must be Deployment, ReplicaSet or PodTemplate"},
      {"containers required",
       R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec: {containers: []}
  strategy: {canary: {}}
)",
       "spec.template.spec.containers", "at least one container"},
      {"container image required",
       R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec: {containers: [{name: app}]}
  strategy: {canary: {}}
)",
       "spec.template.spec.containers[0].image", "Required value"},
      {"container names unique",
       R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec: {containers: [{name: app, image: a}, {name: app, image: b}]}
  strategy: {canary: {}}
)",
       "spec.template.spec.containers[1].name", "Duplicate value"},
      {"container port range",
       R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec: {containers: [{name: app, image: a, ports: [{containerPort: 70000}]}]}
  strategy: {canary: {}}
)",
       "spec.template.spec.containers[0].ports[0].containerPort", "between 1 and 65535"},
      {"probe named port exists",
       R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec:
      containers:
      - name: app
        image: a
        ports: [{name: http, containerPort: 80}]
        readinessProbe: {httpGet: {path: /, port: web}}
  strategy: {canary: {}}
)",
       "spec.template.spec.containers[0].readinessProbe.httpGet.port", "names port \"web\""},
      {"probe has one handler",
       R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec:
      containers:
      - name: app
        image: a
        livenessProbe: {periodSeconds: 5}
  strategy: {canary: {}}
)",
       "spec.template.spec.containers[0].livenessProbe", "exactly one handler"},
      {"metadata.name required",
       canaryRollout("").replace(canaryRollout("").find("name: demo"), 10, "labels: {}"),
       "metadata.name", "must be set"},
      {"minReadySeconds non-negative", canaryRollout("", "  minReadySeconds: -1\n"),
       "spec.minReadySeconds", "greater than or equal to 0"},
      {"revisionHistoryLimit non-negative", canaryRollout("", "  revisionHistoryLimit: -1\n"),
       "spec.revisionHistoryLimit", "greater than or equal to 0"},
      {"progressDeadlineSeconds > minReadySeconds",
       canaryRollout("", "  minReadySeconds: 30\n  progressDeadlineSeconds: 30\n"),
       "spec.progressDeadlineSeconds", "must be greater than minReadySeconds"},
      {"progressDeadlineSeconds default > minReadySeconds",
       canaryRollout("", "  minReadySeconds: 600\n"), "spec.progressDeadlineSeconds",
       "must be greater than minReadySeconds"},
      {"analysis history limits non-negative",
       canaryRollout("", "  analysis: {successfulRunHistoryLimit: -1}\n"),
       "spec.analysis.successfulRunHistoryLimit", "greater than or equal to 0"},
      // --- strategy ---
      {"strategy required",
       R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec: {containers: [{name: app, image: demo:1}]}
  strategy: {}
)",
       "spec.strategy", "missing field '.spec.strategy.canary or .spec.strategy.blueGreen'"},
      {"only one strategy",
       R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec: {containers: [{name: app, image: demo:1}]}
  strategy: {canary: {}, blueGreen: {activeService: a}}
)",
       "spec.strategy", "Multiple Strategies can not be listed"},
      // --- canary ---
      {"maxSurge and maxUnavailable not both zero",
       canaryRollout("      maxSurge: 0\n      maxUnavailable: \"0%\"\n"),
       "spec.strategy.canary.maxSurge", "MaxSurge and MaxUnavailable both can not be zero"},
      {"maxSurge is int or percent", canaryRollout("      maxSurge: lots\n"),
       "spec.strategy.canary.maxSurge", "must be an integer or a percentage"},
      {"maxUnavailable non-negative", canaryRollout("      maxUnavailable: -1\n"),
       "spec.strategy.canary.maxUnavailable", "greater than or equal to 0"},
      {"canary and stable services differ",
       canaryRollout("").replace(canaryRollout("").find("demo-canary"), 11, "demo-stable"),
       "spec.strategy.canary.stableService", "same service for the stable and canary"},
      {"trafficRouting needs stableService",
       canaryRollout("      trafficRouting: {nginx: {stableIngress: web}}\n")
           .replace(canaryRollout("").find("      stableService"), 32, ""),
       "spec.strategy.canary.stableService", "must to be set to use Traffic Routing"},
      {"ALB without ping-pong needs canaryService",
       canaryRollout("      trafficRouting: {alb: {ingress: i, servicePort: 80}}\n")
           .replace(canaryRollout("").find("      canaryService"), 32, ""),
       "spec.strategy.canary.canaryService", "must to be set to use Traffic Routing"},
      {"trafficRouting needs a router",
       canaryRollout("      trafficRouting: {managedRoutes: []}\n"),
       "spec.strategy.canary.trafficRouting", "must configure a traffic router"},
      {"scaleDownDelaySeconds needs trafficRouting",
       canaryRollout("      scaleDownDelaySeconds: 5\n"),
       "spec.strategy.canary.scaleDownDelaySeconds", "can only be used with traffic routing"},
      {"dynamicStableScale needs trafficRouting", canaryRollout("      dynamicStableScale: true\n"),
       "spec.strategy.canary.dynamicStableScale", "can only be used with traffic routing"},
      {"dynamicStableScale excludes scaleDownDelaySeconds",
       canaryRollout(routed("") +
                     "      dynamicStableScale: true\n      scaleDownDelaySeconds: 5\n"),
       "spec.strategy.canary.dynamicStableScale", "cannot be used with scaleDownDelaySeconds"},
      {"maxTrafficWeight only nginx/plugins",
       canaryRollout("      trafficRouting:\n        smi: {}\n        maxTrafficWeight: 1000\n"),
       "spec.strategy.canary.trafficRouting.maxTrafficWeight", "only support in Nginx and Plugins"},
      {"maxTrafficWeight positive", canaryRollout(routed("        maxTrafficWeight: 0\n")),
       "spec.strategy.canary.trafficRouting.maxTrafficWeight", "must be greater than 0"},
      {"scaleDownDelayRevisionLimit <= revisionHistoryLimit",
       canaryRollout(routed("") + "      scaleDownDelayRevisionLimit: 5\n",
                     "  revisionHistoryLimit: 2\n"),
       "spec.strategy.canary.scaleDownDelayRevisionLimit",
       "revision history limit can not be smaller"},
      {"step needs a type", canaryRollout(steps + "      - {}\n"), "spec.strategy.canary.steps[0]",
       "Step must have one of the following set"},
      {"step types exclusive", canaryRollout(steps + "      - {setWeight: 10, pause: {}}\n"),
       "spec.strategy.canary.steps[0]", "only one of setWeight, pause, experiment, analysis"},
      {"setWeight >= 0", canaryRollout(steps + "      - setWeight: -1\n"),
       "spec.strategy.canary.steps[0].setWeight", "SetWeight needs to be between 0 and 100"},
      {"setWeight <= 100", canaryRollout(steps + "      - setWeight: 101\n"),
       "spec.strategy.canary.steps[0].setWeight", "SetWeight needs to be between 0 and 100"},
      {"setWeight <= maxTrafficWeight",
       canaryRollout(routed("        maxTrafficWeight: 1000\n") + steps +
                     "      - setWeight: 1001\n"),
       "spec.strategy.canary.steps[0].setWeight", "between 0 and 1000"},
      {"pause duration not negative",
       canaryRollout(
           steps + "      - setWeight: 10\n      - setWeight: 20\n      - pause: {duration: -5}\n"),
       "spec.strategy.canary.steps[2].pause.duration", "must not be negative"},
      {"pause duration negative string",
       canaryRollout(steps + "      - pause: {duration: \"-1m\"}\n"),
       "spec.strategy.canary.steps[0].pause.duration", "must not be negative"},
      {"pause duration parses", canaryRollout(steps + "      - pause: {duration: soon}\n"),
       "spec.strategy.canary.steps[0].pause.duration", "a duration such as"},
      {"setCanaryScale needs trafficRouting",
       canaryRollout(steps + "      - setCanaryScale: {weight: 50}\n"),
       "spec.strategy.canary.steps[0].setCanaryScale", "requires TrafficRouting"},
      {"setCanaryScale exactly one",
       canaryRollout(routed("") + steps + "      - setCanaryScale: {weight: 50, replicas: 2}\n"),
       "spec.strategy.canary.steps[0].setCanaryScale", "exactly one of weight, replicas"},
      {"setHeaderRoute needs trafficRouting",
       canaryRollout(steps + "      - setHeaderRoute: {name: h}\n"),
       "spec.strategy.canary.steps[0].setHeaderRoute", "SetHeaderRoute requires TrafficRouting"},
      {"setHeaderRoute needs managedRoutes",
       canaryRollout(routed("") + steps + "      - setHeaderRoute: {name: h}\n"),
       "spec.strategy.canary.trafficRouting.managedRoutes", "missing field"},
      {"setHeaderRoute name in managedRoutes",
       canaryRollout(routed("        managedRoutes: [{name: other}]\n") + steps +
                     "      - setHeaderRoute: {name: h}\n"),
       "spec.strategy.canary.steps[0].setHeaderRoute.name", "is not in spec.strategy.canary"},
      {"header match exactly one value",
       canaryRollout(routed("        managedRoutes: [{name: h}]\n") + steps +
                     "      - setHeaderRoute:\n          name: h\n          match:\n"
                     "          - {headerName: x, headerValue: {exact: a, prefix: b}}\n"),
       "spec.strategy.canary.steps[0].setHeaderRoute.match[0].headerValue",
       "exactly one of the following: exact, regex, prefix"},
      {"header match needs a value",
       canaryRollout(routed("        managedRoutes: [{name: h}]\n") + steps +
                     "      - setHeaderRoute:\n          name: h\n          match:\n"
                     "          - {headerName: x}\n"),
       "spec.strategy.canary.steps[0].setHeaderRoute.match[0].headerValue",
       "StringMatch value missed"},
      {"ALB header match exact only",
       canaryRollout("      trafficRouting:\n        alb: {ingress: i, servicePort: 80}\n"
                     "        managedRoutes: [{name: h}]\n" +
                     steps +
                     "      - setHeaderRoute:\n          name: h\n          match:\n"
                     "          - {headerName: x, headerValue: {prefix: b}}\n"),
       "spec.strategy.canary.steps[0].setHeaderRoute.match[0]", "ALB supports 'exact' value only"},
      {"setMirrorRoute needs istio or plugins",
       canaryRollout("      trafficRouting:\n        nginx: {stableIngress: i}\n"
                     "        managedRoutes: [{name: m}]\n" +
                     steps + "      - setMirrorRoute: {name: m, percentage: 10}\n"),
       "spec.strategy.canary.steps[0].setMirrorRoute", "SetMirrorRoute requires TrafficRouting"},
      {"setMirrorRoute name in managedRoutes",
       canaryRollout(routed("        managedRoutes: [{name: other}]\n") + steps +
                     "      - setMirrorRoute: {name: m, percentage: 10}\n"),
       "spec.strategy.canary.steps[0].setMirrorRoute.name", "is not in spec.strategy.canary"},
      {"mirror match one value",
       canaryRollout(routed("        managedRoutes: [{name: m}]\n") + steps +
                     "      - setMirrorRoute:\n          name: m\n          match:\n"
                     "          - method: {exact: GET, regex: P.*}\n"),
       "spec.strategy.canary.steps[0].setMirrorRoute.match[0].method", "exactly one of"},
      {"mirror percentage range",
       canaryRollout(routed("        managedRoutes: [{name: m}]\n") + steps +
                     "      - setMirrorRoute: {name: m, percentage: 120}\n"),
       "spec.strategy.canary.steps[0].setMirrorRoute.percentage", "between 0 and 100"},
      {"experiment weight needs trafficRouting",
       canaryRollout(steps + "      - experiment:\n          templates:\n"
                             "          - {name: c, specRef: canary, weight: 10}\n"),
       "spec.strategy.canary.steps[0].experiment.templates[0].weight",
       "cannot be set unless TrafficRouting"},
      {"experiment weight needs SMI/ALB/Istio",
       canaryRollout(routed("") + steps +
                     "      - experiment:\n          templates:\n"
                     "          - {name: c, specRef: canary, weight: 10}\n"),
       "spec.strategy.canary.steps[0].experiment.templates[0].weight",
       "only available for TrafficRouting with SMI"},
      {"experiment specRef",
       canaryRollout(steps + "      - experiment:\n          templates:\n"
                             "          - {name: c, specRef: newest}\n"),
       "spec.strategy.canary.steps[0].experiment.templates[0].specRef", "must be stable or canary"},
      {"experiment duration parses",
       canaryRollout(steps +
                     "      - experiment:\n          duration: 5 minutes\n          templates:\n"
                     "          - {name: c, specRef: canary}\n"),
       "spec.strategy.canary.steps[0].experiment.duration", "duration"},
      {"analysis step needs a template",
       canaryRollout(steps + "      - analysis: {templates: []}\n"),
       "spec.strategy.canary.steps[0].analysis.templates", "at least one template"},
      {"analysis args downward API",
       canaryRollout(steps + "      - analysis:\n          templates: [{templateName: t}]\n"
                             "          args: [{name: a, valueFrom: {fieldRef: {fieldPath: "
                             "metadata.ownerReferences}}}]\n"),
       "spec.strategy.canary.steps[0].analysis.args[0].valueFrom.fieldRef.fieldPath",
       "downward API"},
      {"podTemplateHashValue Stable/Latest",
       canaryRollout(steps +
                     "      - analysis:\n          templates: [{templateName: t}]\n"
                     "          args: [{name: a, valueFrom: {podTemplateHashValue: Newest}}]\n"),
       "spec.strategy.canary.steps[0].analysis.args[0].valueFrom.podTemplateHashValue",
       "must be Stable or Latest"},
      {"dryRun regex valid",
       canaryRollout(steps + "      - analysis:\n          templates: [{templateName: t}]\n"
                             "          dryRun: [{metricName: \"*\"}]\n"),
       "spec.strategy.canary.steps[0].analysis.dryRun[0].metricName",
       "not a valid regular expression"},
      {"measurementRetention regex valid",
       canaryRollout(steps + "      - analysis:\n          templates: [{templateName: t}]\n"
                             "          measurementRetention: [{metricName: \"(\", limit: 5}]\n"),
       "spec.strategy.canary.steps[0].analysis.measurementRetention[0].metricName",
       "not a valid regular expression"},
      {"background startingStep in range",
       canaryRollout("      analysis: {templates: [{templateName: t}], startingStep: 3}\n" + steps +
                     "      - setWeight: 10\n"),
       "spec.strategy.canary.analysis.startingStep", "between 0 and the number of steps"},
      {"antiAffinity exactly one", canaryRollout("      antiAffinity: {}\n"),
       "spec.strategy.canary.antiAffinity", "exactly one strategy"},
      {"antiAffinity weight range",
       canaryRollout(
           "      antiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: {weight: 0}}\n"),
       "spec.strategy.canary.antiAffinity.preferredDuringSchedulingIgnoredDuringExecution.weight",
       "between 1-100"},
      {"pingPong only with ALB, Istio and plugins",
       canaryRollout("      trafficRouting: {smi: {}}\n"
                     "      pingPong: {pingService: a, pongService: b}\n"),
       "spec.strategy.canary.trafficRouting.alb",
       "works with the ALB, Istio, and plugin-based traffic routers only"},
      {"pingPong services differ",
       canaryRollout("      pingPong: {pingService: a, pongService: a}\n"),
       "spec.strategy.canary.pingPong.pingService", "same service for the ping and pong"},
      {"pingPong ALB rootService",
       canaryRollout("      trafficRouting: {alb: {ingress: i, servicePort: 80}}\n"
                     "      pingPong: {pingService: a, pongService: b}\n"),
       "spec.strategy.canary.trafficRouting.alb.rootService", "Root service field is required"},
      {"cpu is a quantity", withResources("{limits: {cpu: lots}}"),
       "spec.template.spec.containers[0].resources.limits.cpu", "\"lots\" is not a quantity"},
      {"memory suffix is Kubernetes'", withResources("{requests: {memory: 12XB}}"),
       "spec.template.spec.containers[0].resources.requests.memory", "unknown suffix \"XB\""},
      {"quantity has no space", withResources("{requests: {memory: 1 Gi}}"),
       "spec.template.spec.containers[0].resources.requests.memory", "not a quantity"},
      {"quantity non-negative", withResources("{requests: {cpu: -1}}"),
       "spec.template.spec.containers[0].resources.requests.cpu", "greater than or equal to 0"},
      {"request at most the limit", withResources("{limits: {cpu: 500m}, requests: {cpu: \"1\"}}"),
       "spec.template.spec.containers[0].resources.requests.cpu",
       "less than or equal to cpu limit of 500m"},
      {"quantity is a string or number", withResources("{limits: {cpu: [1]}}"),
       "spec.template.spec.containers[0].resources.limits.cpu", "must be a quantity"},
      {"replicaProgressThreshold type",
       canaryRollout("      replicaProgressThreshold: {type: Pod, value: 1}\n"),
       "spec.strategy.canary.replicaProgressThreshold.type", "must be Percent or Pods"},
      {"canary serviceRouting takes plugins only",
       canaryRollout("      serviceRouting: {nginx: {stableIngress: web}}\n"),
       "spec.strategy.canary.serviceRouting", "takes only plugins"},
      {"canary serviceRouting needs a router", canaryRollout("      serviceRouting: {}\n"),
       "spec.strategy.canary.serviceRouting", "must configure a router under plugins"},
      {"canary serviceRouting or trafficRouting",
       canaryRollout(routed("      serviceRouting: {plugins: {ramp/haproxy: {backend: b}}}\n")),
       "spec.strategy.canary.serviceRouting", "cannot be used with trafficRouting"},
      // --- blue-green ---
      {"activeService required", blueGreenRollout("      previewService: p\n"),
       "spec.strategy.blueGreen.activeService", "missing field"},
      {"preview differs from active",
       blueGreenRollout("      activeService: a\n      previewService: a\n"),
       "spec.strategy.blueGreen.activeService", "same service for the active and preview"},
      {"blueGreen scaleDownDelayRevisionLimit",
       blueGreenRollout("      activeService: a\n      scaleDownDelayRevisionLimit: 3\n",
                        "  revisionHistoryLimit: 1\n"),
       "spec.strategy.blueGreen.scaleDownDelayRevisionLimit", "can not be smaller"},
      {"autoPromotionSeconds non-negative",
       blueGreenRollout("      activeService: a\n      autoPromotionSeconds: -1\n"),
       "spec.strategy.blueGreen.autoPromotionSeconds", "greater than or equal to 0"},
      {"prePromotionAnalysis template",
       blueGreenRollout("      activeService: a\n      prePromotionAnalysis: {templates: [{}]}\n"),
       "spec.strategy.blueGreen.prePromotionAnalysis.templates[0].templateName", "must be set"},
      {"blueGreen antiAffinity",
       blueGreenRollout("      activeService: a\n      antiAffinity: {}\n"),
       "spec.strategy.blueGreen.antiAffinity", "exactly one strategy"},
      {"blueGreen trafficRouting takes plugins only",
       blueGreenRollout("      activeService: a\n"
                        "      trafficRouting: {istio: {virtualService: {name: vs}}}\n"),
       "spec.strategy.blueGreen.trafficRouting", "takes only plugins"},
      {"blueGreen trafficRouting needs a router",
       blueGreenRollout("      activeService: a\n      trafficRouting: {}\n"),
       "spec.strategy.blueGreen.trafficRouting", "must configure a router under plugins"},
      // --- metrics (ValidateMetric) ---
      {"no metrics", R"(apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: t}
spec: {metrics: []}
)",
       "spec.metrics", "no metrics specified"},
      {"metric names unique",
       analysisTemplate("  - name: success-rate\n    provider: {prometheus: {query: q}}\n"),
       "spec.metrics[1].name", "duplicate metric name"},
      {"metric name required", analysisTemplate("  - provider: {prometheus: {query: q}}\n"),
       "spec.metrics[1].name", "must be set"},
      {"count non-negative", analysisTemplate("    count: -1\n"), "spec.metrics[0].count",
       "must be >= 0"},
      {"failureLimit >= -1", analysisTemplate("    failureLimit: -2\n"),
       "spec.metrics[0].failureLimit", "must be >= -1"},
      {"failureLimit -1 needs consecutiveSuccessLimit", analysisTemplate("    failureLimit: -1\n"),
       "spec.metrics[0].failureLimit", "needs consecutiveSuccessLimit > 0"},
      {"inconclusiveLimit non-negative", analysisTemplate("    inconclusiveLimit: -1\n"),
       "spec.metrics[0].inconclusiveLimit", "must be >= 0"},
      {"consecutiveErrorLimit non-negative", analysisTemplate("    consecutiveErrorLimit: -1\n"),
       "spec.metrics[0].consecutiveErrorLimit", "must be >= 0"},
      {"consecutiveSuccessLimit non-negative",
       analysisTemplate("    consecutiveSuccessLimit: -1\n"),
       "spec.metrics[0].consecutiveSuccessLimit", "must be >= 0"},
      {"count >= failureLimit + consecutiveSuccessLimit",
       analysisTemplate(
           "    count: 3\n    interval: 1m\n    failureLimit: 2\n    consecutiveSuccessLimit: 2\n"),
       "spec.metrics[0].count", "must be >= failureLimit + consecutiveSuccessLimit"},
      {"count >= inconclusiveLimit",
       analysisTemplate("    count: 2\n    interval: 1m\n    inconclusiveLimit: 3\n"),
       "spec.metrics[0].count", "must be >= inconclusiveLimit"},
      {"count > 1 needs interval", analysisTemplate("    count: 2\n"), "spec.metrics[0].interval",
       "must be set when count > 1"},
      {"interval parses", analysisTemplate("    interval: 5 minutes\n"), "spec.metrics[0].interval",
       "invalid interval"},
      {"initialDelay parses", analysisTemplate("    initialDelay: 60s-typo\n"),
       "spec.metrics[0].initialDelay", "invalid initialDelay"},
      {"limits are integers or placeholders", analysisTemplate("    failureLimit: many\n"),
       "spec.metrics[0].failureLimit", "must be an integer or a {{args.name}} placeholder"},
      {"exactly one provider",
       analysisTemplate("  - name: two\n    provider:\n      prometheus: {query: q}\n"
                        "      web: {url: \"http://x\"}\n"),
       "spec.metrics[1].provider", "multiple providers specified"},
      {"a provider", analysisTemplate("  - name: none\n    provider: {}\n"),
       "spec.metrics[1].provider", "no provider specified"},
      {"web url required",
       analysisTemplate("  - name: w\n    provider: {web: {jsonPath: \"{$}\"}}\n"),
       "spec.metrics[1].provider.web.url", "must be set"},
      {"web body needs POST/PUT",
       analysisTemplate("  - name: w\n    provider: {web: {url: \"http://x\", body: b}}\n"),
       "spec.metrics[1].provider.web.method", "needs method POST or PUT"},
      {"prometheus query required",
       analysisTemplate("  - name: p\n    provider: {prometheus: {address: \"http://x\"}}\n"),
       "spec.metrics[1].provider.prometheus.query", "must be set"},
      {"template args unique", analysisTemplate("", "  args: [{name: a}, {name: a}]\n"),
       "spec.args[1].name", "duplicate argument"},
      {"arg value xor valueFrom",
       analysisTemplate(
           "", "  args: [{name: a, value: x, valueFrom: {secretKeyRef: {name: s, key: k}}}]\n"),
       "spec.args[0]", "value and valueFrom cannot both be set"},
      {"template dryRun regex", analysisTemplate("", "  dryRun: [{metricName: \"[\"}]\n"),
       "spec.dryRun[0].metricName", "not a valid regular expression"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rule);
    auto ds = lint(c.yaml);
    bool found = false;
    for (const Diagnostic& d : ds) {
      if (d.severity == Severity::kError && d.path == c.path &&
          d.message.find(c.message) != std::string::npos) {
        found = true;
        EXPECT_GT(d.line, 0) << "error not placed in the source: " << formatDiagnostic(d);
      }
    }
    EXPECT_TRUE(found) << "rule \"" << c.rule << "\" not reported at " << c.path << "\n"
                       << c.yaml << "got:\n"
                       << dump(ds);
  }
}

TEST(ValidationTest, KubernetesQuantitiesAreAccepted) {
  auto ds = lint(withResources(
      "{limits: {cpu: \"2\", memory: 1Gi, ephemeral-storage: 1e9, nvidia.com/gpu: 1}, "
      "requests: {cpu: 500m, memory: 512Mi, ephemeral-storage: \"0.5G\"}}"));
  EXPECT_FALSE(hasErrors(ds)) << dump(ds);
}

// Argo's current ping-pong rules (validation.go: ping-pong with ALB, Istio or a plugin; then the
// canary and stable Services are not required). Argo's own e2e example of an Istio host split
// with ping-pong (test/e2e/istio/istio-host-split-ping-pong.yaml) is in the examples test.
TEST(ValidationTest, PingPongWithIstioAlbOrPluginsNeedsNoCanaryOrStableService) {
  const std::string noServices = [] {
    std::string y = canaryRollout("");
    y.erase(y.find("      canaryService"),
            std::string("      canaryService: demo-canary\n").size());
    y.erase(y.find("      stableService"),
            std::string("      stableService: demo-stable\n").size());
    return y;
  }();
  for (const std::string routing :
       {"      trafficRouting: {istio: {virtualService: {name: vs, routes: [primary]}}}\n",
        "      trafficRouting: {alb: {ingress: i, servicePort: 80, rootService: root}}\n",
        "      trafficRouting: {plugins: {argoproj-labs/gatewayAPI: {httpRoute: r}}}\n"}) {
    SCOPED_TRACE(routing);
    auto ds =
        lint(noServices + routing + "      pingPong: {pingService: ping, pongService: pong}\n");
    EXPECT_FALSE(hasErrors(ds)) << dump(ds);
  }
  // Without ping-pong, Istio's host split still needs both Services.
  auto ds =
      lint(noServices +
           "      trafficRouting: {istio: {virtualService: {name: vs, routes: [primary]}}}\n");
  EXPECT_TRUE(hasErrors(ds)) << dump(ds);
}

TEST(ValidationTest, UnknownKindOfArgoprojIsAnErrorOtherArgoKindsAreSkipped) {
  std::string yaml = canaryRollout("");
  yaml.replace(yaml.find("kind: Rollout"), 13, "kind: Rolout");
  LintResult r = lintText(yaml, "case.yaml");
  ASSERT_TRUE(hasErrors(r.diagnostics)) << dump(r.diagnostics);
  EXPECT_EQ(formatDiagnostic(r.diagnostics[0]),
            "case.yaml:2:7: kind: \"Rolout\" is not a kind of argoproj.io: did you mean Rollout?");
  EXPECT_TRUE(r.documents.empty());
  // Kinds of other Argo projects, and Argo Rollouts' Experiment, are skipped with a remark.
  for (const char* kind : {"ApplicationSet", "Workflow", "Sensor", "Experiment"}) {
    SCOPED_TRACE(kind);
    auto ds = lint(std::string("apiVersion: argoproj.io/v1alpha1\nkind: ") + kind +
                   "\nmetadata: {name: x}\n");
    EXPECT_FALSE(hasErrors(ds)) << dump(ds);
    ASSERT_EQ(ds.size(), 1u);
    EXPECT_NE(ds[0].message.find("skipped"), std::string::npos) << dump(ds);
  }
  // A kind far from every kind ramp manages gets the list instead of a guess.
  auto ds = lint("apiVersion: argoproj.io/v1alpha1\nkind: Widget\nmetadata: {name: x}\n");
  ASSERT_TRUE(hasErrors(ds));
  EXPECT_NE(ds[0].message.find("ramp manages Rollout, AnalysisTemplate"), std::string::npos)
      << dump(ds);
}

TEST(ValidationTest, PlaceholdersSkipNumericChecks) {
  auto ds =
      lint(analysisTemplate("    count: \"{{args.count}}\"\n    interval: \"{{args.interval}}\"\n"
                            "    failureLimit: \"{{args.limit}}\"\n",
                            "  args: [{name: count}, {name: interval}, {name: limit}]\n"));
  EXPECT_FALSE(hasErrors(ds)) << dump(ds);
}

TEST(ValidationTest, FailureLimitMinusOneWithConsecutiveSuccessIsValid) {
  auto ds = lint(analysisTemplate(
      "    count: 5\n    interval: 1m\n    failureLimit: -1\n    consecutiveSuccessLimit: 3\n"));
  EXPECT_FALSE(hasErrors(ds)) << dump(ds);
}

TEST(ValidationTest, BarePercentStringIsAWarningNotAnError) {
  auto ds = lint(canaryRollout("      maxSurge: \"1\"\n"));
  EXPECT_FALSE(hasErrors(ds)) << dump(ds);
  bool warned = false;
  for (const Diagnostic& d : ds) {
    warned =
        warned || (d.severity == Severity::kWarning && d.path == "spec.strategy.canary.maxSurge" &&
                   d.message.find("read as 1%") != std::string::npos);
  }
  EXPECT_TRUE(warned) << dump(ds);
}

TEST(ValidationTest, IgnoredWithoutTrafficRoutingIsAWarning) {
  auto ds =
      lint(canaryRollout("      abortScaleDownDelaySeconds: 10\n      minPodsPerReplicaSet: 2\n"));
  EXPECT_FALSE(hasErrors(ds)) << dump(ds);
  int warnings = 0;
  for (const Diagnostic& d : ds) warnings += d.severity == Severity::kWarning;
  EXPECT_EQ(warnings, 2) << dump(ds);
}

TEST(ValidationTest, ReportsEveryErrorNotOnlyTheFirst) {
  auto ds =
      lint(canaryRollout("      steps:\n      - setWeight: 101\n      - pause: {duration: -1}\n"
                         "      - {}\n"));
  int errors = 0;
  for (const Diagnostic& d : ds) errors += d.severity == Severity::kError;
  EXPECT_EQ(errors, 3) << dump(ds);
}

TEST(ValidationTest, ErrorIsPlacedAtTheOffendingLine) {
  std::string yaml = canaryRollout(
      "      steps:\n      - setWeight: 10\n      - setWeight: 20\n"
      "      - pause: {duration: -5}\n");
  auto ds = lint(yaml);
  ASSERT_EQ(ds.size(), 1u) << dump(ds);
  // Line of "pause: {duration: -5}" and column of the value -5.
  int line = 1;
  size_t at = yaml.find("duration: -5");
  for (size_t i = 0; i < at; ++i) line += yaml[i] == '\n';
  size_t lineStart = yaml.rfind('\n', at) + 1;
  EXPECT_EQ(ds[0].line, line);
  EXPECT_EQ(ds[0].column, static_cast<int>(at - lineStart + 1 + std::string("duration: ").size()));
  EXPECT_EQ(formatDiagnostic(ds[0]),
            "case.yaml:" + std::to_string(line) + ":" + std::to_string(ds[0].column) +
                ": spec.strategy.canary.steps[2].pause.duration: must not be negative");
}

}  // namespace
}  // namespace ramp::spec
