#include "analysis/providers/builtin.h"

#include <cstdlib>

#include "analysis/providers/job/job_provider.h"
#include "analysis/providers/prometheus/prometheus_provider.h"
#include "analysis/providers/web/web_provider.h"
#include "common/go_duration.h"
#include "expr/expr.h"

namespace ramp::analysis::providers {

Result<MetricProviderPtr> makeBuiltinProvider(const spec::MetricProviderSpec& spec,
                                              const ProviderEnv& env) {
  if (spec.prometheus) {
    PrometheusProvider::Options o;
    o.defaultAddress = env.prometheusAddress;
    if (o.defaultAddress.empty()) {
      if (const char* a = std::getenv(kPrometheusAddressEnv)) o.defaultAddress = a;
    }
    o.redactor = env.redactor;
    o.evaluateTime = [](std::string_view source, Time now) {
      return expr::evaluateTime(source, now);
    };
    o.parseDuration = [](std::string_view text) { return parseGoDurationMillis(text); };
    return std::make_unique<PrometheusProvider>(std::move(o));
  }
  if (spec.web) {
    return std::make_unique<WebProvider>(WebProvider::Options{env.redactor});
  }
  if (spec.job) {
    if (env.clock == nullptr) {
      return makeError(ErrorCode::kInternal, "job provider needs a clock");
    }
    JobProvider::Options o;
    o.clock = env.clock;
    o.stateDir = env.stateDir;
    o.redactor = env.redactor;
    return std::make_unique<JobProvider>(std::move(o));
  }
  if (!spec.plugin.empty()) {
    return makeError(ErrorCode::kUnsupported,
                     "metric provider plugin \"" + spec.plugin.begin()->first +
                         "\" is not a built-in provider (ramp runs prometheus, web, job and its "
                         "own ramp/* plugins)");
  }
  if (!spec.other.empty()) {
    return makeError(ErrorCode::kUnsupported,
                     "metric provider \"" + spec.other.begin()->first +
                         "\" is not supported by ramp (supported: prometheus, web, job)");
  }
  return makeError(ErrorCode::kInvalidArgument, "metric has no provider");
}

}  // namespace ramp::analysis::providers
