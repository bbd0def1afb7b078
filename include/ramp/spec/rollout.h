#pragma once

// The Rollout kind of argoproj.io/v1alpha1: its spec (pod template, canary and blue-green
// strategies, steps, traffic routing, analysis hook-up) and its status.
//
// Field names follow Argo's YAML. Optional fields whose absence means "use Argo's default" are
// std::optional, so a manifest round-trips exactly as written; the effective value comes from
// the *OrDefault helpers at the end of this file (the defaults live there, once). Fields ramp
// does not interpret (routers for Kubernetes meshes, Kubernetes PodSpec fields outside the
// typed subset) are kept as RawJson, still checked for known field names by src/spec.
//
// Plain value types: no I/O, no validation (src/spec does both). Thread safety: none needed.

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ramp/clock.h"
#include "ramp/spec/analysis.h"
#include "ramp/spec/meta.h"

namespace ramp::spec {

// --- Kubernetes pieces --------------------------------------------------------------------------

struct LabelSelectorRequirement {
  std::string key;
  std::string operator_;  // "operator" in YAML: In, NotIn, Exists, DoesNotExist
  std::vector<std::string> values;
  bool operator==(const LabelSelectorRequirement&) const = default;
};

struct LabelSelector {
  std::map<std::string, std::string> matchLabels;
  std::vector<LabelSelectorRequirement> matchExpressions;
  bool operator==(const LabelSelector&) const = default;
};

struct HttpHeader {
  std::string name;
  std::string value;
  bool operator==(const HttpHeader&) const = default;
};

struct HttpGetAction {
  std::string path;
  IntOrString port;  // a number or the name of a container port
  std::string host;
  std::string scheme;  // HTTP (default) or HTTPS
  std::vector<HttpHeader> httpHeaders;
  bool operator==(const HttpGetAction&) const = default;
};

struct TcpSocketAction {
  IntOrString port;
  std::string host;
  bool operator==(const TcpSocketAction&) const = default;
};

struct ExecAction {
  std::vector<std::string> command;
  bool operator==(const ExecAction&) const = default;
};

// Kubernetes Probe. Unset numbers take Kubernetes' defaults (period 10 s, timeout 1 s,
// success 1, failure 3, initial delay 0): see the *OrDefault helpers below.
struct Probe {
  std::optional<HttpGetAction> httpGet;
  std::optional<TcpSocketAction> tcpSocket;
  std::optional<ExecAction> exec;
  std::optional<int32_t> initialDelaySeconds;
  std::optional<int32_t> periodSeconds;
  std::optional<int32_t> timeoutSeconds;
  std::optional<int32_t> successThreshold;
  std::optional<int32_t> failureThreshold;
  // Other known Probe fields (grpc, terminationGracePeriodSeconds) kept raw by YAML key.
  std::map<std::string, RawJson> extra;
  bool operator==(const Probe&) const = default;
};

struct ContainerPort {
  std::string name;
  int32_t containerPort = 0;
  std::string protocol;  // TCP (default), UDP, SCTP
  std::optional<int32_t> hostPort;
  std::string hostIP;
  bool operator==(const ContainerPort&) const = default;
};

// A Kubernetes container: the fields the local process platform runs are typed; every other
// known Container field is kept raw in `extra` (YAML key -> JSON).
struct Container {
  std::string name;
  std::string image;
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::string workingDir;
  std::vector<EnvVar> env;  // EnvVar is declared in analysis.h
  std::vector<ContainerPort> ports;
  std::optional<Probe> readinessProbe;
  std::optional<Probe> livenessProbe;
  std::optional<Probe> startupProbe;
  RawJson resources;
  std::map<std::string, RawJson> extra;
  bool operator==(const Container&) const = default;
};

struct PodSpec {
  std::vector<Container> containers;
  std::vector<Container> initContainers;
  // Every other known PodSpec field (volumes, affinity, serviceAccountName, …) kept raw.
  std::map<std::string, RawJson> extra;
  bool operator==(const PodSpec&) const = default;
};

// Labels and annotations only (Argo's PodTemplateMetadata; also the metadata of a pod template).
struct PodTemplateMetadata {
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  bool operator==(const PodTemplateMetadata&) const = default;
};

struct PodTemplateSpec {
  PodTemplateMetadata metadata;
  PodSpec spec;
  bool operator==(const PodTemplateSpec&) const = default;
};

// spec.workloadRef: the pod template comes from another object.
struct WorkloadRef {
  std::string apiVersion;
  std::string kind;  // Deployment, ReplicaSet or PodTemplate
  std::string name;
  std::string scaleDown;  // "", never, onsuccess, progressively
  bool operator==(const WorkloadRef&) const = default;
};

// --- analysis hook-up ----------------------------------------------------------------------------

struct AnalysisRunMetadata {
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  bool operator==(const AnalysisRunMetadata&) const = default;
};

// RolloutAnalysis: used by a canary `analysis` step and blue-green pre/post promotion.
struct RolloutAnalysis {
  std::vector<AnalysisTemplateRef> templates;
  std::vector<Argument> args;  // value, or valueFrom {podTemplateHashValue | fieldRef}
  std::vector<DryRun> dryRun;
  std::vector<MeasurementRetention> measurementRetention;
  std::optional<AnalysisRunMetadata> analysisRunMetadata;
  bool operator==(const RolloutAnalysis&) const = default;
};

// Background analysis of a canary: not created before step index `startingStep` (default 0).
struct RolloutAnalysisBackground : RolloutAnalysis {
  std::optional<int32_t> startingStep;
  bool operator==(const RolloutAnalysisBackground&) const = default;
};

// --- canary steps
// ---------------------------------------------------------------------------------

struct RolloutPause {
  // int = seconds; string = integer seconds or a Go duration ("30s", "1h30m"). Unset = pause
  // until promoted. Use pauseDurationSeconds() in src/spec to interpret.
  std::optional<IntOrString> duration;
  bool operator==(const RolloutPause&) const = default;
};

struct ExperimentService {
  std::string name;
  bool operator==(const ExperimentService&) const = default;
};

struct RolloutExperimentTemplate {
  std::string name;
  std::string specRef;  // "stable" or "canary"
  std::optional<int32_t> replicas;
  PodTemplateMetadata metadata;
  std::optional<LabelSelector> selector;
  std::optional<int32_t> weight;
  std::optional<ExperimentService> service;
  bool operator==(const RolloutExperimentTemplate&) const = default;
};

struct RolloutExperimentStepAnalysisTemplateRef {
  std::string name;
  std::string templateName;
  bool clusterScope = false;
  std::vector<Argument> args;
  bool requiredForCompletion = false;
  bool operator==(const RolloutExperimentStepAnalysisTemplateRef&) const = default;
};

struct RolloutExperimentStep {
  std::vector<RolloutExperimentTemplate> templates;
  std::string duration;  // Go duration, "" = until the step is left
  std::vector<RolloutExperimentStepAnalysisTemplateRef> analyses;
  std::vector<DryRun> dryRun;
  std::optional<AnalysisRunMetadata> analysisRunMetadata;
  bool operator==(const RolloutExperimentStep&) const = default;
};

struct SetCanaryScale {
  std::optional<int32_t> weight;
  std::optional<int32_t> replicas;
  bool matchTrafficWeight = false;
  bool operator==(const SetCanaryScale&) const = default;
};

// Exactly one member is set on a valid match.
struct StringMatch {
  std::string exact;
  std::string prefix;
  std::string regex;
  bool operator==(const StringMatch&) const = default;
};

struct HeaderRoutingMatch {
  std::string headerName;
  StringMatch headerValue;
  bool operator==(const HeaderRoutingMatch&) const = default;
};

// A step with `name` and no `match` removes the route.
struct SetHeaderRoute {
  std::string name;
  std::vector<HeaderRoutingMatch> match;
  bool operator==(const SetHeaderRoute&) const = default;
};

struct RouteMatch {
  std::optional<StringMatch> method;
  std::optional<StringMatch> path;
  std::map<std::string, StringMatch> headers;
  bool operator==(const RouteMatch&) const = default;
};

struct SetMirrorRoute {
  std::string name;
  std::vector<RouteMatch> match;  // OR'ed; fields inside one match AND'ed; empty removes
  std::optional<int32_t> percentage;
  bool operator==(const SetMirrorRoute&) const = default;
};

struct PluginStep {
  std::string name;
  RawJson config;
  bool operator==(const PluginStep&) const = default;
};

// One canary step. Exactly one member is set on a valid step (validation enforces Argo's rule).
struct CanaryStep {
  std::optional<int32_t> setWeight;
  std::optional<RolloutPause> pause;
  std::optional<RolloutExperimentStep> experiment;
  std::optional<RolloutAnalysis> analysis;
  std::optional<SetCanaryScale> setCanaryScale;
  std::optional<SetHeaderRoute> setHeaderRoute;
  std::optional<SetMirrorRoute> setMirrorRoute;
  std::optional<PluginStep> plugin;
  bool operator==(const CanaryStep&) const = default;
};

// --- traffic routing
// ------------------------------------------------------------------------------

struct ManagedRoute {
  std::string name;
  bool operator==(const ManagedRoute&) const = default;
};

// spec.strategy.canary.trafficRouting. Kubernetes routers ramp does not drive yet are kept as
// raw JSON (empty = absent); `plugins` is how ramp's own routers are configured
// ("ramp/haproxy", "ramp/nginx").
struct TrafficRouting {
  RawJson istio;
  RawJson nginx;
  RawJson alb;
  RawJson smi;
  RawJson ambassador;
  RawJson appMesh;
  RawJson traefik;
  RawJson apisix;
  std::map<std::string, RawJson> plugins;
  std::vector<ManagedRoute> managedRoutes;
  std::optional<int32_t> maxTrafficWeight;  // default 100
  bool operator==(const TrafficRouting&) const = default;

