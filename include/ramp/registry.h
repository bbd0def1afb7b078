#pragma once

// Registry: where the controller finds the implementations of its seams by name. Platforms
// ("platform.process", "platform.sim", "platform.kubernetes"), traffic routers ("traffic.haproxy",
// "traffic.nginx", "traffic.sim") and metric providers ("provider.prometheus", "provider.web",
// "provider.job", "provider.judge", "provider.sim") are registered as factories, once, by the one
// explicit list in src/registry (registerBuiltins). Extensions never include each other: each
// exposes a factory, and only that list knows them all.
//
// Names. A Rollout selects routers with `trafficRouting.plugins: {"ramp/<x>": config}` and a
// metric selects a provider with `provider.prometheus|web|job` or `provider.plugin:
// {"ramp/<x>": config}`; the registry maps them to "traffic.<x>" and "provider.<x>"
// (routerNameFor, providerNameFor). The platform and the store ("store.sqlite",
// "store.kubernetes") are chosen per daemon (`ramp serve --platform`, `--store`).
//
// Threading: fill the registry on one thread before the controller starts; afterwards it is
// read-only and every method may be called concurrently. Factories must be reentrant.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/analysis/metric_provider.h"
#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/platform/workload_driver.h"
#include "ramp/spec/analysis.h"
#include "ramp/spec/diagnostic.h"
#include "ramp/spec/rollout.h"
#include "ramp/store/state_store.h"
#include "ramp/traffic/traffic_router.h"

