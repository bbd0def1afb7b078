#include "ramp/registry.h"

#include <algorithm>
#include <string_view>

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

Status Registry::addPlatform(const std::string& name, PlatformFactory factory) {
  return addTo(platforms_, name, "platform.", std::move(factory));
}

Status Registry::addRouter(const std::string& name, RouterFactory factory) {
  return addTo(routers_, name, "traffic.", std::move(factory));
}

Status Registry::addProvider(const std::string& name, ProviderFactory factory) {
  return addTo(providers_, name, "provider.", std::move(factory));
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
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ramp
