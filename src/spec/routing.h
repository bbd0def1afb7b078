#pragma once

// What a Rollout's routing block names, read the same way by every part that reports or checks
// it (the registry's platform check, /metrics' traffic_router label). Where the block is
// (trafficRouting, serviceRouting, blueGreen.trafficRouting) is spec::routersOf in
// ramp/spec/rollout.h.
//
// Pure functions; thread-safe.

#include <string_view>
#include <vector>

#include "ramp/spec/rollout.h"

namespace ramp::spec {

// Argo's own router keys set in `routing` ("istio", "nginx", "alb", "smi", "ambassador",
// "appMesh", "traefik", "apisix"), in the order Argo lists them. Plugins are not included.
std::vector<std::string_view> argoRouterKeys(const TrafficRouting& routing);

}  // namespace ramp::spec
