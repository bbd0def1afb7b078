#pragma once

// The field lists of every spec struct, written once and walked by both the decoder and the
// encoder (codec.cc). A visitor V provides:
//   v(key, member)            one field (its type picks the decoder/encoder overload); the
//                             encoder leaves out empty/zero values (Kubernetes omitempty)
//   v.keep(key, member)       a field whose zero value differs from its default: always written
//   v.presence(key, flag)     a field whose value is an empty object, present or not
//   v.ignore({keys…})         fields accepted on input and dropped (store-managed metadata)
//   v.extra(map, known)       last: other fields whose names are in `known`, kept as raw JSON
//   v.rest(project)           last: every other field is accepted and reported as ignored (a
//                             warning naming `project`, e.g. "Argo CD"): Argo CD's kinds
// Internal to src/spec.

#include <initializer_list>
#include <set>
#include <string_view>

#include "ramp/spec/analysis.h"
#include "ramp/spec/gitops.h"
#include "ramp/spec/meta.h"
#include "ramp/spec/rollout.h"

namespace ramp::spec::internal {

// Known Kubernetes field names ramp keeps raw (PodSpec, Container, Probe; Kubernetes 1.31).
const std::set<std::string_view>& knownPodSpecFields();
const std::set<std::string_view>& knownContainerFields();
const std::set<std::string_view>& knownProbeFields();
// Metric providers ramp keeps raw (MetricProviderSpec::other).
const std::set<std::string_view>& otherProviderNames();

// --- meta ---
template <class V>
void fields(V& v, ObjectMeta& x) {
  v("name", x.name)("generateName", x.generateName);
  v.keep("namespace", x.namespace_);
  v("labels", x.labels)("annotations", x.annotations)("uid", x.uid)("generation", x.generation)(
      "resourceVersion", x.resourceVersion)("creationTimestamp", x.creationTimestamp);
  v.ignore({"ownerReferences", "finalizers", "managedFields", "deletionTimestamp",
            "deletionGracePeriodSeconds", "selfLink"});
}
template <class V>
void fields(V& v, KeyValue& x) {
  v("key", x.key)("value", x.value);
}

// --- analysis ---
template <class V>
void fields(V& v, SecretKeyRef& x) {
  v("name", x.name)("key", x.key);
}
template <class V>
void fields(V& v, FieldRef& x) {
  v("fieldPath", x.fieldPath);
}
template <class V>
void fields(V& v, ArgumentValueFrom& x) {
  v("secretKeyRef", x.secretKeyRef)("fieldRef", x.fieldRef)("podTemplateHashValue",
                                                            x.podTemplateHashValue);
}
template <class V>
void fields(V& v, Argument& x) {
  v("name", x.name)("value", x.value)("valueFrom", x.valueFrom);
}
template <class V>
void fields(V& v, BasicAuth& x) {
  v("username", x.username)("password", x.password);
}
template <class V>
void fields(V& v, OAuth2Config& x) {
  v("tokenUrl", x.tokenUrl)("clientId", x.clientId)("clientSecret", x.clientSecret)("scopes",
                                                                                    x.scopes);
}
template <class V>
void fields(V& v, Sigv4Config& x) {
  v("region", x.region)("profile", x.profile)("roleArn", x.roleArn);
}
template <class V>
void fields(V& v, Authentication& x) {
  v("sigv4", x.sigv4)("oauth2", x.oauth2)("basicAuth", x.basicAuth);
}
template <class V>
void fields(V& v, PrometheusRangeQuery& x) {
  v("start", x.start)("end", x.end)("step", x.step);
}
template <class V>
void fields(V& v, PrometheusMetric& x) {
  v("address", x.address)("query", x.query)("timeout", x.timeout)("insecure", x.insecure)(
      "headers", x.headers)("authentication", x.authentication)("rangeQuery", x.rangeQuery);
}
template <class V>
void fields(V& v, WebMetric& x) {
  v("url", x.url)("method", x.method)("headers", x.headers)("body", x.body)("jsonBody", x.jsonBody)(
      "timeoutSeconds", x.timeoutSeconds)("jsonPath", x.jsonPath)("insecure", x.insecure)(
      "authentication", x.authentication);
}
template <class V>
void fields(V& v, EnvVar& x) {
  v("name", x.name)("value", x.value)("valueFrom", x.valueFrom);
}
template <class V>
void fields(V& v, MetricProviderSpec& x) {
  v("prometheus", x.prometheus)("web", x.web)("job", x.job)("plugin", x.plugin);
  v.extra(x.other, otherProviderNames());
}
template <class V>
void fields(V& v, Metric& x) {
  v("name", x.name)("interval", x.interval)("initialDelay", x.initialDelay)("count", x.count)(
      "successCondition", x.successCondition)("failureCondition", x.failureCondition)(
      "failureLimit", x.failureLimit)("inconclusiveLimit", x.inconclusiveLimit)(
      "consecutiveErrorLimit", x.consecutiveErrorLimit)(
      "consecutiveSuccessLimit", x.consecutiveSuccessLimit)("provider", x.provider);
}
template <class V>
void fields(V& v, DryRun& x) {
  v("metricName", x.metricName);
}
template <class V>
void fields(V& v, MeasurementRetention& x) {
  v("metricName", x.metricName)("limit", x.limit);
}
template <class V>
void fields(V& v, AnalysisTemplateRef& x) {
  v("templateName", x.templateName)("clusterScope", x.clusterScope);
}
template <class V>
void fields(V& v, AnalysisTemplateSpec& x) {
  v("metrics", x.metrics)("args", x.args)("dryRun", x.dryRun)(
      "measurementRetention", x.measurementRetention)("templates", x.templates);
}
template <class V>
void fields(V& v, TtlStrategy& x) {
  v("secondsAfterCompletion", x.secondsAfterCompletion)(
      "secondsAfterFailure", x.secondsAfterFailure)("secondsAfterSuccess", x.secondsAfterSuccess);
}
template <class V>
void fields(V& v, AnalysisRunSpec& x) {
  v("metrics", x.metrics)("args", x.args)("terminate", x.terminate)("dryRun", x.dryRun)(
      "measurementRetention", x.measurementRetention)("ttlStrategy", x.ttlStrategy);
}
template <class V>
void fields(V& v, Measurement& x) {
  v("phase", x.phase)("message", x.message)("startedAt", x.startedAt)("finishedAt", x.finishedAt)(
      "resumeAt", x.resumeAt)("value", x.value)("metadata", x.metadata);
}
template <class V>
void fields(V& v, MetricResult& x) {
  v("name", x.name)("phase", x.phase)("measurements", x.measurements)("message", x.message)(
      "count", x.count)("successful", x.successful)("failed", x.failed)(
      "inconclusive", x.inconclusive)("error", x.error)("consecutiveError", x.consecutiveError)(
      "consecutiveSuccess", x.consecutiveSuccess)("dryRun", x.dryRun)("metadata", x.metadata);
}
template <class V>
void fields(V& v, RunSummary& x) {
  v("count", x.count)("successful", x.successful)("failed", x.failed)(
      "inconclusive", x.inconclusive)("error", x.error);
}
template <class V>
void fields(V& v, AnalysisRunStatus& x) {
  v("phase", x.phase)("message", x.message)("metricResults", x.metricResults)(
      "startedAt", x.startedAt)("completedAt", x.completedAt)("runSummary", x.runSummary)(
      "dryRunSummary", x.dryRunSummary);
}

// --- Kubernetes pod template ---
template <class V>
void fields(V& v, LabelSelectorRequirement& x) {
  v("key", x.key)("operator", x.operator_)("values", x.values);
}
template <class V>
void fields(V& v, LabelSelector& x) {
  v("matchLabels", x.matchLabels)("matchExpressions", x.matchExpressions);
}
template <class V>
void fields(V& v, HttpHeader& x) {
  v("name", x.name)("value", x.value);
}
template <class V>
void fields(V& v, HttpGetAction& x) {
  v("path", x.path)("port", x.port)("host", x.host)("scheme", x.scheme)("httpHeaders",
                                                                        x.httpHeaders);
}
template <class V>
void fields(V& v, TcpSocketAction& x) {
  v("port", x.port)("host", x.host);
}
template <class V>
void fields(V& v, ExecAction& x) {
  v("command", x.command);
}
template <class V>
void fields(V& v, Probe& x) {
  v("httpGet", x.httpGet)("tcpSocket", x.tcpSocket)("exec", x.exec)(
      "initialDelaySeconds", x.initialDelaySeconds)("periodSeconds", x.periodSeconds)(
      "timeoutSeconds", x.timeoutSeconds)("successThreshold", x.successThreshold)(
      "failureThreshold", x.failureThreshold);
  v.extra(x.extra, knownProbeFields());
}
template <class V>
void fields(V& v, ContainerPort& x) {
  v("name", x.name)("containerPort", x.containerPort)("protocol", x.protocol)(
      "hostPort", x.hostPort)("hostIP", x.hostIP);
}
template <class V>
void fields(V& v, Container& x) {
  v("name", x.name)("image", x.image)("command", x.command)("args", x.args)(
      "workingDir", x.workingDir)("env", x.env)("ports", x.ports)(
      "readinessProbe", x.readinessProbe)("livenessProbe", x.livenessProbe)(
      "startupProbe", x.startupProbe)("resources", x.resources);
  v.extra(x.extra, knownContainerFields());
}
template <class V>
void fields(V& v, PodSpec& x) {
  v("containers", x.containers)("initContainers", x.initContainers);
  v.extra(x.extra, knownPodSpecFields());
}
template <class V>
void fields(V& v, PodTemplateMetadata& x) {
  v("labels", x.labels)("annotations", x.annotations);
  // Go's encoding of an empty metav1.ObjectMeta before apimachinery v0.33 (omitzero): the
  // `kubectl argo rollouts undo` of Argo v1.8 and older writes a ReplicaSet's template back
  // with it, and manifests made by `kubectl create … -o yaml` before Kubernetes 1.33 carry it.
  v.ignore({"creationTimestamp"});
}
template <class V>
void fields(V& v, PodTemplateSpec& x) {
  v("metadata", x.metadata)("spec", x.spec);
}
template <class V>
void fields(V& v, WorkloadRef& x) {
  v("apiVersion", x.apiVersion)("kind", x.kind)("name", x.name)("scaleDown", x.scaleDown);
}

// --- rollout ---
template <class V>
void fields(V& v, AnalysisRunMetadata& x) {
  v("labels", x.labels)("annotations", x.annotations);
}
template <class V>
void fields(V& v, RolloutAnalysis& x) {
  v("templates", x.templates)("args", x.args)("dryRun", x.dryRun)(
      "measurementRetention", x.measurementRetention)("analysisRunMetadata", x.analysisRunMetadata);
}
template <class V>
void fields(V& v, RolloutAnalysisBackground& x) {
  fields(v, static_cast<RolloutAnalysis&>(x));
  v("startingStep", x.startingStep);
}
template <class V>
void fields(V& v, RolloutPause& x) {
  v("duration", x.duration);
}
template <class V>
void fields(V& v, ExperimentService& x) {
  v("name", x.name);
}
template <class V>
void fields(V& v, RolloutExperimentTemplate& x) {
  v("name", x.name)("specRef", x.specRef)("replicas", x.replicas)("metadata", x.metadata)(
      "selector", x.selector)("weight", x.weight)("service", x.service);
}
template <class V>
void fields(V& v, RolloutExperimentStepAnalysisTemplateRef& x) {
  v("name", x.name)("templateName", x.templateName)("clusterScope", x.clusterScope)("args", x.args)(
      "requiredForCompletion", x.requiredForCompletion);
}
template <class V>
void fields(V& v, RolloutExperimentStep& x) {
  v("templates", x.templates)("duration", x.duration)("analyses", x.analyses)("dryRun", x.dryRun)(
      "analysisRunMetadata", x.analysisRunMetadata);
}
template <class V>
void fields(V& v, SetCanaryScale& x) {
  v("weight", x.weight)("replicas", x.replicas)("matchTrafficWeight", x.matchTrafficWeight);
}
template <class V>
void fields(V& v, StringMatch& x) {
  v("exact", x.exact)("prefix", x.prefix)("regex", x.regex);
}
template <class V>
void fields(V& v, HeaderRoutingMatch& x) {
  v("headerName", x.headerName)("headerValue", x.headerValue);
}
template <class V>
void fields(V& v, SetHeaderRoute& x) {
  v("name", x.name)("match", x.match);
}
template <class V>
void fields(V& v, RouteMatch& x) {
  v("method", x.method)("path", x.path)("headers", x.headers);
}
template <class V>
void fields(V& v, SetMirrorRoute& x) {
  v("name", x.name)("match", x.match)("percentage", x.percentage);
}
template <class V>
void fields(V& v, PluginStep& x) {
  v("name", x.name)("config", x.config);
}
template <class V>
void fields(V& v, CanaryStep& x) {
  v("setWeight", x.setWeight)("pause", x.pause)("experiment", x.experiment)("analysis", x.analysis)(
      "setCanaryScale", x.setCanaryScale)("setHeaderRoute", x.setHeaderRoute)(
      "setMirrorRoute", x.setMirrorRoute)("plugin", x.plugin);
}
template <class V>
void fields(V& v, ManagedRoute& x) {
  v("name", x.name);
}
template <class V>
void fields(V& v, TrafficRouting& x) {
  v("istio", x.istio)("nginx", x.nginx)("alb", x.alb)("smi", x.smi)("ambassador", x.ambassador)(
      "appMesh", x.appMesh)("traefik", x.traefik)("apisix", x.apisix)("plugins", x.plugins)(
      "managedRoutes", x.managedRoutes)("maxTrafficWeight", x.maxTrafficWeight);
}
template <class V>
void fields(V& v, PreferredDuringScheduling& x) {
  v("weight", x.weight);
}
template <class V>
void fields(V& v, AntiAffinity& x) {
  v("preferredDuringSchedulingIgnoredDuringExecution",
    x.preferredDuringSchedulingIgnoredDuringExecution);
  v.presence("requiredDuringSchedulingIgnoredDuringExecution",
             x.requiredDuringSchedulingIgnoredDuringExecution);
}
template <class V>
void fields(V& v, PingPongSpec& x) {
  v("pingService", x.pingService)("pongService", x.pongService);
}
template <class V>
void fields(V& v, ReplicaProgressThreshold& x) {
  v("type", x.type)("value", x.value);
}
template <class V>
void fields(V& v, CanaryStrategy& x) {
  v("canaryService", x.canaryService)("stableService", x.stableService)("steps", x.steps)(
      "trafficRouting", x.trafficRouting)("maxUnavailable", x.maxUnavailable)(
      "maxSurge", x.maxSurge)("analysis", x.analysis)("antiAffinity", x.antiAffinity)(
      "canaryMetadata", x.canaryMetadata)("stableMetadata", x.stableMetadata)(
      "scaleDownDelaySeconds", x.scaleDownDelaySeconds)(
      "scaleDownDelayRevisionLimit", x.scaleDownDelayRevisionLimit)("abortScaleDownDelaySeconds",
                                                                    x.abortScaleDownDelaySeconds)(
      "dynamicStableScale", x.dynamicStableScale)("pingPong", x.pingPong)("minPodsPerReplicaSet",
                                                                          x.minPodsPerReplicaSet)(
      "replicaProgressThreshold", x.replicaProgressThreshold)("serviceRouting", x.serviceRouting);
}
template <class V>
void fields(V& v, BlueGreenStrategy& x) {
  v("activeService", x.activeService)("previewService", x.previewService)(
      "previewReplicaCount", x.previewReplicaCount)("autoPromotionEnabled", x.autoPromotionEnabled)(
      "autoPromotionSeconds", x.autoPromotionSeconds)("maxUnavailable", x.maxUnavailable)(
      "scaleDownDelaySeconds", x.scaleDownDelaySeconds)(
      "scaleDownDelayRevisionLimit", x.scaleDownDelayRevisionLimit)("prePromotionAnalysis",
                                                                    x.prePromotionAnalysis)(
      "postPromotionAnalysis", x.postPromotionAnalysis)("antiAffinity", x.antiAffinity)(
      "previewMetadata", x.previewMetadata)("activeMetadata", x.activeMetadata)(
      "abortScaleDownDelaySeconds", x.abortScaleDownDelaySeconds)("trafficRouting",
                                                                  x.trafficRouting);
}
template <class V>
void fields(V& v, RolloutStrategy& x) {
  v("canary", x.canary)("blueGreen", x.blueGreen);
}
template <class V>
void fields(V& v, AnalysisRunStrategy& x) {
  v("successfulRunHistoryLimit", x.successfulRunHistoryLimit)("unsuccessfulRunHistoryLimit",
                                                              x.unsuccessfulRunHistoryLimit);
}
template <class V>
void fields(V& v, RollbackWindowSpec& x) {
  v("revisions", x.revisions);
}
template <class V>
void fields(V& v, RolloutSpec& x) {
  v("replicas", x.replicas)("selector", x.selector)("template", x.template_)(
      "workloadRef", x.workloadRef)("minReadySeconds", x.minReadySeconds)(
      "revisionHistoryLimit", x.revisionHistoryLimit)("paused", x.paused)(
      "progressDeadlineSeconds", x.progressDeadlineSeconds)(
      "progressDeadlineAbort", x.progressDeadlineAbort)("restartAt", x.restartAt)(
      "rollbackWindow", x.rollbackWindow)("analysis", x.analysis)("strategy", x.strategy);
}

// --- rollout status ---
template <class V>
void fields(V& v, PauseCondition& x) {
  v("reason", x.reason)("startTime", x.startTime);
}
template <class V>
void fields(V& v, RolloutCondition& x) {
  v("type", x.type)("status", x.status)("lastUpdateTime", x.lastUpdateTime)(
      "lastTransitionTime", x.lastTransitionTime)("reason", x.reason)("message", x.message);
}
template <class V>
void fields(V& v, RolloutAnalysisRunStatus& x) {
  v("name", x.name)("status", x.status)("message", x.message);
}
template <class V>
void fields(V& v, WeightDestination& x) {
  v("weight", x.weight)("serviceName", x.serviceName)("podTemplateHash", x.podTemplateHash);
}
template <class V>
void fields(V& v, TrafficWeights& x) {
  v("canary", x.canary)("stable", x.stable)("additional", x.additional)("verified", x.verified);
}
template <class V>
void fields(V& v, StepPluginStatus& x) {
  v("index", x.index)("name", x.name)("operation", x.operation)("phase", x.phase)(
      "message", x.message)("startedAt", x.startedAt)("updatedAt", x.updatedAt)(
      "finishedAt", x.finishedAt)("backoff", x.backoff)("executions", x.executions)(
      "disabled", x.disabled)("status", x.status);
}
template <class V>
void fields(V& v, CanaryStatus& x) {
  v("currentStepAnalysisRunStatus", x.currentStepAnalysisRunStatus)(
      "currentBackgroundAnalysisRunStatus", x.currentBackgroundAnalysisRunStatus)(
      "currentExperiment", x.currentExperiment)("weights", x.weights)(
      "stablePingPong", x.stablePingPong)("stepPluginStatuses", x.stepPluginStatuses);
}
template <class V>
void fields(V& v, BlueGreenStatus& x) {
  v("previewSelector", x.previewSelector)("activeSelector", x.activeSelector)(
      "scaleUpPreviewCheckPoint", x.scaleUpPreviewCheckPoint)("prePromotionAnalysisRunStatus",
                                                              x.prePromotionAnalysisRunStatus)(
      "postPromotionAnalysisRunStatus", x.postPromotionAnalysisRunStatus);
}
template <class V>
void fields(V& v, RolloutDuration& x) {
  v("rolloutStartedAt", x.rolloutStartedAt)("manualPauseStartedAt", x.manualPauseStartedAt)(
      "totalManualPauseDurationSeconds", x.totalManualPauseDurationSeconds)(
      "finishedAt", x.finishedAt)("completionStatus", x.completionStatus);
}
template <class V>
void fields(V& v, RolloutStatus& x) {
  v("abort", x.abort)("abortedAt", x.abortedAt)("pauseConditions", x.pauseConditions)(
      "controllerPause", x.controllerPause)("currentPodHash", x.currentPodHash)(
      "currentStepHash", x.currentStepHash)("currentStepIndex", x.currentStepIndex)(
      "replicas", x.replicas)("updatedReplicas", x.updatedReplicas)(
      "readyReplicas", x.readyReplicas)("availableReplicas", x.availableReplicas)(
      "collisionCount", x.collisionCount)("observedGeneration", x.observedGeneration)(
      "conditions", x.conditions)("canary", x.canary)("blueGreen", x.blueGreen)(
      "HPAReplicas", x.HPAReplicas)("selector", x.selector)("stableRS", x.stableRS)(
      "restartedAt", x.restartedAt)("promoteFull", x.promoteFull)("phase", x.phase)(
      "message", x.message)("workloadObservedGeneration", x.workloadObservedGeneration)(
      "alb", x.alb)("albs", x.albs)("duration", x.duration);
}

// --- Argo CD: Application, AppProject (ramp/spec/gitops.h) ---
inline constexpr const char* kArgoCd = "Argo CD";
template <class V>
void fields(V& v, ApplicationSourceDirectory& x) {
  v("recurse", x.recurse);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, ApplicationSourceKustomize& x) {
  v("images", x.images);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, ApplicationSource& x) {
  v("repoURL", x.repoURL)("path", x.path)("targetRevision", x.targetRevision)(
      "directory", x.directory)("kustomize", x.kustomize);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, ApplicationDestination& x) {
  v("server", x.server)("name", x.name)("namespace", x.namespace_);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, SyncPolicyAutomated& x) {
  v("prune", x.prune)("selfHeal", x.selfHeal);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, SyncPolicy& x) {
  v("automated", x.automated)("syncOptions", x.syncOptions);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, ApplicationSpec& x) {
  v("source", x.source)("destination", x.destination)("project", x.project)("syncPolicy",
                                                                            x.syncPolicy);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, OperationInitiator& x) {
  v("username", x.username)("automated", x.automated);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, SyncOperation& x) {
  v("revision", x.revision)("prune", x.prune);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, OperationInfo& x) {
  v("name", x.name)("value", x.value);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, Operation& x) {
  v("sync", x.sync)("initiatedBy", x.initiatedBy)("info", x.info);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, ApplicationHealth& x) {
  v("status", x.status)("message", x.message);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, ApplicationSyncStatus& x) {
  v("status", x.status)("revision", x.revision);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, ResourceStatus& x) {
  v("group", x.group)("version", x.version)("kind", x.kind)("namespace", x.namespace_)(
      "name", x.name)("status", x.status)("health", x.health)("message", x.message);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, RevisionHistory& x) {
  v.keep("id", x.id);
  v("revision", x.revision)("deployedAt", x.deployedAt)("deployStartedAt", x.deployStartedAt)(
      "initiatedBy", x.initiatedBy);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, SyncOperationResult& x) {
  v("revision", x.revision);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, OperationState& x) {
  v("operation", x.operation)("phase", x.phase)("message", x.message)("syncResult", x.syncResult)(
      "startedAt", x.startedAt)("finishedAt", x.finishedAt);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, ApplicationCondition& x) {
  v("type", x.type)("message", x.message)("lastTransitionTime", x.lastTransitionTime);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, ApplicationStatus& x) {
  v("resources", x.resources)("sync", x.sync)("health", x.health)("history", x.history)(
      "conditions", x.conditions)("reconciledAt", x.reconciledAt)("operationState",
                                                                  x.operationState);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, SyncWindow& x) {
  v("kind", x.kind)("schedule", x.schedule)("duration", x.duration)("applications", x.applications)(
      "namespaces", x.namespaces)("clusters", x.clusters)("manualSync", x.manualSync)(
      "timeZone", x.timeZone)("andOperator", x.andOperator)("description", x.description);
  v.rest(kArgoCd);
}
template <class V>
void fields(V& v, AppProjectSpec& x) {
  v("description", x.description)("sourceRepos", x.sourceRepos)("destinations", x.destinations)(
      "syncWindows", x.syncWindows);
  v.rest(kArgoCd);
}

}  // namespace ramp::spec::internal