  // True when no router at all is configured.
  bool noRouter() const {
    return istio.empty() && nginx.empty() && alb.empty() && smi.empty() && ambassador.empty() &&
           appMesh.empty() && traefik.empty() && apisix.empty() && plugins.empty();
  }
};

// --- strategies ----------------------------------------------------------------------------------

struct PreferredDuringScheduling {
  int32_t weight = 0;  // 1..100
  bool operator==(const PreferredDuringScheduling&) const = default;
};

struct AntiAffinity {
  std::optional<PreferredDuringScheduling> preferredDuringSchedulingIgnoredDuringExecution;
  bool requiredDuringSchedulingIgnoredDuringExecution = false;  // present ({}) or not
  bool operator==(const AntiAffinity&) const = default;
};

struct PingPongSpec {
  std::string pingService;
  std::string pongService;
  bool operator==(const PingPongSpec&) const = default;
};

struct ReplicaProgressThreshold {
  std::string type;  // "Percent" or "Pods"
  int32_t value = 0;
  bool operator==(const ReplicaProgressThreshold&) const = default;
};

struct CanaryStrategy {
  std::string canaryService;
  std::string stableService;
  std::vector<CanaryStep> steps;
  std::optional<TrafficRouting> trafficRouting;
  std::optional<IntOrString> maxUnavailable;  // default 25% (rounded down)
  std::optional<IntOrString> maxSurge;        // default 25% (rounded up)
  std::optional<RolloutAnalysisBackground> analysis;
  std::optional<AntiAffinity> antiAffinity;
  std::optional<PodTemplateMetadata> canaryMetadata;
  std::optional<PodTemplateMetadata> stableMetadata;
  std::optional<int32_t> scaleDownDelaySeconds;        // default 30, traffic-routed only
  std::optional<int32_t> scaleDownDelayRevisionLimit;  // unset = unlimited
  std::optional<int32_t> abortScaleDownDelaySeconds;   // default 30, traffic-routed only
  bool dynamicStableScale = false;
  std::optional<PingPongSpec> pingPong;
  std::optional<int32_t> minPodsPerReplicaSet;
  std::optional<ReplicaProgressThreshold> replicaProgressThreshold;
  // ramp's extension (not in Argo's schema, where a Kubernetes Service selects every pod of a
  // canary without trafficRouting): on plain hosts the routers' backends play that Service's
  // role, holding the ready replicas of both revisions alike, so traffic follows the replica
  // counts of Argo's basic canary. Only `plugins` (ramp/haproxy, ramp/nginx) is accepted, and
  // not together with trafficRouting. See docs/routers/haproxy.md.
  std::optional<TrafficRouting> serviceRouting;
  bool operator==(const CanaryStrategy&) const = default;
};

struct BlueGreenStrategy {
  std::string activeService;
  std::string previewService;
  std::optional<int32_t> previewReplicaCount;
  std::optional<bool> autoPromotionEnabled;  // default true
  int32_t autoPromotionSeconds = 0;
  std::optional<IntOrString> maxUnavailable;     // restarts only; default 25%
  std::optional<int32_t> scaleDownDelaySeconds;  // default 30
  std::optional<int32_t> scaleDownDelayRevisionLimit;
  std::optional<RolloutAnalysis> prePromotionAnalysis;
  std::optional<RolloutAnalysis> postPromotionAnalysis;
  std::optional<AntiAffinity> antiAffinity;
  std::optional<PodTemplateMetadata> previewMetadata;
  std::optional<PodTemplateMetadata> activeMetadata;
  std::optional<int32_t> abortScaleDownDelaySeconds;  // default 30
  // ramp's extension (not in Argo's schema, which switches Kubernetes Services instead): on
  // plain hosts the routers' backends play the active and preview Services' role. Only
  // `plugins` (ramp/haproxy, ramp/nginx) is accepted. See docs/routers/haproxy.md.
  std::optional<TrafficRouting> trafficRouting;
  bool operator==(const BlueGreenStrategy&) const = default;
};

// Exactly one of the two is set on a valid Rollout.
struct RolloutStrategy {
  std::optional<CanaryStrategy> canary;
  std::optional<BlueGreenStrategy> blueGreen;
  bool operator==(const RolloutStrategy&) const = default;
};

struct AnalysisRunStrategy {
  std::optional<int32_t> successfulRunHistoryLimit;    // default 5
  std::optional<int32_t> unsuccessfulRunHistoryLimit;  // default 5
  bool operator==(const AnalysisRunStrategy&) const = default;
};

struct RollbackWindowSpec {
  int32_t revisions = 0;
  bool operator==(const RollbackWindowSpec&) const = default;
};

struct RolloutSpec {
  std::optional<int32_t> replicas;  // default 1
  std::optional<LabelSelector> selector;
  std::optional<PodTemplateSpec> template_;  // "template" in YAML
  std::optional<WorkloadRef> workloadRef;
  int32_t minReadySeconds = 0;
  std::optional<int32_t> revisionHistoryLimit;  // default 10
  bool paused = false;
  std::optional<int32_t> progressDeadlineSeconds;  // default 600
  bool progressDeadlineAbort = false;
  std::optional<Time> restartAt;
  std::optional<RollbackWindowSpec> rollbackWindow;
  std::optional<AnalysisRunStrategy> analysis;
  RolloutStrategy strategy;
  bool operator==(const RolloutSpec&) const = default;
};

// --- status --------------------------------------------------------------------------------------

enum class RolloutPhase { kNone, kHealthy, kProgressing, kPaused, kDegraded };

inline const char* rolloutPhaseName(RolloutPhase phase) {
  switch (phase) {
    case RolloutPhase::kNone: return "";
    case RolloutPhase::kHealthy: return "Healthy";
    case RolloutPhase::kProgressing: return "Progressing";
    case RolloutPhase::kPaused: return "Paused";
    case RolloutPhase::kDegraded: return "Degraded";
  }
  return "";
}

// Pause reasons (Argo's PauseReason values).
inline constexpr const char* kPauseReasonCanaryPauseStep = "CanaryPauseStep";
inline constexpr const char* kPauseReasonBlueGreenPause = "BlueGreenPause";
inline constexpr const char* kPauseReasonInconclusiveAnalysis = "InconclusiveAnalysisRun";
inline constexpr const char* kPauseReasonInconclusiveExperiment = "InconclusiveExperiment";

// Condition types (Argo's RolloutConditionType values).
inline constexpr const char* kConditionAvailable = "Available";
inline constexpr const char* kConditionProgressing = "Progressing";
inline constexpr const char* kConditionPaused = "Paused";
inline constexpr const char* kConditionCompleted = "Completed";
inline constexpr const char* kConditionHealthy = "Healthy";
inline constexpr const char* kConditionReplicaFailure = "ReplicaFailure";
inline constexpr const char* kConditionInvalidSpec = "InvalidSpec";

struct PauseCondition {
  std::string reason;
  Time startTime{};
  bool operator==(const PauseCondition&) const = default;
};

struct RolloutCondition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::optional<Time> lastUpdateTime;
  std::optional<Time> lastTransitionTime;
  std::string reason;
  std::string message;
  bool operator==(const RolloutCondition&) const = default;
};