namespace ramp {

class Redactor;
namespace kube {
class Client;
}

// What every factory may use. Pointers outlive every object the factories return.
struct ExtensionContext {
  Clock* clock = nullptr;  // never null when passed by the controller
  // The daemon's data directory. An extension keeps durable state under <dataDir>/<its name>/
  // (e.g. <dataDir>/platform.sim/), so it survives a restart of `ramp serve`. "" = no durable
  // state (tests that do not need it).
  std::string dataDir;
  const Redactor* redactor = nullptr;  // secrets to hide in messages; may be null
  // The daemon's one Kubernetes API client (ramp serve --kubeconfig, or the in-cluster service
  // account), shared by every Kubernetes extension; null when the daemon talks to no cluster.
  kube::Client* kubeClient = nullptr;
  std::string kubeNamespace;  // the namespace they work in (ramp serve --namespace; "" = all)
  // Argo's --instance-id (ramp serve --instance-id): store.kubernetes keeps only the custom
  // resources labelled argo-rollouts.argoproj.io/controller-instance-id with this value, or with
  // "" only those without the label.
  std::string kubeInstanceId;
  // The daemon's log, for what an extension's background work could not do and has no caller
  // to tell (one line, no secrets); may be empty.
  std::function<void(const std::string&)> log;
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
// Opens the daemon's store (one per daemon), e.g. <dataDir>/ramp.db or the context's cluster.
using StoreFactory =
    std::function<Result<std::unique_ptr<store::StateStore>>(const ExtensionContext&)>;

// --- what an extension says about a Rollout before it runs it -----------------------------------
//
// A platform or router declares, next to its factory, what it can run: the registry checks a
// Rollout against them (checkRollout) so the API refuses at apply, `ramp lint --platform`
// reports, and the controller sets InvalidSpec, all with the same field paths, before anything
// runs. These functions are pure (no I/O, no clock), cheap, and must be reentrant.

// A resource one router config holds for one Rollout alone, e.g. the HAProxy backend whose
// servers it adds and deletes. Two Rollouts must never claim the same `resource`.
struct RouterClaim {
  std::string resource;     // identity, compared exactly, e.g. "haproxy 127.0.0.1:9999 be_app"
  std::string description;  // how a person names it, e.g. "backend be_app"
  std::string field;        // the config field it comes from, e.g. "backend"
  bool operator==(const RouterClaim&) const = default;
};

// What a router makes of one config (the JSON under trafficRouting.plugins["ramp/<x>"], the
// canary's or ramp's blueGreen.trafficRouting).
struct RouterConfigReport {
  // Problems in the config; paths are relative to the config ("backend", "" for the whole).
  std::vector<spec::Diagnostic> problems;
  bool headerRoutes = false;  // it can carry setHeaderRoute steps
  bool mirrorRoutes = false;  // it can carry setMirrorRoute steps
  bool pingPong = false;      // it can alternate ping and pong Services
  // It has a destination holding the canary's replicas alone (blue-green's preview Service),
  // configured by `previewField` (e.g. "previewBackend").
  bool preview = false;
  std::string previewField;
  std::vector<RouterClaim> claims;
};
using RouterInspector = std::function<RouterConfigReport(std::string_view configJson)>;

// A config parser's error as a problem of RouterConfigReport: `configPath` is the prefix the
// parser's messages start with (`trafficRouting.plugins["ramp/haproxy"]`); what follows up to
// ": " is the field. E.g. `…["ramp/haproxy"].backend: required` -> {path "backend", "required"}.
inline spec::Diagnostic configProblem(const Error& error, std::string_view configPath) {
  spec::Diagnostic d;
  std::string_view text = error.message;
  if (text.starts_with(configPath)) text.remove_prefix(configPath.size());
  if (text.starts_with(".")) {
    const size_t colon = text.find(": ");
    d.path = std::string(text.substr(1, colon == std::string_view::npos ? 0 : colon - 1));
    text.remove_prefix(colon == std::string_view::npos ? 1 : colon + 2);
  } else if (text.starts_with(": ")) {
    text.remove_prefix(2);
  }
  d.message = std::string(text);
  return d;
}

// A router's declarations. Default: no inspector (no config checks, every capability assumed,
// nothing claimed) and every platform.
struct RouterTraits {
  RouterInspector inspect;
  // The platforms whose replicas it can route to ("platform.process", …); empty = every one.
  std::vector<std::string> platforms;
};

// A platform's own checks of a Rollout (what its template must hold, what it ignores), with
// absolute field paths ("spec.template.spec.containers[0].command"). Warnings are allowed.
using PlatformInspector = std::function<std::vector<spec::Diagnostic>(const spec::Rollout&)>;
struct PlatformTraits {
  PlatformInspector inspect;  // empty = no checks
  // It reads spec.workloadRef (WorkloadDriver::resolveWorkloadRef): a Rollout with one is refused
  // on any other registered platform.
  bool workloadRefs = false;
};

// One claim of one Rollout, as the API and the controller compare them.
struct ClaimHolder {
  std::string rolloutKey;  // "namespace/name"
  Time createdAt;          // metadata.creationTimestamp: the earliest claimant owns the resource
  RouterClaim claim;
  std::string path;  // absolute field path of the claim in its Rollout
  bool operator==(const ClaimHolder&) const = default;
};

class Registry {
 public:
  // Each add returns kAlreadyExists when the name is taken and kInvalidArgument when the name
  // lacks its prefix ("platform.", "traffic.", "provider.") or the factory is empty.
  Status addPlatform(const std::string& name, PlatformFactory factory, PlatformTraits traits = {});
  Status addRouter(const std::string& name, RouterFactory factory, RouterTraits traits = {});
  Status addProvider(const std::string& name, ProviderFactory factory);
  Status addStore(const std::string& name, StoreFactory factory);  // prefix "store."

  // Create an instance by registered name. kNotFound lists the registered names of that kind;
  // otherwise the factory's own result.
  Result<std::unique_ptr<platform::WorkloadDriver>> makePlatform(
      const std::string& name, const ExtensionContext& context) const;
  Result<traffic::TrafficRouterPtr> makeRouter(const std::string& name, const RouterContext& router,
                                               const ExtensionContext& context) const;
  Result<analysis::MetricProviderPtr> makeProvider(const spec::MetricProviderSpec& spec,
                                                   const ExtensionContext& context) const;
  Result<std::unique_ptr<store::StateStore>> makeStore(const std::string& name,
                                                       const ExtensionContext& context) const;

