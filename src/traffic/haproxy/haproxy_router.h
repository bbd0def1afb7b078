#pragma once

// HaproxyRouter: the `ramp/haproxy` TrafficRouter. It drives one HAProxy backend through the
// runtime API: it adds a dynamic server (`add server`) for every replica of the stable and the
// canary revision, keeps not-ready replicas in maintenance, deletes servers of replicas that
// went away, and sets absolute server weights so that the canary:stable ratio of the summed
// weights is canaryWeight:(maxTrafficWeight - canaryWeight) (weight_math.h). Every call reads
// `show servers state` and converges the backend to the desired state, so calls are
// idempotent and a restarted HAProxy (runtime state lost) is repaired by the next call;
// verifyWeight reports kNotYet until then. With `backendFile` set, every applied change is also
// written as a backend section HAProxy loads at start, so a restart alone never empties the
// backend. Servers not named with the configured prefix are never touched. See
// docs/routers/haproxy.md.
//
// Thread safety: one instance is driven by one reconcile at a time (TrafficRouter's rule).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ramp/clock.h"
#include "ramp/traffic/traffic_router.h"
#include "traffic/haproxy/haproxy_config.h"
#include "traffic/haproxy/runtime_api.h"
#include "traffic/haproxy/server_state.h"

namespace ramp::traffic::haproxy {

inline constexpr std::string_view kHaproxyRouterType = "ramp/haproxy";

// One server ramp wants in the backend.
struct DesiredServer {
  std::string name;
  std::string address;
  int port = 0;
  bool ready = false;
  bool canary = false;
  int weight = 0;
  bool operator==(const DesiredServer&) const = default;
};

struct ServerPlan {
  std::vector<DesiredServer> servers;
  bool satisfied = true;  // false: the split cannot be met (see SplitTotals::satisfied)
};

// The HAProxy server name of an endpoint: <prefix><name> when the endpoint name already holds
// the revision's hash, else <prefix><hash>-<name>; characters HAProxy rejects become '_'.
std::string serverName(std::string_view prefix, std::string_view podTemplateHash,
                       std::string_view endpointName);

// Computes the servers and weights for the given replicas and canary weight. A canary with the
// stable's hash counts as no canary. Returns the weight math's errors and kInvalidArgument for
// two endpoints that map to the same server name.
Result<ServerPlan> planServers(const HaproxyConfig& config, const RevisionEndpoints& stable,
                               const RevisionEndpoints& canary, int32_t canaryWeight,
                               int32_t maxTrafficWeight);

// One runtime API command and whether its failure aborts the remaining ones.
struct RuntimeCommand {
  std::string line;
  bool fatal = true;
  bool operator==(const RuntimeCommand&) const = default;
};

// The commands that turn `actual` into `desired`, ordered so traffic never points at nothing:
// new servers are added and enabled first, then weights that grow, then weights that shrink and
// replicas that became not ready, and last the servers of replicas that went away are put in
// maintenance and deleted (a failed delete is not fatal: the server is already out).
std::vector<RuntimeCommand> planCommands(std::string_view backend, std::string_view prefix,
                                         const std::vector<ServerState>& actual,
                                         const std::vector<DesiredServer>& desired);

// Lists the differences between `actual` and `desired` that matter for traffic; empty when the
// backend is in the desired state.
std::vector<std::string> diffServers(std::string_view prefix,
                                     const std::vector<ServerState>& actual,
                                     const std::vector<DesiredServer>& desired);

// The text of `backendFile`: the `backend <config.backend>` section holding `servers` as
// HAProxy config lines (`server <name> <addr>:<port> weight <w>`, `disabled` when not ready), so
// HAProxy starts with the state they describe. Servers come in the given order.
std::string renderBackendFile(const HaproxyConfig& config,
                              const std::vector<DesiredServer>& servers);

class HaproxyRouter final : public TrafficRouter {
 public:
  // Parses the plugin config (parseHaproxyConfig's errors). `maxTrafficWeight` is the rollout's
  // (default 100). Does not connect: a down HAProxy shows up as an Error from the first call.
  static Result<std::unique_ptr<HaproxyRouter>> create(std::string_view configJson,
                                                       int32_t maxTrafficWeight, Clock& clock);

  HaproxyRouter(HaproxyConfig config, int32_t maxTrafficWeight, Clock& clock);

  Status syncEndpoints(const RevisionEndpoints& stable, const RevisionEndpoints& canary) override;
  Status setWeight(int32_t canaryWeight, std::span<const WeightDestination> additional) override;
  Result<WeightCheck> verifyWeight(int32_t canaryWeight,
                                   std::span<const WeightDestination> additional) override;
  // HAProxy cannot add ACLs at run time: kUnsupported (docs/routers/haproxy.md).
  Status setHeaderRoute(const HeaderRoute& route) override;
  Status setMirrorRoute(const MirrorRoute& route) override;
  // Nothing to remove: this router creates no header or mirror routes.
  Status removeManagedRoutes() override;
  // Empties `backendFile` of servers, then puts every server with the prefix in maintenance and
  // deletes it. kUnavailable if HAProxy cannot be reached (the file is written first).
  Status removeAll() override;
  std::string type() const override { return std::string(kHaproxyRouterType); }

  const HaproxyConfig& config() const { return config_; }

 private:
  // Reads the backend's servers and applies the commands that reach `weight`, then writes
  // backendFile.
  Status converge(int32_t weight);
  // Sends the commands that turn the backend's servers into `desired`.
  Status applyServers(const std::vector<DesiredServer>& desired);
  // Writes backendFile (when configured and changed) for `servers`.
  Status persist(const std::vector<DesiredServer>& servers);
  Result<std::vector<ServerState>> readServers(RuntimeApiClient::Session& session);

  HaproxyConfig config_;
  int32_t maxTrafficWeight_;
  RuntimeApiClient client_;
  std::optional<RevisionEndpoints> stable_;
  std::optional<RevisionEndpoints> canary_;
  std::optional<int32_t> weight_;  // the last weight set; 0 (all stable) until setWeight
};

}  // namespace ramp::traffic::haproxy
