#pragma once

// HaproxyRouter: the `ramp/haproxy` TrafficRouter. It drives one HAProxy backend (and optionally
// a preview backend) through the runtime API: it adds a dynamic server (`add server`) for every
// replica of the stable and the canary revision, and of draining revisions at weight 0, keeps
// not-ready replicas in maintenance, deletes servers of replicas that went away, and sets
// absolute server weights so that the canary:stable ratio of the summed weights is
// canaryWeight:(maxTrafficWeight - canaryWeight) (weight_math.h). The preview backend holds the
// canary's replicas alone (blue-green's preview Service). Every call reads `show servers state`
// and converges the backends to the desired state, sending the weight changes of both backends
// as one batch, so calls are idempotent, a switch is applied in one go, and a restarted HAProxy
// (runtime state lost) is repaired by the next call; verifyWeight reports kNotYet until then.
// With `backendFile` set, every applied change is also written as backend sections HAProxy
// loads at start, so a restart alone never empties the backends. Servers not named with the
// configured prefix are never touched. See docs/routers/haproxy.md.
//
// Thread safety: one instance is driven by one reconcile at a time (TrafficRouter's rule).

#include <memory>
#include <optional>
#include <span>
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

// Computes the servers and weights of `backend` for the given replicas and canary weight. A
// canary with the stable's hash counts as no canary. The replicas of `draining` revisions are
// kept at weight 0 (in rotation, no new requests); a draining revision that is also the stable
// or the canary counts once. Returns the weight math's errors and kInvalidArgument for two
// endpoints that map to the same server name.
Result<ServerPlan> planServers(const HaproxyConfig& config, const RevisionEndpoints& stable,
                               const RevisionEndpoints& canary,
                               std::span<const RevisionEndpoints> draining, int32_t canaryWeight,
                               int32_t maxTrafficWeight);

// The servers of `previewBackend`: the canary's replicas (the stable's when the canary is empty
// or has the stable's hash), each ready one at maxServerWeight. A preview with no ready replica
// is not an error: the preview backend then sends nothing anywhere (HAProxy answers 503).
Result<std::vector<DesiredServer>> planPreviewServers(const HaproxyConfig& config,
                                                      const RevisionEndpoints& stable,
                                                      const RevisionEndpoints& canary);

// One runtime API command and whether its failure aborts the remaining ones.
struct RuntimeCommand {
  std::string line;
  bool fatal = true;
  bool operator==(const RuntimeCommand&) const = default;
};

// Whether HAProxy answers `line` with nothing on success (set weight, set server … state), so
// it can share a batch with others and its reply alone tells success.
bool silentOnSuccess(std::string_view line);

// The commands that turn `actual` into `desired`, ordered so traffic never points at nothing:
// new servers are added and enabled first, then weights that grow, then weights that shrink and
// replicas that became not ready, and last the servers of replicas that went away are put in
// maintenance and deleted (a failed delete is not fatal: the server is already out).
std::vector<RuntimeCommand> planCommands(std::string_view backend, std::string_view prefix,
                                         const std::vector<ServerState>& actual,
                                         const std::vector<DesiredServer>& desired);

// One backend's servers as HAProxy reports them and as ramp wants them.
struct BackendChange {
  std::string backend;
  std::vector<ServerState> actual;
  std::vector<DesiredServer> desired;
};

// planCommands over several backends, stage by stage: every backend's adds, then every
// backend's growing weights, then the shrinking ones, then the removals. A blue-green switch
// (the active backend's new servers up, the old ones to 0, the preview backend's servers) is
// thus one run of silent commands.
std::vector<RuntimeCommand> planCommands(std::span<const BackendChange> backends,
                                         std::string_view prefix);

// Groups `commands` into the lines to send: each run of consecutive silent commands
// (silentOnSuccess) becomes one batch, sent as one line (RuntimeApiClient::Session::callBatch)
// so HAProxy applies it in one go; any other command is a line of its own. Order is kept. A
// batch stops growing at kMaxBatchLine characters (HAProxy reads a command line into one
// buffer, 16 KB by default), so a switch of very many servers takes several lines.
inline constexpr size_t kMaxBatchLine = 8000;
std::vector<std::vector<RuntimeCommand>> batchCommands(const std::vector<RuntimeCommand>& commands);

// Lists the differences between `actual` and `desired` that matter for traffic; empty when the
// backend is in the desired state.
std::vector<std::string> diffServers(std::string_view prefix,
                                     const std::vector<ServerState>& actual,
                                     const std::vector<DesiredServer>& desired);

// The text of `backendFile`: the `backend <config.backend>` section holding `servers` as
// HAProxy config lines (`server <name> <addr>:<port> weight <w>`, `disabled` when not ready), and
// with a `previewBackend`, its section holding `previewServers`, so HAProxy starts with the
// state they describe. Servers come in the given order.
std::string renderBackendFile(const HaproxyConfig& config,
                              const std::vector<DesiredServer>& servers,
                              const std::vector<DesiredServer>& previewServers = {});

class HaproxyRouter final : public TrafficRouter {
 public:
  // Parses the plugin config (parseHaproxyConfig's errors). `maxTrafficWeight` is the rollout's
  // (default 100). Does not connect: a down HAProxy shows up as an Error from the first call.
  static Result<std::unique_ptr<HaproxyRouter>> create(std::string_view configJson,
                                                       int32_t maxTrafficWeight, Clock& clock);

  HaproxyRouter(HaproxyConfig config, int32_t maxTrafficWeight, Clock& clock);

  Status syncEndpoints(const RevisionEndpoints& stable, const RevisionEndpoints& canary,
                       std::span<const RevisionEndpoints> draining) override;
  Status setWeight(int32_t canaryWeight, std::span<const WeightDestination> additional) override;
  Result<WeightCheck> verifyWeight(int32_t canaryWeight,
                                   std::span<const WeightDestination> additional) override;
  // HAProxy cannot add ACLs at run time: kUnsupported (docs/routers/haproxy.md).
  Status setHeaderRoute(const HeaderRoute& route) override;
  Status setMirrorRoute(const MirrorRoute& route) override;
  // Nothing to remove: this router creates no header or mirror routes.
  Status removeManagedRoutes() override;
  // Empties `backendFile` of servers, then puts every server with the prefix (in the backend and
  // the preview backend) in maintenance and deletes it. kUnavailable if HAProxy cannot be reached
  // (the file is written first).
  Status removeAll() override;
  std::string type() const override { return std::string(kHaproxyRouterType); }

  const HaproxyConfig& config() const { return config_; }

 private:
  // The servers of the backend and of the preview backend for `weight`.
  struct Desired {
    ServerPlan main;
    std::vector<DesiredServer> preview;
  };
  Result<Desired> plan(int32_t weight) const;
  // Reads the backends' servers and applies the commands that reach `weight`, then writes
  // backendFile.
  Status converge(int32_t weight);
  // Sends the commands that turn the backend's (and the preview backend's) servers into
  // `desired`, batched (batchCommands).
  Status applyServers(const Desired& desired);
  // Writes backendFile (when configured and changed) for `desired`.
  Status persist(const Desired& desired);
  Result<std::vector<ServerState>> readServers(RuntimeApiClient::Session& session,
                                               const std::string& backend);

  HaproxyConfig config_;
  int32_t maxTrafficWeight_;
  RuntimeApiClient client_;
  std::optional<RevisionEndpoints> stable_;
  std::optional<RevisionEndpoints> canary_;
  std::vector<RevisionEndpoints> draining_;
  std::optional<int32_t> weight_;  // the last weight set; 0 (all stable) until setWeight
};

}  // namespace ramp::traffic::haproxy
