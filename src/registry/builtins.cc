// The one explicit registration list: every platform, traffic router, metric provider and store
// ramp ships, by name. Adding an extension means adding one line here (and its library to
// CMakeLists.txt); nothing else knows the full set.

#include <cstdlib>

#include "analysis/judge/judge_provider.h"
#include "analysis/judge/prometheus_counts.h"
#include "analysis/providers/builtin.h"
#include "analysis/providers/prometheus/prometheus_provider.h"
#include "analysis/providers/sim/sim_provider.h"
#include "platform/kubernetes/kubernetes_driver.h"
#include "platform/process/process_driver.h"
#include "platform/process/supervision.h"
#include "platform/sim/sim_driver.h"
#include "ramp/registry.h"
#include "store/kubernetes/kubernetes_state_store.h"
#include "store/sqlite/sqlite_state_store.h"
#include "traffic/haproxy/haproxy_config.h"
#include "traffic/haproxy/haproxy_router.h"
#include "traffic/nginx/nginx_config.h"
#include "traffic/nginx/nginx_router.h"
#include "traffic/sim/sim_router.h"

namespace ramp {
namespace {

// prometheus, web and job are built by the providers module's own factory.
ProviderFactory builtinProvider(const BuiltinSettings& settings) {
  return [prometheus = settings.prometheusAddress](const spec::MetricProviderSpec& spec,
                                                   const ExtensionContext& context) {
    analysis::providers::ProviderEnv env;
    env.clock = context.clock;
    env.stateDir = context.dataDir.empty() ? std::string() : context.dataDir + "/provider.job";
    env.redactor = context.redactor;
    env.prometheusAddress = prometheus;
    return analysis::providers::makeBuiltinProvider(spec, env);
  };
}

// ramp/judge: the canary judge, fed from Prometheus (the config's `address`, else the daemon's,
// else $ARGO_ROLLOUTS_PROMETHEUS_ADDRESS as for provider.prometheus).
ProviderFactory judgeProvider(const BuiltinSettings& settings) {
  return [prometheus = settings.prometheusAddress](
             const spec::MetricProviderSpec&,
             const ExtensionContext& context) -> Result<analysis::MetricProviderPtr> {
    analysis::judge::PrometheusCounts::Options options;
    options.defaultAddress = prometheus;
    if (options.defaultAddress.empty()) {
      if (const char* a = std::getenv(analysis::providers::kPrometheusAddressEnv)) {
        options.defaultAddress = a;
      }
    }
    options.redactor = context.redactor;
    return std::make_unique<analysis::judge::JudgeProvider>(
        std::make_shared<analysis::judge::PrometheusCounts>(std::move(options)));
  };
}

template <class Router>
RouterFactory routerFactory() {
  return [](const RouterContext& router,
            const ExtensionContext& context) -> Result<traffic::TrafficRouterPtr> {
    auto r = Router::create(router.configJson, router.maxTrafficWeight, *context.clock);
    if (!r) return std::unexpected(r.error());
    return traffic::TrafficRouterPtr(std::move(*r));
  };
}

void must(Status status) {
  // A failure here is a programming error in this list (a duplicate or malformed name).
  if (!status) std::abort();
}

}  // namespace

void registerBuiltins(Registry& registry, const BuiltinSettings& settings) {
  must(registry.addProvider("provider.prometheus", builtinProvider(settings)));
  must(registry.addProvider("provider.web", builtinProvider(settings)));
  must(registry.addProvider("provider.job", builtinProvider(settings)));
  must(registry.addProvider("provider.sim", analysis::providers::makeSimProvider));
  must(registry.addProvider("provider.judge", judgeProvider(settings)));

  must(registry.addPlatform("platform.process", platform::process::makeProcessDriver,
                            {platform::process::rolloutProblems}));

  must(registry.addRouter("traffic.haproxy", routerFactory<traffic::haproxy::HaproxyRouter>(),
                          {traffic::haproxy::inspectHaproxyConfig, {}}));
  must(registry.addRouter("traffic.nginx", routerFactory<traffic::nginx::NginxRouter>(),
                          {traffic::nginx::inspectNginxConfig, {}}));
  must(registry.addRouter("traffic.sim", traffic::sim::makeSimRouter));

  must(registry.addPlatform("platform.sim", platform::sim::makeSimDriver));
  must(registry.addPlatform("platform.kubernetes", platform::kubernetes::makeKubernetesDriver,
                            {platform::kubernetes::rolloutProblems, /*workloadRefs=*/true}));

  must(registry.addStore("store.sqlite", store::makeSqliteStore));
  must(registry.addStore("store.kubernetes", store::kubernetes::makeKubernetesStore));
}

}  // namespace ramp
