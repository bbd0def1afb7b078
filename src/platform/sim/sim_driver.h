#pragma once

// SimDriver ("platform.sim"): a simulated platform for the controller's crash test and scale
// benchmark. It runs no processes: it remembers, per rollout, the revisions it was asked for and
// when each replica "started", and derives readiness from the injected Clock alone, so a run is
// deterministic and 100,000 rollouts fit in one process.
//
// Behaviour (docs/platforms/sim.md):
//   - scale up starts replicas at once; a replica is ready `ready-after` after it started and
//     available minReadySeconds after that. Scale down removes the newest replicas at once.
//     restartReplica replaces the oldest replica started before a time with one started now.
//   - pod template annotations: sim.ramp.dev/ready-after (Go duration, default "0s"),
//     sim.ramp.dev/crash-loop: "true" (replicas never become ready; they count as
//     crashLoopingReplicas), sim.ramp.dev/fail: "ensure" (ensureRevision returns kUnavailable).
//   - endpoints are "<hash>-<i>" at 127.0.0.1 port 0.
//   - durable: with a data dir, every mutation is written through to the SQLite file
//     <dataDir>/platform.sim/sim.db (WAL, synchronous=NORMAL) before it returns, and a new
//     driver on the same dir loads it back, so a SIGKILL of `ramp serve` loses nothing.
//     An empty data dir keeps everything in memory only.
//   - memory: revisions with identical templates share one copy; only the 1,024 most recently
//     decoded templates are held decoded, the rest as JSON text decoded again by observe().
//
// Thread safety: every method may be called concurrently (one mutex guards the state and the
// SQLite connection).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/platform/workload_driver.h"
#include "ramp/registry.h"

namespace ramp::platform::sim {

// Pod template annotations the simulated platform reads.
inline constexpr const char* kSimReadyAfterAnnotation = "sim.ramp.dev/ready-after";
inline constexpr const char* kSimCrashLoopAnnotation = "sim.ramp.dev/crash-loop";
inline constexpr const char* kSimFailAnnotation = "sim.ramp.dev/fail";

class SimDriver final : public WorkloadDriver {
 public:
  // Opens (creating if needed) <dataDir>/platform.sim/sim.db and loads every revision in it;
  // dataDir "" = memory only. `clock` must outlive the driver. On error returns kUnavailable
  // (the directory or file cannot be opened) or kFailedPrecondition (the file is not a sim
  // database or holds a row that cannot be read), naming the file.
  static Result<std::unique_ptr<SimDriver>> open(Clock& clock, const std::string& dataDir);
  ~SimDriver() override;

  // See WorkloadDriver. Errors from the simulated platform name "platform.sim"; a failed
  // SQLite write returns kUnavailable and leaves the in-memory state unchanged.
  Result<ObservedWorkload> observe(const std::string& rolloutKey) override;
  Status ensureRevision(const std::string& rolloutKey, const RevisionSpec& wanted) override;
  Status scale(const std::string& rolloutKey, const std::string& hash, int32_t replicas,
               int32_t rolloutReplicas) override;
  Status setScaleDownDeadline(const std::string& rolloutKey, const std::string& hash,
                              std::optional<Time> deadline) override;
  Status retire(const std::string& rolloutKey, const std::string& hash) override;
  // Replaces the oldest replica started before `startedBefore` with one started now (it is
  // ready after ready-after like any new replica); written through like scale().
  Status restartReplica(const std::string& rolloutKey, const std::string& hash,
                        Time startedBefore) override;
  std::string type() const override { return "platform.sim"; }

  // Number of rollouts with at least one revision (for tests and the benchmark).
  size_t rolloutCount() const;

 private:
  struct State;
  explicit SimDriver(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The registry factory: SimDriver::open(*context.clock, context.dataDir).
Result<std::unique_ptr<WorkloadDriver>> makeSimDriver(const ExtensionContext& context);

}  // namespace ramp::platform::sim
