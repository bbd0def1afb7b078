#pragma once

// The configuration of the HAProxy router: the free JSON object a Rollout gives under
// `trafficRouting.plugins["ramp/haproxy"]`. See docs/routers/haproxy.md.
//
// Plain value; thread-safe.

#include <string>
#include <string_view>

#include "ramp/error.h"
#include "ramp/registry.h"

namespace ramp::traffic::haproxy {

struct HaproxyConfig {
  std::string runtimeApi;              // "unix:/run/haproxy/admin.sock" or "127.0.0.1:9999"
  std::string backend;                 // the backend whose servers ramp manages, e.g. "be_app"
  std::string serverPrefix = "ramp-";  // servers ramp creates are named <prefix><hash>-<n>
  int maxServerWeight = 256;           // HAProxy absolute weight of a server carrying a full share
  int timeoutMs = 2000;                // per runtime API command (connect, write, read)
  // Optional absolute path of a file ramp rewrites after every change it applies, holding the
  // whole `backend <backend>` section with its servers and weights. HAProxy loads it with a
  // second -f, so a restart or reload starts with the last applied servers (runtime changes
  // alone are lost then). "" = runtime API only.
  std::string backendFile;
  // Optional second backend that holds only the canary's replicas (the stable's when there is
  // none), each at full weight: a blue-green's preview Service, reached through a frontend or
  // an ACL of the user's own. "" = none.
  std::string previewBackend;
  bool operator==(const HaproxyConfig&) const = default;
};

// Parses the JSON text of the plugin config. Errors are kInvalidArgument (or kParse for text
// that is not JSON) and name the field, e.g.
//   trafficRouting.plugins["ramp/haproxy"].backend: required
Result<HaproxyConfig> parseHaproxyConfig(std::string_view json);

// The router's declarations for the registry (RouterTraits::inspect): the config's problem with
// its field ("backend": required), no header or mirror routes, no ping-pong, and the claims on the
// backend and the preview backend (two Rollouts must not share one: each deletes the other's
// servers).
RouterConfigReport inspectHaproxyConfig(std::string_view json);

}  // namespace ramp::traffic::haproxy
