#pragma once

// NginxRouter: the `ramp/nginx` TrafficRouter. Open-source nginx has no runtime API for
// upstream weights, so every change (a weight, a blue-green switch of the upstream and the
// preview upstream together) is a new include file (upstream_render.h) written
// atomically (temp file + rename), checked with `nginx -t` (the previous file is restored if the
// check fails) and loaded by SIGHUP to the master (read from pidFile). verifyWeight compares the
// file on disk with the desired render and, when `stateUrl` is configured, asks the running
// nginx which render its workers serve (the digest in $<stateVariable>). Calls are idempotent:
// an unchanged render is not reloaded unless the running nginx reports an older digest.
// See docs/routers/nginx.md.
//
// Thread safety: one instance is driven by one reconcile at a time (TrafficRouter's rule).

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ramp/clock.h"
#include "ramp/traffic/traffic_router.h"
#include "traffic/nginx/nginx_config.h"
#include "traffic/nginx/upstream_render.h"

namespace ramp::traffic::nginx {

inline constexpr std::string_view kNginxRouterType = "ramp/nginx";

class NginxRouter final : public TrafficRouter {
 public:
  // Parses the plugin config (parseNginxConfig's errors). `maxTrafficWeight` is the rollout's.
  static Result<std::unique_ptr<NginxRouter>> create(std::string_view configJson,
                                                     int32_t maxTrafficWeight, Clock& clock);

  NginxRouter(NginxConfig config, int32_t maxTrafficWeight, Clock& clock);

  Status syncEndpoints(const RevisionEndpoints& stable, const RevisionEndpoints& canary,
                       std::span<const RevisionEndpoints> draining) override;
  Status setWeight(int32_t canaryWeight, std::span<const WeightDestination> additional) override;
  Result<WeightCheck> verifyWeight(int32_t canaryWeight,
                                   std::span<const WeightDestination> additional) override;
  // Header and mirror routes would need new locations in the user's server block: kUnsupported.
  Status setHeaderRoute(const HeaderRoute& route) override;
  Status setMirrorRoute(const MirrorRoute& route) override;
  Status removeManagedRoutes() override;
  // Renders the upstream with no replica (renderRemoved), checks and reloads it. With nginx
  // stopped, the written file is enough (nginx reads it when it starts).
  Status removeAll() override;
  std::string type() const override { return std::string(kNginxRouterType); }

  // Runs `nginx -t` with the configured -p/-c/-e. On failure returns kFailedPrecondition with
  // nginx's output; kDeadlineExceeded if it does not finish within timeoutMs.
  Status testConfig();
  // Sends SIGHUP to the master named by pidFile. kUnavailable if it is not running.
  Status reload();
  // GETs stateUrl and returns the trimmed body. kUnavailable if nginx does not answer 200.
  Result<std::string> runningDigest();
  // Reads the master's pid from pidFile. kUnavailable if nginx is not running.
  Result<pid_t> masterPid();
  // kUnavailable unless the master named by pidFile is alive (a stale pid file is not).
  Status checkRunning();
  // Counts the master's children of an older configuration generation: after a reload they
  // still accept connections for 100 ms and then serve their open ones with the old upstream.
  // Those alive when reload() signalled count, and so do children that started well before the
  // newest one or whose title says "is shutting down" (a reload nobody here sent). Linux /proc;
  // kUnavailable if nginx is not running.
  Result<int> oldWorkers();

 private:
  struct Worker {
    pid_t pid = 0;
    unsigned long long start = 0;  // clock ticks since boot; with pid, names one process
    bool shuttingDown = false;
  };
  // The master's children from /proc. kUnavailable if nginx is not running.
  Result<std::vector<Worker>> workers();

  Status apply(int32_t weight);
  // Writes `rendered` if it differs from the file (after `nginx -t`, restoring the previous file
  // if it fails) and reloads; an unchanged file is reloaded only if stateUrl shows another one.
  Status install(const RenderedUpstream& rendered);

  NginxConfig config_;
  int32_t maxTrafficWeight_;
  Clock* clock_;
  std::optional<RevisionEndpoints> stable_;
  std::optional<RevisionEndpoints> canary_;
  std::vector<RevisionEndpoints> draining_;
  std::optional<int32_t> weight_;
  std::vector<Worker> beforeReload_;  // the master's children when reload() last signalled it
};

}  // namespace ramp::traffic::nginx
