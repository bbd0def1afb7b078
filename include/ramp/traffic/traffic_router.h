#pragma once

// TrafficRouter: moves live traffic between a rollout's stable and canary revisions through one
// proxy or mesh (HAProxy, nginx, later Gateway API, Istio, …). A rollout may use several routers
// at once; the controller drives each of them on every reconcile, in the order Argo does:
// syncEndpoints (Argo's UpdateHash), setWeight, then verifyWeight.
//
// Reconcile is level-triggered, so every method is idempotent: calling setWeight(10) twice is
// the same as once, and a router whose proxy restarted (losing runtime state) is brought back
// to the desired state by the next call. A router never leaves traffic pointing at nothing: if
// it cannot apply a change it keeps the last state that served and returns an Error.
//
// The controller also watches routers: every few seconds it calls verifyWeight with the weight
// it applied last, whatever the rollout's phase, and reconciles the rollout again when the proxy
// no longer holds it (docs/controller.md, "The router watch"). verifyWeight must therefore be
// cheap and must read the proxy, not the router's memory.
//
// Thread safety: one rollout's router is called by one caller at a time (its reconcile or the
// router watch, serialised by the controller); different instances may be called concurrently.
// Calls must be bounded by a timeout.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ramp/error.h"

namespace ramp::traffic {

// One replica that can receive traffic.
struct Endpoint {
  std::string name;     // stable, unique within the revision (e.g. "demo-6f9c-0")
  std::string address;  // IP or host, usually 127.0.0.1 on the process platform
  int port = 0;
  bool ready = false;  // only ready endpoints receive traffic
  bool operator==(const Endpoint&) const = default;
};

// The replicas of one revision, identified by its pod template hash.
struct RevisionEndpoints {
  std::string podTemplateHash;
  std::vector<Endpoint> endpoints;
  bool operator==(const RevisionEndpoints&) const = default;
};

// An extra weighted destination (experiments); unused by the first routers.
struct WeightDestination {
  std::string serviceName;
  std::string podTemplateHash;
  int32_t weight = 0;
  bool operator==(const WeightDestination&) const = default;
};

struct StringMatch {
  std::string exact;
  std::string prefix;
  std::string regex;  // exactly one of the three is set
  bool operator==(const StringMatch&) const = default;
};

struct HeaderRouteMatch {
  std::string headerName;
  StringMatch headerValue;
  bool operator==(const HeaderRouteMatch&) const = default;
};

// A setHeaderRoute step: requests matching every `match` go to the canary. No matches = remove
// the route named `name`.
struct HeaderRoute {
  std::string name;
  std::vector<HeaderRouteMatch> match;
  bool operator==(const HeaderRoute&) const = default;
};

// A setMirrorRoute step: `percentage` of requests matching any block are copied to the canary.
// No matches = remove the route named `name`.
struct MirrorRoute {
  struct Match {
    StringMatch method;
    StringMatch path;
    std::vector<std::pair<std::string, StringMatch>> headers;
    bool operator==(const Match&) const = default;
  };
  std::string name;
  std::optional<int32_t> percentage;
  std::vector<Match> match;
  bool operator==(const MirrorRoute&) const = default;
};

enum class WeightCheck {
  kVerified,     // the proxy reports exactly the desired weights
  kNotYet,       // it does not (yet): the controller re-applies and requeues
  kUnsupported,  // this router cannot read its weights back
};

class TrafficRouter {
 public:
  virtual ~TrafficRouter() = default;

  // Makes the proxy's destinations the given replicas (ready ones receive traffic):
  // - `stable` and `canary` share the traffic as setWeight says. Blue-green passes its active
  //   revision as `stable` and its preview as `canary`, at weight 0, so promotion is a weight
  //   change of servers already in place.
  // - A router configured with a preview destination (ramp/haproxy `previewBackend`, ramp/nginx
  //   `previewUpstream`) gives all of that destination's traffic to the canary's replicas (the
  //   stable's when there is no canary): blue-green's preview Service.
  // - `draining` are revisions that left traffic but still run (a blue-green's previous active
  //   during scaleDownDelaySeconds): they stay in the proxy's configuration with no traffic, so
  //   requests in flight finish and a rollback inside the delay is a weight change. Servers of a
  //   revision in none of the three are removed.
  // The weight change between the destinations is applied in one batch (one runtime API line,
  // one reload), never command by command. On error the previous destinations stay in place.
  virtual Status syncEndpoints(const RevisionEndpoints& stable, const RevisionEndpoints& canary,
                               std::span<const RevisionEndpoints> draining) = 0;

  // Sends `canaryWeight` percent (of maxTrafficWeight, default 100) to the canary and the rest
  // to stable. On error returns an Error naming the proxy and the command that failed.
  virtual Status setWeight(int32_t canaryWeight, std::span<const WeightDestination> additional) = 0;

  // Reads the applied weights back and compares them with `canaryWeight`.
  virtual Result<WeightCheck> verifyWeight(int32_t canaryWeight,
                                           std::span<const WeightDestination> additional) = 0;

  // Adds, replaces or (no matches) removes a managed header route. kUnsupported Error if the
  // router cannot route by header.
  virtual Status setHeaderRoute(const HeaderRoute& route) = 0;

  // Adds, replaces or removes a managed mirror route. kUnsupported Error if it cannot mirror.
  virtual Status setMirrorRoute(const MirrorRoute& route) = 0;

  // Removes every header/mirror route this router created (on promotion and abort).
  virtual Status removeManagedRoutes() = 0;

  // Removes every destination this router gave the rollout (its servers, upstream entries and
  // routes): the rollout was deleted, and its replicas are about to stop. Afterwards the proxy
  // sends nothing to them; what it then does with requests is the user's configuration (e.g.
  // a backup server, or 503). Idempotent; on error returns an Error naming the proxy, and the
  // controller retries.
  virtual Status removeAll() = 0;

  // Whether what this router applied can change behind its back (a proxy in another process
  // that can restart, reload or be edited), so the controller's router watch should read it
  // back periodically. A router whose state lives only in ramp (traffic.sim) returns false.
  virtual bool watchable() const { return true; }

  // The name it is configured under, e.g. "ramp/haproxy".
  virtual std::string type() const = 0;
};

using TrafficRouterPtr = std::unique_ptr<TrafficRouter>;

}  // namespace ramp::traffic
