#include "ramp/registry.h"

#include <algorithm>
#include <string_view>

#include "spec/routing.h"

namespace ramp {
namespace {

constexpr std::string_view kRampPluginPrefix = "ramp/";

template <class Map, class Factory>
Status addTo(Map& map, const std::string& name, std::string_view prefix, Factory factory) {
  if (!name.starts_with(prefix) || name.size() == prefix.size()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "registry: name \"" + name + "\" must start with \"" + std::string(prefix) +
                         "\" and name an implementation");
  }
  if (!factory) {
    return makeError(ErrorCode::kInvalidArgument, "registry: empty factory for \"" + name + "\"");
  }
  if (!map.emplace(name, std::move(factory)).second) {
    return makeError(ErrorCode::kAlreadyExists, "registry: \"" + name + "\" is already registered");
  }
  return {};
}

template <class Map>
std::string namesOf(const Map& map) {
  std::string out;
  for (const auto& [name, factory] : map) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

template <class Map>
Error notFound(const Map& map, const std::string& name, std::string_view kind) {
  return Error{ErrorCode::kNotFound, "no " + std::string(kind) + " named \"" + name +
                                         "\" is registered (registered: " + namesOf(map) + ")"};
}

}  // namespace

Status Registry::addPlatform(const std::string& name, PlatformFactory factory,
                             PlatformTraits traits) {
  if (auto s = addTo(platforms_, name, "platform.", std::move(factory)); !s) return s;
  platformTraits_[name] = std::move(traits);
  return {};
}

Status Registry::addRouter(const std::string& name, RouterFactory factory, RouterTraits traits) {
  if (auto s = addTo(routers_, name, "traffic.", std::move(factory)); !s) return s;
  routerTraits_[name] = std::move(traits);
  return {};
}

Status Registry::addProvider(const std::string& name, ProviderFactory factory) {
  return addTo(providers_, name, "provider.", std::move(factory));
}

Status Registry::addStore(const std::string& name, StoreFactory factory) {
  return addTo(stores_, name, "store.", std::move(factory));
}

Result<std::unique_ptr<store::StateStore>> Registry::makeStore(
    const std::string& name, const ExtensionContext& context) const {
  auto it = stores_.find(name);
  if (it == stores_.end()) return std::unexpected(notFound(stores_, name, "store"));
  return it->second(context);
}

Result<std::unique_ptr<platform::WorkloadDriver>> Registry::makePlatform(
    const std::string& name, const ExtensionContext& context) const {
  auto it = platforms_.find(name);
  if (it == platforms_.end()) return std::unexpected(notFound(platforms_, name, "platform"));
  return it->second(context);
}

Result<traffic::TrafficRouterPtr> Registry::makeRouter(const std::string& name,
                                                       const RouterContext& router,
                                                       const ExtensionContext& context) const {
  auto it = routers_.find(name);
  if (it == routers_.end()) return std::unexpected(notFound(routers_, name, "traffic router"));
  return it->second(router, context);
}

Result<analysis::MetricProviderPtr> Registry::makeProvider(const spec::MetricProviderSpec& spec,
                                                           const ExtensionContext& context) const {
  auto name = providerNameFor(spec);
  if (!name) return std::unexpected(name.error());
  auto it = providers_.find(*name);
  if (it == providers_.end()) {
    return std::unexpected(notFound(providers_, *name, "metric provider"));
  }
  return it->second(spec, context);
}

Result<std::string> Registry::routerNameFor(const std::string& pluginName) {
  if (!pluginName.starts_with(kRampPluginPrefix) || pluginName.size() == kRampPluginPrefix.size()) {
    return makeError(ErrorCode::kUnsupported,
                     "traffic router plugin \"" + pluginName +
                         "\" is not one of ramp's own routers (ramp/haproxy, ramp/nginx, …)");
  }
  return "traffic." + pluginName.substr(kRampPluginPrefix.size());
}

Result<std::string> Registry::providerNameFor(const spec::MetricProviderSpec& spec) {
  if (spec.prometheus) return std::string("provider.prometheus");
  if (spec.web) return std::string("provider.web");
  if (spec.job) return std::string("provider.job");
  if (!spec.plugin.empty()) {
    const std::string& plugin = spec.plugin.begin()->first;
    if (!plugin.starts_with(kRampPluginPrefix) || plugin.size() == kRampPluginPrefix.size()) {
      return makeError(ErrorCode::kUnsupported,
                       "metric provider plugin \"" + plugin +
                           "\" is not one of ramp's own providers (ramp/judge, ramp/sim, …)");
    }
    return "provider." + plugin.substr(kRampPluginPrefix.size());
  }
  if (!spec.other.empty()) {
    return makeError(ErrorCode::kUnsupported,
                     "metric provider \"" + spec.other.begin()->first +
                         "\" is not supported by ramp (supported: prometheus, web, job, ramp/*)");
  }
  return makeError(ErrorCode::kInvalidArgument, "metric has no provider");
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  for (const auto& [n, f] : platforms_) out.push_back(n);
  for (const auto& [n, f] : routers_) out.push_back(n);
  for (const auto& [n, f] : providers_) out.push_back(n);
  for (const auto& [n, f] : stores_) out.push_back(n);
  std::sort(out.begin(), out.end());
  return out;
}

std::string Registry::routerNameForKey(std::string_view argoKey) {
  if (argoKey == "nginx") return "traffic.nginx_ingress";
  if (argoKey == "appMesh") return "traffic.app_mesh";
  return "traffic." + std::string(argoKey);
}

namespace {

std::string pluginPath(const spec::Rollout& rollout, const std::string& plugin) {
  return spec::routersPath(rollout.spec) + ".plugins[" + plugin + "]";
}

spec::Diagnostic problem(std::string path, std::string message,
                         spec::Severity severity = spec::Severity::kError) {
  spec::Diagnostic d;
  d.path = std::move(path);
  d.message = std::move(message);
  d.severity = severity;
  return d;
}

}  // namespace

std::vector<spec::Diagnostic> Registry::checkRouters(const spec::Rollout& rollout) const {
  std::vector<spec::Diagnostic> out;
  const spec::TrafficRouting* routing = spec::routersOf(rollout.spec);
  if (routing == nullptr) return out;
  const auto& blueGreen = rollout.spec.strategy.blueGreen;
  for (const auto& [plugin, config] : routing->plugins) {
    auto name = routerNameFor(plugin);
    if (!name) continue;  // not ramp's: checkPlatform reports it
    auto traits = routerTraits_.find(*name);
    if (traits == routerTraits_.end() || !traits->second.inspect) continue;
    const std::string path = pluginPath(rollout, plugin);
    RouterConfigReport report =
        traits->second.inspect(config.text.empty() ? std::string_view("{}") : config.text);
    for (spec::Diagnostic& d : report.problems) {
      d.path = d.path.empty() ? path : path + "." + d.path;
      out.push_back(std::move(d));
    }
    if (blueGreen) {
      if (!blueGreen->previewService.empty() && !report.preview && report.problems.empty()) {
        out.push_back(problem(path,
                              "the preview (previewService " + blueGreen->previewService +
                                  ") is not reachable through " + plugin + " before promotion: " +
                                  "set " + report.previewField + " to give it its own destination",
                              spec::Severity::kWarning));
      }
      continue;
    }
    const auto& canary = *rollout.spec.strategy.canary;
    for (size_t i = 0; i < canary.steps.size(); ++i) {
      const std::string step = "spec.strategy.canary.steps[" + std::to_string(i) + "]";
      if (canary.steps[i].setHeaderRoute && !report.headerRoutes) {
        out.push_back(problem(step + ".setHeaderRoute",
                              plugin + " cannot route by header: use a router that can, or "
                                       "remove the step"));
      }
      if (canary.steps[i].setMirrorRoute && !report.mirrorRoutes) {
        out.push_back(problem(step + ".setMirrorRoute",
                              plugin + " cannot mirror traffic: use a router that can, or "
                                       "remove the step"));
      }
    }
    if (canary.pingPong && !report.pingPong) {
      out.push_back(problem("spec.strategy.canary.pingPong",
                            plugin + " cannot alternate ping and pong Services: remove pingPong"));
    }
  }
  return out;
}

std::vector<spec::Diagnostic> Registry::checkPlatform(const spec::Rollout& rollout,
                                                      const std::string& platform) const {
  std::vector<spec::Diagnostic> out;
  auto traits = platformTraits_.find(platform);
  // The routers that could serve this platform, for the messages (only built for a problem).
  const auto here = [&] {
    std::string out;
    for (const auto& [name, rt] : routerTraits_) {
      const auto& ps = rt.platforms;
      if (!ps.empty() && std::find(ps.begin(), ps.end(), platform) == ps.end()) continue;
      out += (out.empty() ? "" : ", ") + std::string(kRampPluginPrefix) +
             name.substr(std::string_view("traffic.").size());
    }
    return out.empty() ? std::string("none") : out;
  };
  // Checks that router `name` is registered and routes for this platform.
  const auto available = [&](const std::string& name, const std::string& path,
                             const std::string& what) {
    auto rt = routerTraits_.find(name);
    if (rt == routerTraits_.end()) {
      out.push_back(problem(path, what + " is not available on " + platform + ": no router " +
                                      name + " is registered (routers here: " + here() + ")"));
      return;
    }
    const auto& ps = rt->second.platforms;
    if (!ps.empty() && std::find(ps.begin(), ps.end(), platform) == ps.end()) {
      std::string list;
      for (const auto& p : ps) list += (list.empty() ? "" : ", ") + p;
      out.push_back(problem(path, what + " is not available on " + platform + ": " + name +
                                      " routes only for " + list + " (routers here: " + here() +
                                      ")"));
    }
  };
  if (const spec::TrafficRouting* routing = spec::routersOf(rollout.spec)) {
    for (std::string_view key : spec::argoRouterKeys(*routing)) {
      available(routerNameForKey(key), spec::routersPath(rollout.spec) + "." + std::string(key),
                std::string(key) + " traffic routing");
    }
    for (const auto& [plugin, config] : routing->plugins) {
      auto name = routerNameFor(plugin);
      if (!name) {
        out.push_back(
            problem(pluginPath(rollout, plugin),
                    "traffic router plugin " + plugin + " is not available on " + platform +
                        ": ramp runs only its own routers (routers here: " + here() + ")"));
        continue;
      }
      available(*name, pluginPath(rollout, plugin), "traffic router plugin " + plugin);
    }
  }
  if (rollout.spec.workloadRef && traits != platformTraits_.end() && !traits->second.workloadRefs) {
    out.push_back(problem("spec.workloadRef",
                          platform + " cannot read a pod template from a Kubernetes " +
                              rollout.spec.workloadRef->kind +
                              ": workloadRef needs platform.kubernetes (or inline spec.template)"));
  }
  if (traits != platformTraits_.end() && traits->second.inspect) {
    for (spec::Diagnostic& d : traits->second.inspect(rollout)) out.push_back(std::move(d));
  }
  return out;
}

std::vector<spec::Diagnostic> Registry::checkRollout(const spec::Rollout& rollout,
                                                     const std::string& platform) const {
  std::vector<spec::Diagnostic> out = checkRouters(rollout);
  for (spec::Diagnostic& d : checkPlatform(rollout, platform)) out.push_back(std::move(d));
  return out;
}

std::vector<ClaimHolder> Registry::claimsOf(const std::string& rolloutKey,
                                            const spec::Rollout& rollout) const {
  std::vector<ClaimHolder> out;
  const spec::TrafficRouting* routing = spec::routersOf(rollout.spec);
  if (routing == nullptr) return out;
  for (const auto& [plugin, config] : routing->plugins) {
    auto name = routerNameFor(plugin);
    if (!name) continue;
    auto traits = routerTraits_.find(*name);
    if (traits == routerTraits_.end() || !traits->second.inspect) continue;
    RouterConfigReport report =
        traits->second.inspect(config.text.empty() ? std::string_view("{}") : config.text);
    if (spec::hasErrors(report.problems)) continue;
    for (RouterClaim& claim : report.claims) {
      ClaimHolder h;
      h.rolloutKey = rolloutKey;
      h.createdAt = rollout.metadata.creationTimestamp.value_or(Time::max());
      h.path = pluginPath(rollout, plugin) + (claim.field.empty() ? "" : "." + claim.field);
      h.claim = std::move(claim);
      out.push_back(std::move(h));
    }
  }
  return out;
}

std::vector<std::string> Registry::claimingPlugins() const {
  std::vector<std::string> out;
  for (const auto& [name, traits] : routerTraits_) {
    if (!traits.inspect) continue;
    out.push_back(std::string(kRampPluginPrefix) +
                  name.substr(std::string_view("traffic.").size()));
  }
  return out;
}

std::vector<spec::Diagnostic> claimConflicts(const std::vector<ClaimHolder>& mine,
                                             const std::vector<ClaimHolder>& others) {
  std::vector<spec::Diagnostic> out;
  for (const ClaimHolder& m : mine) {
    const ClaimHolder* owner = nullptr;
    for (const ClaimHolder& o : others) {
      if (o.rolloutKey == m.rolloutKey || o.claim.resource != m.claim.resource) continue;
      const bool first =
          std::pair(o.createdAt, o.rolloutKey) < std::pair(m.createdAt, m.rolloutKey);
      if (!first) continue;
      if (owner == nullptr ||
          std::pair(o.createdAt, o.rolloutKey) < std::pair(owner->createdAt, owner->rolloutKey)) {
        owner = &o;
      }
    }
    if (owner != nullptr) {
      out.push_back(
          problem(m.path, m.claim.description + " is managed by rollout " + owner->rolloutKey));
    }
  }
  return out;
}

}  // namespace ramp
