#pragma once

// Registry: where the controller finds the implementations of its seams by name. Platforms
// ("platform.process", "platform.sim"), traffic routers ("traffic.haproxy", "traffic.nginx",
// "traffic.sim") and metric providers ("provider.prometheus", "provider.web", "provider.job",
// "provider.judge", "provider.sim") are registered as factories, once, by the one explicit list
// in src/registry (registerBuiltins). Extensions never include each other: each exposes a
// factory, and only that list knows them all.
//
// Names. A Rollout selects routers with `trafficRouting.plugins: {"ramp/<x>": config}` and a
// metric selects a provider with `provider.prometheus|web|job` or `provider.plugin:
// {"ramp/<x>": config}`; the registry maps them to "traffic.<x>" and "provider.<x>"
// (routerNameFor, providerNameFor). The platform is chosen per daemon (`ramp serve --platform`).
//
// Threading: fill the registry on one thread before the controller starts; afterwards it is
// read-only and every method may be called concurrently. Factories must be reentrant.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ramp/analysis/metric_provider.h"
#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/platform/workload_driver.h"
#include "ramp/spec/analysis.h"
#include "ramp/traffic/traffic_router.h"

namespace ramp {

class Redactor;

// What every factory may use. Pointers outlive every object the factories return.
struct ExtensionContext {
  Clock* clock = nullptr;  // never null when passed by the controller
  // The daemon's data directory. An extension keeps durable state under <dataDir>/<its name>/
  // (e.g. <dataDir>/platform.sim/), so it survives a restart of `ramp serve`. "" = no durable
  // state (tests that do not need it).
  std::string dataDir;
  const Redactor* redactor = nullptr;  // secrets to hide in messages; may be null
  std::string prometheusAddress;       // default Prometheus address ("" = env or none)
};

// What a router factory gets: one router instance drives one rollout.
struct RouterContext {
  std::string rolloutKey;          // "namespace/name"
  std::string configJson;          // the plugin's config object as JSON text
  int32_t maxTrafficWeight = 100;  // trafficRouting.maxTrafficWeight
};

using PlatformFactory =
    std::function<Result<std::unique_ptr<platform::WorkloadDriver>>(const ExtensionContext&)>;
using RouterFactory =
    std::function<Result<traffic::TrafficRouterPtr>(const RouterContext&, const ExtensionContext&)>;
using ProviderFactory = std::function<Result<analysis::MetricProviderPtr>(
    const spec::MetricProviderSpec&, const ExtensionContext&)>;

class Registry {
 public:
  // Each add returns kAlreadyExists when the name is taken and kInvalidArgument when the name
  // lacks its prefix ("platform.", "traffic.", "provider.") or the factory is empty.
  Status addPlatform(const std::string& name, PlatformFactory factory);
  Status addRouter(const std::string& name, RouterFactory factory);
  Status addProvider(const std::string& name, ProviderFactory factory);

  // Create an instance by registered name. kNotFound lists the registered names of that kind;
  // otherwise the factory's own result.
  Result<std::unique_ptr<platform::WorkloadDriver>> makePlatform(
      const std::string& name, const ExtensionContext& context) const;
  Result<traffic::TrafficRouterPtr> makeRouter(const std::string& name, const RouterContext& router,
                                               const ExtensionContext& context) const;
  Result<analysis::MetricProviderPtr> makeProvider(const spec::MetricProviderSpec& spec,
                                                   const ExtensionContext& context) const;

  // "ramp/haproxy" -> "traffic.haproxy". kUnsupported for plugins that are not ramp's own.
  static Result<std::string> routerNameFor(const std::string& pluginName);
  // prometheus -> "provider.prometheus", plugin "ramp/judge" -> "provider.judge", …
  // kUnsupported for providers ramp models but does not run; kInvalidArgument for none.
  static Result<std::string> providerNameFor(const spec::MetricProviderSpec& spec);

  // Registered names, sorted, for `ramp version` and error messages.
  std::vector<std::string> names() const;

 private:
  std::map<std::string, PlatformFactory> platforms_;
  std::map<std::string, RouterFactory> routers_;
  std::map<std::string, ProviderFactory> providers_;
};

// The one explicit registration list (src/registry/builtins.cc).
void registerBuiltins(Registry& registry);

}  // namespace ramp
