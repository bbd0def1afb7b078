#pragma once

// The job metric provider (Argo's `provider.job`), local-platform form: instead of creating a
// Kubernetes Job, it runs the first container's command + args (with its env and workingDir)
// as a local process group, and decides the measurement from the exit status: 0 → Successful,
// anything else → Failed (with the exit code and the last lines of output in the message).
//
// Asynchronous and restart-safe: run() launches the process detached from the daemon (its own
// session, reparented away from us) under a small `sh` wrapper that writes the exit status to a
// file in the job's state directory, and returns kRunning with metadata {job-name, job-dir,
// pid, pgid, pid-start, deadline}. resume() needs nothing but that metadata, so a fresh provider
// in a restarted daemon carries on. activeDeadlineSeconds is enforced at resume() (the process
// group is killed and the measurement Failed, as a Kubernetes Job that exceeds its deadline).
// terminate() kills the process group (SIGTERM, then SIGKILL after a grace period).
//
// Thread safety: run/resume/terminate may be called concurrently for different measurements.
// Time comes only from MeasureContext::now and the injected Clock.

#include <string>

#include "ramp/analysis/metric_provider.h"
#include "ramp/clock.h"

namespace ramp {
class Redactor;
}

namespace ramp::analysis::providers {

// Measurement metadata keys.
inline constexpr const char* kJobNameKey = "job-name";  // as Argo's
inline constexpr const char* kJobDirKey = "job-dir";
inline constexpr const char* kJobPidKey = "pid";
inline constexpr const char* kJobPgidKey = "pgid";
inline constexpr const char* kJobPidStartKey = "pid-start";
inline constexpr const char* kJobDeadlineKey = "deadline";  // ms since the epoch
inline constexpr const char* kJobExitCodeKey = "exit-code";

class JobProvider final : public MetricProvider {
 public:
  struct Options {
    Clock* clock = nullptr;  // required; used for the terminate grace period
    std::string stateDir;    // required; job directories go to <stateDir>/jobs/<job-name>
    const Redactor* redactor = nullptr;
    Duration pollInterval = Duration(1000);    // resumeAt = now + pollInterval
    Duration terminateGrace = Duration(3000);  // SIGTERM → SIGKILL
    size_t outputTailLines = 10;               // lines of output quoted in a Failed message
  };

  explicit JobProvider(Options options);

  // Launches the job. Returns kRunning with the metadata above and resumeAt. If the job's
  // directory already holds a launched job (run() repeated after a crash), adopts it instead of
  // starting a second process. Errors: no command, env valueFrom (unsupported locally), a state
  // directory that cannot be written, a process that cannot be started.
  Result<ProviderReply> run(const MeasureContext& ctx) override;

  // Checks the job. Returns kDecided Successful/Failed once it has exited; Failed (and kills the
  // group) when the deadline has passed; kRunning with a new resumeAt otherwise. Errors:
  // metadata missing, or the process vanished without an exit status.
  Result<ProviderReply> resume(const MeasureContext& ctx,
                               const spec::Measurement& inFlight) override;

  // Kills the job's process group if it is still running (SIGTERM, then SIGKILL after
  // terminateGrace). Idempotent; Error only when the metadata is missing. Argo marks a
  // terminated job measurement Successful (the engine decides the phase).
  Status terminate(const MeasureContext& ctx, const spec::Measurement& inFlight) override;

  std::string type() const override { return "Job"; }

 private:
  Options options_;
};

}  // namespace ramp::analysis::providers