struct RolloutAnalysisRunStatus {
  std::string name;
  AnalysisPhase status = AnalysisPhase::kNone;
  std::string message;
  bool operator==(const RolloutAnalysisRunStatus&) const = default;
};

struct WeightDestination {
  int32_t weight = 0;
  std::string serviceName;
  std::string podTemplateHash;
  bool operator==(const WeightDestination&) const = default;
};

struct TrafficWeights {
  WeightDestination canary;
  WeightDestination stable;
  std::vector<WeightDestination> additional;
  std::optional<bool> verified;
  bool operator==(const TrafficWeights&) const = default;
};

struct StepPluginStatus {
  int32_t index = 0;
  std::string name;
  std::string operation;  // Run, Terminate, Abort
  std::string phase;      // Running, Successful, Failed, Error
  std::string message;
  std::optional<Time> startedAt;
  std::optional<Time> updatedAt;
  std::optional<Time> finishedAt;
  std::string backoff;  // Go duration
  int32_t executions = 0;
  bool disabled = false;
  RawJson status;  // plugin-defined state
  bool operator==(const StepPluginStatus&) const = default;
};

struct CanaryStatus {
  std::optional<RolloutAnalysisRunStatus> currentStepAnalysisRunStatus;
  std::optional<RolloutAnalysisRunStatus> currentBackgroundAnalysisRunStatus;
  std::string currentExperiment;
  std::optional<TrafficWeights> weights;
  std::string stablePingPong;  // "ping" or "pong"
  std::vector<StepPluginStatus> stepPluginStatuses;
  bool operator==(const CanaryStatus&) const = default;
};

