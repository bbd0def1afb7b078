#pragma once

// Renders the include file of the nginx router: one `upstream` block holding every replica of
// the stable and the canary revision (and of draining revisions, `down`), optionally a preview
// upstream with the canary's alone, and a `map` that defines $<stateVariable> as the digest of
// that block (so a location returning the variable tells which render the running workers use).
//
// nginx has no weight 0: a server that must get no traffic is written `down`. With ns ready
// stable and nc ready canary servers and canary weight w of M, every ready canary server gets
// weight w*ns/g and every stable one (M-w)*nc/g, g = gcd(w*ns, (M-w)*nc), so the summed weights
// are exactly w:(M-w). If the revision that should get traffic has no ready server, the other
// takes it all (never traffic pointing at nothing) and the plan says it is not satisfied.
//
// Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ramp/error.h"
#include "ramp/traffic/traffic_router.h"
#include "traffic/nginx/nginx_config.h"

namespace ramp::traffic::nginx {

struct RenderedUpstream {
  std::string text;    // the whole include file
  std::string digest;  // 16 hex digits of SHA-256 over the upstream block
  bool satisfied = true;
};

// Renders the include. The replicas of `draining` revisions (not the stable's or the canary's)
// are written `down`: kept in the configuration, given no request. With a `previewUpstream` the
// include holds a second upstream with the canary's replicas (the stable's when the canary is
// empty or has the stable's hash), every ready one at weight 1 (a placeholder `down` server
// when there is none), and the digest covers both blocks. Returns kInvalidArgument for a weight
// outside [0, maxTrafficWeight] or an endpoint without a port, kFailedPrecondition when no
// endpoint of either revision is ready.
Result<RenderedUpstream> renderUpstream(const NginxConfig& config, const RevisionEndpoints& stable,
                                        const RevisionEndpoints& canary, int32_t canaryWeight,
                                        int32_t maxTrafficWeight,
                                        std::span<const RevisionEndpoints> draining = {});

// The include for a rollout that was deleted: the upstream keeps its name (the user's
// proxy_pass refers to it; so does the preview upstream's) but holds no replica, only a placeholder
// server marked `down` (nginx requires one), so requests get 502 rather than reaching a stopped
// replica.
RenderedUpstream renderRemoved(const NginxConfig& config);

// Reads the canary weight back from a rendered include's header line; nullopt if absent.
std::optional<int32_t> renderedCanaryWeight(std::string_view text);

}  // namespace ramp::traffic::nginx
