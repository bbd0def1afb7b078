#pragma once

// ProcessDriver (platform.process): runs each revision of a rollout as local processes on this
// host, one process per replica, from the Rollout's pod template (containers[0].command, args,
// env, workingDir, ports, readiness/liveness/startup probes). Each replica gets a free loopback
// port (PORT and one variable per named containerPort), its own session and process group, and
// a log file. A background thread supervises the replicas: it reaps exits, restarts crashed
// replicas with exponential backoff (a replica that crashed twice in a row and is not ready is
// crash-looping, hence unavailable), runs probes on their periods, sends SIGKILL to replicas
// that outlive their termination grace period, and keeps a Prometheus file_sd file listing every
// ready replica with its rollout, revision and role labels.
//
// Durable state lives under <dataDir>/platform.process/: state.json (revisions, desired counts,
// deadlines, roles, each replica's ports and last readiness) and, per replica,
// <namespace>/<rollout>/<hash>-<index>.pid and .log. Restart policy: replicas keep running when
// the driver (the daemon) stops; a new driver on the same directory re-adopts each replica whose
// pid file names a live process with the same start time (/proc/<pid>/stat field 22) and
// restarts those that are gone. Adopted replicas keep their last known readiness until their
// probes say otherwise, so a daemon restart does not pull them out of traffic.
//
// Threading: every public method may be called from any thread; one mutex guards the state and
// is not held while a probe runs. No method blocks on readiness (stopAll waits at most the
// grace period).

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/process/supervision.h"
#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/platform/workload_driver.h"
#include "ramp/registry.h"

namespace ramp::platform::process {

struct ProcessDriverOptions {
  std::string stateDir;    // required: <dataDir>/platform.process
  std::string fileSdPath;  // "" = <stateDir>/file_sd.json
  BackoffPolicy backoff;
  Duration pollInterval{100};  // how often the supervisor looks for exits and due probes
  // Used when the pod spec has no terminationGracePeriodSeconds (Kubernetes' default).
  Duration defaultGracePeriod{30000};
  bool supervise = true;  // false: no background thread; the caller calls tick()
  // false (the daemon's policy): replicas outlive the driver and are re-adopted by the next one.
  bool stopReplicasOnDestroy = false;
  // Variables replicas inherit from the daemon; nullopt = common/child_env.h's list (PATH,
  // HOME, LANG, LC_ALL, TZ, TMPDIR, USER), the same as job metrics, so no secret leaks through.
  std::optional<std::map<std::string, std::string>> inheritedEnv;
};

class ProcessDriver final : public WorkloadDriver {
 public:
  // Loads <stateDir>/state.json (re-adopting live replicas), writes the file_sd file and starts
  // the supervisor. kInvalidArgument without a state dir; kUnavailable when the directory or
  // the state file cannot be used (the message names the path).
  static Result<std::unique_ptr<ProcessDriver>> create(Clock& clock, ProcessDriverOptions options);
  ~ProcessDriver() override;
  ProcessDriver(const ProcessDriver&) = delete;
  ProcessDriver& operator=(const ProcessDriver&) = delete;

  Result<ObservedWorkload> observe(const std::string& rolloutKey) override;
  // Besides the seam's contract: kInvalidArgument for a template the host cannot run (see
  // validateTemplate) or whose command is not an executable found on the replica's PATH.
  Status ensureRevision(const std::string& rolloutKey, const RevisionSpec& wanted) override;
  Status scale(const std::string& rolloutKey, const std::string& hash, int32_t replicas,
               int32_t rolloutReplicas) override;
  Status setScaleDownDeadline(const std::string& rolloutKey, const std::string& hash,
                              std::optional<Time> deadline) override;
  Status retire(const std::string& rolloutKey, const std::string& hash) override;
  // Sends SIGTERM to the running replica of `hash` that started longest ago, if that was before
  // `startedBefore` (it gets SIGKILL after the grace period, as on scale down), and starts a
  // replacement in its slot (same index, new ports) at once. Replicas waiting to be restarted
  // after a crash are left alone: their next start is after the time anyway.
  Status restartReplica(const std::string& rolloutKey, const std::string& hash,
                        Time startedBefore) override;
  // Replaces the roles of the rollout's revisions (hash -> stable|canary|preview|active) used as
  // the `role` label in the file_sd file. kInvalidArgument for another role name.
  Status setRoles(const std::string& rolloutKey, const std::map<std::string, std::string>& roles,
                  const RoleMetadata& metadata) override;
  std::string type() const override { return "platform.process"; }

  // Every replica of the rollout, terminating ones included, ordered by hash and index.
  std::vector<ReplicaInfo> replicas(const std::string& rolloutKey);

  // replicas() as the seam shows them (toObservedReplica); never fails.
  Result<std::vector<ObservedReplica>> observeReplicas(const std::string& rolloutKey) override;
  // Reads <hash>-<index>.log of a replica replicas() lists (by its name, never a path). The log
  // holds every run of the replica's slot, with ramp's own "--- ramp: …" lines between runs.
  Result<LogChunk> readLog(const std::string& rolloutKey, const std::string& replicaName,
                           int64_t offset, int64_t maxBytes) override;

  // One supervision pass: reap exits, restart due replicas, start or stop replicas to match the
  // desired counts, SIGKILL after the grace period, run due probes, rewrite file_sd and
  // state.json when they changed. The supervisor thread calls it every pollInterval.
  void tick();

  // Stops every replica now (SIGTERM, SIGKILL after the grace period) and waits for them, at
  // most the longest grace period. Desired counts are kept, so a later tick starts them again
  // unless the driver is being destroyed.
  void stopAll();

  const std::string& fileSdPath() const { return fileSdPath_; }

 private:
  struct Impl;
  explicit ProcessDriver(std::unique_ptr<Impl> impl);
  std::string fileSdPath_;
  std::unique_ptr<Impl> impl_;
};

// The registry's factory: state under <context.dataDir>/platform.process/, file_sd path from
// $RAMP_PROCESS_FILE_SD when set. kInvalidArgument when context has no clock or no dataDir.
Result<std::unique_ptr<platform::WorkloadDriver>> makeProcessDriver(
    const ExtensionContext& context);

}  // namespace ramp::platform::process