struct BlueGreenStatus {
  std::string previewSelector;
  std::string activeSelector;
  bool scaleUpPreviewCheckPoint = false;
  std::optional<RolloutAnalysisRunStatus> prePromotionAnalysisRunStatus;
  std::optional<RolloutAnalysisRunStatus> postPromotionAnalysisRunStatus;
  bool operator==(const BlueGreenStatus&) const = default;
};

// status.duration (Argo 1.10): when the update started and how it ended.
struct RolloutDuration {
  std::optional<Time> rolloutStartedAt;
  std::optional<Time> manualPauseStartedAt;
  int64_t totalManualPauseDurationSeconds = 0;
  std::optional<Time> finishedAt;
  // Promoted, FastPromoted, Aborted, Superseded, RolledBack, FastRolledBack; "" while running.
  std::string completionStatus;
  bool operator==(const RolloutDuration&) const = default;
};

struct RolloutStatus {
  bool abort = false;
  std::optional<Time> abortedAt;
  std::vector<PauseCondition> pauseConditions;
  bool controllerPause = false;
  std::string currentPodHash;
  std::string currentStepHash;
  std::optional<int32_t> currentStepIndex;
  int32_t replicas = 0;
  int32_t updatedReplicas = 0;
  int32_t readyReplicas = 0;
  int32_t availableReplicas = 0;
  std::optional<int32_t> collisionCount;
  std::string observedGeneration;  // a string, as in Argo
  std::vector<RolloutCondition> conditions;
  CanaryStatus canary;
  BlueGreenStatus blueGreen;
  int32_t HPAReplicas = 0;
  std::string selector;
  std::string stableRS;
  std::optional<Time> restartedAt;
  bool promoteFull = false;
  RolloutPhase phase = RolloutPhase::kNone;
  std::string message;
  std::string workloadObservedGeneration;
  RawJson alb;                // ALB status, kept raw
  std::vector<RawJson> albs;  // ALB statuses, kept raw
  std::optional<RolloutDuration> duration;
  bool operator==(const RolloutStatus&) const = default;
};

