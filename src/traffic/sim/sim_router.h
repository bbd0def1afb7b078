#pragma once

// SimRouter ("ramp/sim", registered as "traffic.sim"): a simulated traffic router for the
// controller's crash test and scale benchmark. It routes nothing; it records, per rollout, what
// a real router would have been told (stable and canary endpoints, canary weight, extra
// destinations, header and mirror routes) and reads it back in verifyWeight.
//
// One SimRouter drives one rollout, but every router with the same data dir shares one backing
// state (a process-wide map dataDir -> state) with one SQLite connection to
// <dataDir>/traffic.sim/sim.db (WAL, synchronous=NORMAL), so 100,000 rollouts open one file.
// Every change is written through before the call returns and is loaded back by the first
// router created on that dir after a restart. Data dir "" = memory only (shared by every router
// with dataDir "" while one of them lives).
//
// Config (the plugin's JSON): {} or {"headerRoutes": false}, which makes setHeaderRoute and
// setMirrorRoute return kUnsupported (for tests of routers without header routing).
//
// Thread safety: routers may be called concurrently (the shared state has one mutex);
// readSimTraffic may be called from any thread.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ramp/error.h"
#include "ramp/registry.h"
#include "ramp/traffic/traffic_router.h"

namespace ramp::traffic::sim {

// What the simulated proxy holds for one rollout.
struct SimTrafficState {
  RevisionEndpoints stable;
  RevisionEndpoints canary;
  int32_t canaryWeight = 0;
  std::vector<WeightDestination> additional;
  std::vector<HeaderRoute> headerRoutes;  // in the order they were first set
  std::vector<MirrorRoute> mirrorRoutes;
  int64_t weightChanges = 0;  // setWeight calls that changed the weights
  bool operator==(const SimTrafficState&) const = default;
};

class SimRouter final : public TrafficRouter {
 public:
  struct Shared;  // the per-data-dir backing state (defined in the .cc)

  // Parses `configJson` and attaches to the shared state of `dataDir` (opening it on first
  // use). On error returns kInvalidArgument naming the config field, or kUnavailable /
  // kFailedPrecondition when the SQLite file cannot be opened or read (naming the file).
  static Result<std::unique_ptr<SimRouter>> create(const std::string& rolloutKey,
                                                   const std::string& configJson,
                                                   int32_t maxTrafficWeight,
                                                   const std::string& dataDir);
  ~SimRouter() override;

  // See TrafficRouter. Weights outside [0, maxTrafficWeight] (or additional weights whose sum
  // with the canary weight exceeds it) return kInvalidArgument; a failed SQLite write returns
  // kUnavailable and leaves the previous state in place.
  // Records stable and canary; draining revisions are not recorded (the simulated proxy keeps
  // no configuration to keep them in).
  Status syncEndpoints(const RevisionEndpoints& stable, const RevisionEndpoints& canary,
                       std::span<const RevisionEndpoints> draining) override;
  Status setWeight(int32_t canaryWeight, std::span<const WeightDestination> additional) override;
  Result<WeightCheck> verifyWeight(int32_t canaryWeight,
                                   std::span<const WeightDestination> additional) override;
  Status setHeaderRoute(const HeaderRoute& route) override;
  Status setMirrorRoute(const MirrorRoute& route) override;
  Status removeManagedRoutes() override;
  // Records an empty state for the rollout: no endpoints, weight 0, no routes.
  Status removeAll() override;
  // The simulated proxy's state is ramp's own (it cannot restart on its own): not watched.
  bool watchable() const override { return false; }
  std::string type() const override { return "ramp/sim"; }

 private:
  SimRouter(std::string rolloutKey, int32_t maxTrafficWeight, bool headerRoutes,
            std::shared_ptr<Shared> shared);
  std::string rolloutKey_;
  int32_t maxTrafficWeight_;
  bool headerRoutes_;
  std::shared_ptr<Shared> shared_;
};

// The registry factory: SimRouter::create(router.rolloutKey, router.configJson,
// router.maxTrafficWeight, context.dataDir).
Result<TrafficRouterPtr> makeSimRouter(const RouterContext& router,
                                       const ExtensionContext& context);

// What the simulated proxy holds for `rolloutKey` under `dataDir` (opening the state if no
// router has). kNotFound when no router has written anything for that rollout; kUnavailable /
// kFailedPrecondition when the file cannot be opened or read.
Result<SimTrafficState> readSimTraffic(const std::string& dataDir, const std::string& rolloutKey);

}  // namespace ramp::traffic::sim
