#pragma once

// The configuration of the nginx router: the free JSON object a Rollout gives under
// `trafficRouting.plugins["ramp/nginx"]`. See docs/routers/nginx.md.
//
// Plain value; thread-safe.

#include <string>
#include <string_view>

#include "ramp/error.h"
#include "ramp/registry.h"

namespace ramp::traffic::nginx {

struct NginxConfig {
  std::string includePath;            // the file ramp renders; nginx.conf includes it in http {}
  std::string upstream;               // the upstream block's name, e.g. "app"
  std::string nginxBinary = "nginx";  // found on PATH unless absolute
  std::string prefix;                 // nginx -p (optional)
  std::string conf;                   // nginx -c (optional)
  std::string errorLog;               // nginx -e (optional; avoids the default log path)
  std::string pidFile;                // the master's pid file: reload = SIGHUP to that pid
  std::string stateUrl;               // optional: a URL that answers $<stateVariable>
  std::string stateVariable;          // default "ramp_state_<upstream>"
  int keepalive = 0;                  // > 0 adds `keepalive N;` to the upstream
  int timeoutMs = 10000;              // bound on `nginx -t` and on the state request
  // Optional second upstream holding only the canary's replicas (the stable's when there is
  // none): a blue-green's preview Service, for a server block or a map of the user's own.
  std::string previewUpstream;
  bool operator==(const NginxConfig&) const = default;
};

// Parses the JSON text of the plugin config. Errors are kInvalidArgument (kParse for text that
// is not JSON) naming the field, e.g. trafficRouting.plugins["ramp/nginx"].upstream: required
Result<NginxConfig> parseNginxConfig(std::string_view json);

// The router's declarations for the registry (RouterTraits::inspect): the config's problem with
// its field ("upstream": required), no header or mirror routes, no ping-pong, and the claims on
// the upstream and the preview upstream (per nginx, named by its pid file) and on the rendered
// include file.
RouterConfigReport inspectNginxConfig(std::string_view json);

}  // namespace ramp::traffic::nginx