struct Rollout {
  ObjectMeta metadata;
  RolloutSpec spec;
  RolloutStatus status;
  bool operator==(const Rollout&) const = default;
};

// --- defaults (Argo's utils/defaults) ------------------------------------------------------------

inline constexpr int32_t kDefaultReplicas = 1;
inline constexpr int32_t kDefaultRevisionHistoryLimit = 10;
inline constexpr int32_t kDefaultProgressDeadlineSeconds = 600;
inline constexpr int32_t kDefaultScaleDownDelaySeconds = 30;
inline constexpr int32_t kDefaultAbortScaleDownDelaySeconds = 30;
inline constexpr int32_t kDefaultMaxTrafficWeight = 100;
inline constexpr int32_t kDefaultSuccessfulRunHistoryLimit = 5;
inline constexpr int32_t kDefaultUnsuccessfulRunHistoryLimit = 5;
inline constexpr int32_t kDefaultConsecutiveErrorLimit = 4;
inline constexpr int32_t kDefaultMaxSurgePercent = 25;
inline constexpr int32_t kDefaultMaxUnavailablePercent = 25;

inline int32_t replicasOrDefault(const RolloutSpec& s) {
  return s.replicas.value_or(kDefaultReplicas);
}
inline int32_t revisionHistoryLimitOrDefault(const RolloutSpec& s) {
  return s.revisionHistoryLimit.value_or(kDefaultRevisionHistoryLimit);
}
inline int32_t progressDeadlineSecondsOrDefault(const RolloutSpec& s) {
  return s.progressDeadlineSeconds.value_or(kDefaultProgressDeadlineSeconds);
}
inline int32_t successfulRunHistoryLimitOrDefault(const RolloutSpec& s) {
  return s.analysis && s.analysis->successfulRunHistoryLimit
             ? *s.analysis->successfulRunHistoryLimit
             : kDefaultSuccessfulRunHistoryLimit;
}
inline int32_t unsuccessfulRunHistoryLimitOrDefault(const RolloutSpec& s) {
  return s.analysis && s.analysis->unsuccessfulRunHistoryLimit
             ? *s.analysis->unsuccessfulRunHistoryLimit
             : kDefaultUnsuccessfulRunHistoryLimit;
}
// Canary or blue-green scaleDownDelaySeconds, default 30.
inline int32_t scaleDownDelaySecondsOrDefault(const RolloutSpec& s) {
  if (s.strategy.canary && s.strategy.canary->scaleDownDelaySeconds)
    return *s.strategy.canary->scaleDownDelaySeconds;
  if (s.strategy.blueGreen && s.strategy.blueGreen->scaleDownDelaySeconds)
    return *s.strategy.blueGreen->scaleDownDelaySeconds;
  return kDefaultScaleDownDelaySeconds;
}
// Canary or blue-green abortScaleDownDelaySeconds, default 30.
inline int32_t abortScaleDownDelaySecondsOrDefault(const RolloutSpec& s) {
  if (s.strategy.canary && s.strategy.canary->abortScaleDownDelaySeconds)
    return *s.strategy.canary->abortScaleDownDelaySeconds;
  if (s.strategy.blueGreen && s.strategy.blueGreen->abortScaleDownDelaySeconds)
    return *s.strategy.blueGreen->abortScaleDownDelaySeconds;
  return kDefaultAbortScaleDownDelaySeconds;
}
// Unset = unlimited (INT32_MAX).
inline int32_t scaleDownDelayRevisionLimitOrDefault(const RolloutSpec& s) {
  if (s.strategy.canary && s.strategy.canary->scaleDownDelayRevisionLimit)
    return *s.strategy.canary->scaleDownDelayRevisionLimit;
  if (s.strategy.blueGreen && s.strategy.blueGreen->scaleDownDelayRevisionLimit)
    return *s.strategy.blueGreen->scaleDownDelayRevisionLimit;
  return std::numeric_limits<int32_t>::max();
}
inline bool autoPromotionEnabledOrDefault(const BlueGreenStrategy& bg) {
  return bg.autoPromotionEnabled.value_or(true);
}
inline int32_t maxTrafficWeightOrDefault(const CanaryStrategy& c) {
  return c.trafficRouting && c.trafficRouting->maxTrafficWeight
             ? *c.trafficRouting->maxTrafficWeight
             : kDefaultMaxTrafficWeight;
}
// The routers a Rollout configures: the canary's trafficRouting (weights by step), or ramp's
// extensions canary.serviceRouting (the Service of a basic canary) and blueGreen.trafficRouting
// (the active and preview Services). nullptr when there is none.
inline const TrafficRouting* routersOf(const RolloutSpec& s) {
  if (const auto& c = s.strategy.canary) {
    if (c->trafficRouting) return &*c->trafficRouting;
    if (c->serviceRouting) return &*c->serviceRouting;
  }
  if (s.strategy.blueGreen && s.strategy.blueGreen->trafficRouting) {
    return &*s.strategy.blueGreen->trafficRouting;
  }
  return nullptr;
}
// The field path of routersOf(s) ("" when there is none).
inline std::string routersPath(const RolloutSpec& s) {
  if (const auto& c = s.strategy.canary) {
    if (c->trafficRouting) return "spec.strategy.canary.trafficRouting";
    if (c->serviceRouting) return "spec.strategy.canary.serviceRouting";
  }
  if (s.strategy.blueGreen && s.strategy.blueGreen->trafficRouting) {
    return "spec.strategy.blueGreen.trafficRouting";
  }
  return "";
}
inline int32_t startingStepOrDefault(const RolloutAnalysisBackground& a) {
  return a.startingStep.value_or(0);
}

}  // namespace ramp::spec