  // "ramp/haproxy" -> "traffic.haproxy". kUnsupported for plugins that are not ramp's own.
  static Result<std::string> routerNameFor(const std::string& pluginName);
  // The router that would serve one of Argo's own trafficRouting keys: "istio" ->
  // "traffic.istio", "nginx" -> "traffic.nginx_ingress", "alb" -> "traffic.alb", "smi",
  // "ambassador", "appMesh" -> "traffic.app_mesh", "traefik", "apisix".
  static std::string routerNameForKey(std::string_view argoKey);

  // What the routers a Rollout names say about it, whatever the platform: each ramp/* plugin's
  // config problems, and steps it cannot carry (setHeaderRoute, setMirrorRoute, pingPong); for
  // blue-green (blueGreen.trafficRouting), a warning when the previewService has no destination
  // of its own. Paths are absolute (spec.strategy.canary.trafficRouting.plugins[ramp/haproxy].
  // backend).
  std::vector<spec::Diagnostic> checkRouters(const spec::Rollout& rollout) const;
  // Whether `platform` can run the Rollout: a registered platform; every trafficRouting entry
  // (Argo's keys and plugins) served by a registered router that routes for this platform; the
  // platform's own checks. Errors name the field. A platform not registered here (a driver a
  // test injects) has no checks of its own; the routers are still checked.
  std::vector<spec::Diagnostic> checkPlatform(const spec::Rollout& rollout,
                                              const std::string& platform) const;
  // checkRouters + checkPlatform: everything the daemon on `platform` refuses to run.
  std::vector<spec::Diagnostic> checkRollout(const spec::Rollout& rollout,
                                             const std::string& platform) const;
  // What the Rollout's routers claim alone (empty for routers that claim nothing), as
  // ClaimHolders of `rolloutKey`. Configs with problems claim nothing.
  std::vector<ClaimHolder> claimsOf(const std::string& rolloutKey,
                                    const spec::Rollout& rollout) const;
  // The plugin names ("ramp/haproxy", …) whose routers may claim resources: a Rollout that
  // names none of them claims nothing (lets callers skip decoding).
  std::vector<std::string> claimingPlugins() const;
  // prometheus -> "provider.prometheus", plugin "ramp/judge" -> "provider.judge", …
  // kUnsupported for providers ramp models but does not run; kInvalidArgument for none.
  static Result<std::string> providerNameFor(const spec::MetricProviderSpec& spec);

  // Registered names, sorted, for `ramp version` and error messages.
  std::vector<std::string> names() const;

 private:
  std::map<std::string, PlatformFactory> platforms_;
  std::map<std::string, PlatformTraits> platformTraits_;
  std::map<std::string, RouterFactory> routers_;
  std::map<std::string, RouterTraits> routerTraits_;
  std::map<std::string, ProviderFactory> providers_;
  std::map<std::string, StoreFactory> stores_;
};

// Ownership of claimed resources, as Argo refuses a Service managed by another Rollout: for each
// of `mine` that a different Rollout among `others` also claims and owns (it was created first,
// or at the same time with a smaller key), one error at the claim's path, e.g.
//   backend be_app is managed by rollout default/web
// Pure; `others` may hold `mine`'s own Rollout (ignored).
std::vector<spec::Diagnostic> claimConflicts(const std::vector<ClaimHolder>& mine,
                                             const std::vector<ClaimHolder>& others);

// The daemon's settings of particular built-in extensions (one extension's flag stays out of
// ExtensionContext, which every extension shares): given at registration, kept by the factories.
struct BuiltinSettings {
  // The default Prometheus address of provider.prometheus and ramp/judge (ramp serve
  // --prometheus); "" = $ARGO_ROLLOUTS_PROMETHEUS_ADDRESS, or none.
  std::string prometheusAddress;
};

// The one explicit registration list (src/registry/builtins.cc).
void registerBuiltins(Registry& registry, const BuiltinSettings& settings = {});

}  // namespace ramp
