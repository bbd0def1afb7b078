#pragma once

// The analysis kinds of argoproj.io/v1alpha1: AnalysisTemplate, ClusterAnalysisTemplate and
// AnalysisRun, with their metrics, providers, measurements and status.
//
// Field names follow Argo's YAML (camelCase there, the same words here). Fields that Argo
// declares as IntOrString (count and the limits) stay IntOrString here because they may hold
// "{{args.x}}" until the run's args are resolved. Durations (interval, initialDelay) stay as the
// user's Go-duration strings; src/spec validates them and src/analysis parses them.
//
// Plain value types: no I/O. Thread safety: none needed (values).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ramp/clock.h"
#include "ramp/spec/meta.h"

namespace ramp::spec {

struct SecretKeyRef {
  std::string name;
  std::string key;
  bool operator==(const SecretKeyRef&) const = default;
};

struct FieldRef {
  std::string fieldPath;
  bool operator==(const FieldRef&) const = default;
};

struct ArgumentValueFrom {
  std::optional<SecretKeyRef> secretKeyRef;
  std::optional<FieldRef> fieldRef;
  // Rollout-side only: "Stable" or "Latest" (the rollouts-pod-template-hash of that ReplicaSet).
  std::optional<std::string> podTemplateHashValue;
  bool operator==(const ArgumentValueFrom&) const = default;
};

struct Argument {
  std::string name;
  std::optional<std::string> value;
  std::optional<ArgumentValueFrom> valueFrom;
  bool operator==(const Argument&) const = default;
};

// --- providers -------------------------------------------------------------------------------

struct BasicAuth {
  std::string username;
  std::string password;
  bool operator==(const BasicAuth&) const = default;
};

struct OAuth2Config {
  std::string tokenUrl;
  std::string clientId;
  std::string clientSecret;
  std::vector<std::string> scopes;
  bool operator==(const OAuth2Config&) const = default;
};

struct Sigv4Config {
  std::string region;
  std::string profile;
  std::string roleArn;
  bool operator==(const Sigv4Config&) const = default;
};

struct Authentication {
  std::optional<Sigv4Config> sigv4;
  std::optional<OAuth2Config> oauth2;
  std::optional<BasicAuth> basicAuth;
  bool operator==(const Authentication&) const = default;
};

struct PrometheusRangeQuery {
  std::string start;  // expr, e.g. now() - duration("5m")
  std::string end;
  std::string step;  // Go duration
  bool operator==(const PrometheusRangeQuery&) const = default;
};

struct PrometheusMetric {
  std::string address;  // falls back to $ARGO_ROLLOUTS_PROMETHEUS_ADDRESS when empty
  std::string query;
  std::optional<int64_t> timeout;  // seconds; Argo's default 30 when unset
  bool insecure = false;
  std::vector<KeyValue> headers;
  Authentication authentication;
  std::optional<PrometheusRangeQuery> rangeQuery;
  bool operator==(const PrometheusMetric&) const = default;
};

struct WebMetric {
  std::string url;
  std::string method;  // GET (default), POST, PUT
  std::vector<KeyValue> headers;
  std::string body;
  RawJson jsonBody;
  std::optional<int64_t> timeoutSeconds;  // default 10
  std::string jsonPath;                   // default "{$}"
  bool insecure = false;
  Authentication authentication;
  bool operator==(const WebMetric&) const = default;
};

struct EnvVar {
  std::string name;
  std::string value;
  RawJson valueFrom;  // Kubernetes EnvVarSource, kept raw
  bool operator==(const EnvVar&) const = default;
};

// The part of a Kubernetes Job ramp runs on the local platform: the first container's
// command + args, env and workingDir, bounded by activeDeadlineSeconds. The whole JobSpec is
// kept in `raw` for round trip and for the Kubernetes platform.
struct JobMetric {
  RawJson metadata;
  RawJson raw;  // the full spec as written
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::vector<EnvVar> env;
  std::string workingDir;
  std::optional<int64_t> activeDeadlineSeconds;
  std::optional<int64_t> backoffLimit;
  bool operator==(const JobMetric&) const = default;
};

// Exactly one of the members is set on a valid metric.
struct MetricProviderSpec {
  std::optional<PrometheusMetric> prometheus;
  std::optional<WebMetric> web;
  std::optional<JobMetric> job;
  // provider.plugin: {<pluginName>: <config>}; ramp's own plugins are "ramp/<name>".
  std::map<std::string, RawJson> plugin;
  // Providers ramp models but does not run (datadog, newRelic, wavefront, kayenta, cloudWatch,
  // graphite, influxdb, skywalking): YAML key -> raw JSON.
  std::map<std::string, RawJson> other;
  bool operator==(const MetricProviderSpec&) const = default;
};

struct Metric {
  std::string name;
  std::string interval;      // Go duration, "" = none
  std::string initialDelay;  // Go duration, "" = none
  std::optional<IntOrString> count;
  std::string successCondition;
  std::string failureCondition;
  std::optional<IntOrString> failureLimit;             // default 0; -1 disables
  std::optional<IntOrString> inconclusiveLimit;        // default 0
  std::optional<IntOrString> consecutiveErrorLimit;    // default 4
  std::optional<IntOrString> consecutiveSuccessLimit;  // default 0 (disabled)
  MetricProviderSpec provider;
  bool operator==(const Metric&) const = default;
};

struct DryRun {
  std::string metricName;  // unanchored regular expression
  bool operator==(const DryRun&) const = default;
};

struct MeasurementRetention {
  std::string metricName;  // unanchored regular expression
  int32_t limit = 0;
  bool operator==(const MeasurementRetention&) const = default;
};

struct AnalysisTemplateRef {
  std::string templateName;
  bool clusterScope = false;
  bool operator==(const AnalysisTemplateRef&) const = default;
};

struct AnalysisTemplateSpec {
  std::vector<Metric> metrics;
  std::vector<Argument> args;
  std::vector<DryRun> dryRun;
  std::vector<MeasurementRetention> measurementRetention;
  std::vector<AnalysisTemplateRef> templates;
  bool operator==(const AnalysisTemplateSpec&) const = default;
};

// AnalysisTemplate (namespaced) or ClusterAnalysisTemplate (clusterScoped = true).
struct AnalysisTemplate {
  ObjectMeta metadata;
  AnalysisTemplateSpec spec;
  bool clusterScoped = false;
  bool operator==(const AnalysisTemplate&) const = default;
};

struct TtlStrategy {
  std::optional<int32_t> secondsAfterCompletion;
  std::optional<int32_t> secondsAfterFailure;
  std::optional<int32_t> secondsAfterSuccess;
  bool operator==(const TtlStrategy&) const = default;
};

struct AnalysisRunSpec {
  std::vector<Metric> metrics;
  std::vector<Argument> args;
  bool terminate = false;
  std::vector<DryRun> dryRun;
  std::vector<MeasurementRetention> measurementRetention;
  std::optional<TtlStrategy> ttlStrategy;
  bool operator==(const AnalysisRunSpec&) const = default;
};

// Argo's AnalysisPhase; kNone is the empty string (not yet assessed).
enum class AnalysisPhase { kNone, kPending, kRunning, kSuccessful, kFailed, kError, kInconclusive };

struct Measurement {
  AnalysisPhase phase = AnalysisPhase::kNone;
  std::string message;
  std::optional<Time> startedAt;
  std::optional<Time> finishedAt;
  std::optional<Time> resumeAt;
  std::string value;  // the provider's result, formatted
  // Provider metadata; async providers keep their in-flight state here so a restarted daemon
  // can resume or terminate the measurement.
  std::map<std::string, std::string> metadata;
  bool operator==(const Measurement&) const = default;
};

struct MetricResult {
  std::string name;
  AnalysisPhase phase = AnalysisPhase::kNone;
  std::vector<Measurement> measurements;
  std::string message;
  int32_t count = 0;
  int32_t successful = 0;
  int32_t failed = 0;
  int32_t inconclusive = 0;
  int32_t error = 0;
  int32_t consecutiveError = 0;
  int32_t consecutiveSuccess = 0;
  bool dryRun = false;
  std::map<std::string, std::string> metadata;
  bool operator==(const MetricResult&) const = default;
};

struct RunSummary {
  int32_t count = 0;
  int32_t successful = 0;
  int32_t failed = 0;
  int32_t inconclusive = 0;
  int32_t error = 0;
  bool operator==(const RunSummary&) const = default;
};

struct AnalysisRunStatus {
  AnalysisPhase phase = AnalysisPhase::kNone;
  std::string message;
  std::vector<MetricResult> metricResults;
  std::optional<Time> startedAt;
  std::optional<Time> completedAt;
  RunSummary runSummary;
  std::optional<RunSummary> dryRunSummary;
  bool operator==(const AnalysisRunStatus&) const = default;
};

struct AnalysisRun {
  ObjectMeta metadata;
  AnalysisRunSpec spec;
  AnalysisRunStatus status;
  bool operator==(const AnalysisRun&) const = default;
};

// Argo's spelling ("Successful", "" for kNone).
inline const char* analysisPhaseName(AnalysisPhase phase) {
  switch (phase) {
    case AnalysisPhase::kNone: return "";
    case AnalysisPhase::kPending: return "Pending";
    case AnalysisPhase::kRunning: return "Running";
    case AnalysisPhase::kSuccessful: return "Successful";
    case AnalysisPhase::kFailed: return "Failed";
    case AnalysisPhase::kError: return "Error";
    case AnalysisPhase::kInconclusive: return "Inconclusive";
  }
  return "";
}

}  // namespace ramp::spec
