#include "spec/routing.h"

#include <utility>

namespace ramp::spec {

std::vector<std::string_view> argoRouterKeys(const TrafficRouting& routing) {
  std::vector<std::string_view> keys;
  const std::pair<std::string_view, const RawJson*> all[] = {{"istio", &routing.istio},
                                                             {"nginx", &routing.nginx},
                                                             {"alb", &routing.alb},
                                                             {"smi", &routing.smi},
                                                             {"ambassador", &routing.ambassador},
                                                             {"appMesh", &routing.appMesh},
                                                             {"traefik", &routing.traefik},
                                                             {"apisix", &routing.apisix}};
  for (const auto& [key, raw] : all) {
    if (!raw->empty()) keys.push_back(key);
  }
  return keys;
}

}  // namespace ramp::spec
