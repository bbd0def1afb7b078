#pragma once

// The built-in metric providers: the one place that maps a metric's provider spec to the
// provider that runs it (prometheus, web, job). The project Registry wraps this; extensions
// never include each other, only this factory knows them all.
//
// Thread safety: makeBuiltinProvider is reentrant. The providers it returns are thread-safe
// (see metric_provider.h).

#include <string>

#include "ramp/analysis/metric_provider.h"
#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/spec/analysis.h"

namespace ramp {
class Redactor;
}

namespace ramp::analysis::providers {

struct ProviderEnv {
  Clock* clock = nullptr;              // required (job: grace periods)
  std::string stateDir;                // required for job: <stateDir>/jobs/<job-name>
  const Redactor* redactor = nullptr;  // secrets to hide in messages; may be null
  // Prometheus address when a metric has none; "" = read $ARGO_ROLLOUTS_PROMETHEUS_ADDRESS.
  std::string prometheusAddress;
};

// Returns the provider for `spec` (the one provider set on it). Errors: kUnsupported naming the
// provider for those ramp models but does not run (datadog, newRelic, wavefront, kayenta,
// cloudWatch, graphite, influxdb, skywalking) and for plugins other than ramp's own (which the
// Registry handles, e.g. "ramp/judge"); kInvalidArgument when no provider is set.
Result<MetricProviderPtr> makeBuiltinProvider(const spec::MetricProviderSpec& spec,
                                              const ProviderEnv& env);

}  // namespace ramp::analysis::providers
