#pragma once

// The Prometheus metric provider (Argo's `provider.prometheus`): runs one PromQL query (instant,
// or range with rangeQuery) against a Prometheus HTTP API and returns its value for the metric's
// conditions: a scalar as a float, an instant vector as a list of floats (one per series, in
// the server's order), a range matrix as the flattened list of every sample of every series.
//
// Thread safety: a PrometheusProvider holds only configuration; run() may be called from many
// threads at once. run() blocks for at most the metric's timeout (default 30 s).

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/analysis/metric_provider.h"
#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/value.h"

namespace ramp {
class Redactor;
}

namespace ramp::analysis::providers {

// Measurement metadata key holding the query as sent (args substituted), as in Argo.
inline constexpr const char* kResolvedPrometheusQuery = "ResolvedPrometheusQuery";
// Environment variable giving the address when the metric has none, as in Argo.
inline constexpr const char* kPrometheusAddressEnv = "ARGO_ROLLOUTS_PROMETHEUS_ADDRESS";

struct PrometheusResponse {
  Value value;                        // float, or list of floats
  std::string resultType;             // "scalar", "vector" or "matrix"
  std::string display;                // Argo's Measurement.value text, e.g. "[0.5,1]"
  std::vector<std::string> warnings;  // the API's "warnings", if any
};

// Decodes the JSON body of /api/v1/query or /api/v1/query_range. Sample values are strings in
// the API ("1.5", "NaN", "+Inf", "-Inf") and become floats. On error returns kParse (not JSON,
// or a field of the wrong shape, naming the field), kUnavailable for {"status":"error"} with
// Prometheus's errorType and error text, or kUnsupported for result types other than scalar,
// vector and matrix. Pure function.
Result<PrometheusResponse> parsePrometheusResponse(std::string_view body);

// Same as parsePrometheusResponse but returns only the value (the fuzzing entry point).
Result<Value> decodePrometheusResponse(std::string_view body);

// Formats a sample value as Prometheus's Go client does (shortest, no exponent; NaN, +Inf).
std::string formatSampleValue(double v);

class PrometheusProvider final : public MetricProvider {
 public:
  // Evaluates a rangeQuery start/end expression such as `now() - duration("5m")`.
  using TimeEvaluator = std::function<Result<Time>(std::string_view, Time)>;
  // Parses a Go duration such as "30s" (rangeQuery.step).
  using DurationParser = std::function<Result<Duration>(std::string_view)>;

  struct Options {
    std::string defaultAddress;          // used when the metric has no address ("" = none)
    const Redactor* redactor = nullptr;  // secrets hidden from error messages (may be null)
    TimeEvaluator evaluateTime;          // required for rangeQuery (ramp::expr::evaluateTime)
    DurationParser parseDuration;        // required for rangeQuery.step (Go duration syntax)
  };

  explicit PrometheusProvider(Options options) : options_(std::move(options)) {}

  // Queries Prometheus. On success returns kValue with the decoded value, displayValue in
  // Argo's format and metadata {ResolvedPrometheusQuery, warnings?}. On error (bad config,
  // unreachable, timeout, non-2xx, bad body, unsupported type) returns an Error naming the
  // endpoint and the reason, with secrets redacted.
  Result<ProviderReply> run(const MeasureContext& ctx) override;

  std::string type() const override { return "Prometheus"; }

 private:
  Options options_;
};

}  // namespace ramp::analysis::providers
