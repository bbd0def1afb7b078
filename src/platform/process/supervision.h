#pragma once

// The pure decisions of the process platform (platform.process): how a container's environment
// and command line are built from the pod template, when a probe is due and what its results
// mean (Kubernetes probe semantics), how long a crashed replica waits before it is restarted,
// which replicas go first on scale down, and what the Prometheus file_sd file says. No I/O and
// no clock reads: callers pass `now`, so every rule is table-tested on plain values.
//
// Thread safety: free functions on values; safe from any thread.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/platform/workload_driver.h"
#include "ramp/spec/diagnostic.h"
#include "ramp/spec/rollout.h"

namespace ramp::platform::process {

// --- environment and command line ------------------------------------------------------------

// Ordered NAME=value pairs; a later entry with the same name replaces the earlier one.
using EnvList = std::vector<std::pair<std::string, std::string>>;

// Expands Kubernetes `$(VAR)` references in `text` from `vars`: `$$` is a literal `$`, a
// reference to an unknown variable (or an unclosed `$(`) is kept as written, a `$` before any
// other character is kept.
std::string expandVars(std::string_view text, const std::map<std::string, std::string>& vars);

// The version a replica reports for `image`: the digest after '@', else the tag after the last
// ':' that follows the last '/', else "latest" (Docker's default tag).
std::string imageVersion(const std::string& image);

// What the driver knows about one replica when it starts it.
struct ReplicaIdentity {
  std::string rolloutKey;  // "namespace/name"
  std::string podTemplateHash;
  int64_t revision = 0;
  int32_t index = 0;       // replica number within the revision
  std::vector<int> ports;  // assigned loopback port per containerPort (>= 1 entry)
  std::map<std::string, std::string> inherited;  // PATH, HOME, … from the daemon
};

// Builds the replica's environment, in this order: the inherited variables; ramp's (PORT, one
// variable per named containerPort, RAMP_IMAGE, VERSION, RAMP_REVISION, RAMP_POD_TEMPLATE_HASH,
// RAMP_ROLLOUT, RAMP_POD_NAME, RAMP_REPLICA); the container's env, each value expanded against
// everything before it; last PORT and the port variables again, so the assigned ports always win.
EnvList buildEnvironment(const ReplicaIdentity& replica, const spec::Container& container);

// The replica's argv: command then args, each with $(VAR) expanded against `env`.
std::vector<std::string> buildArgv(const spec::Container& container, const EnvList& env);

// Environment variable for a named port: "http" -> "HTTP", "metrics-port" -> "METRICS_PORT".
std::string portVariableName(const std::string& portName);

// The pod name a replica reports: "<rollout name>-<hash>-<index>".
std::string replicaName(const std::string& rolloutKey, const std::string& hash, int32_t index);

// Every reason the process platform cannot run `template_`, as errors with the field path under
// "spec.template" (no container, more than one, init containers, no command, env valueFrom, a
// probe without exactly one of httpGet/tcpSocket/exec, a probe port that no containerPort has,
// duplicate port names), and a warning for what it ignores (resources).
std::vector<spec::Diagnostic> templateProblems(const spec::PodTemplateSpec& template_);

// templateProblems of the Rollout's template, and a warning when nothing would route traffic to
// its replicas (this platform has no Services): a canary without trafficRouting, a blue-green
// without blueGreen.trafficRouting. The platform's PlatformTraits::inspect. Nothing for a Rollout
// without a template (spec validation reports that).
std::vector<spec::Diagnostic> rolloutProblems(const spec::Rollout& rollout);

// The first error of templateProblems as kInvalidArgument "path: message"; success when none.
Status validateTemplate(const spec::PodTemplateSpec& template_);

// --- probes -------------------------------------------------------------------------------------

// A probe's timing with Kubernetes' defaults applied (period 10 s, timeout 1 s, success 1,
// failure 3, initial delay 0). Liveness and startup probes always use success threshold 1.
struct ProbeParams {
  Duration initialDelay{0};
  Duration period{10000};
  Duration timeout{1000};
  int32_t successThreshold = 1;
  int32_t failureThreshold = 3;
  bool operator==(const ProbeParams&) const = default;
};
enum class ProbeKind { kReadiness, kLiveness, kStartup };
ProbeParams probeParams(const spec::Probe& probe, ProbeKind kind);

// The running record of one probe of one replica.
struct ProbeState {
  int32_t consecutiveSuccesses = 0;
  int32_t consecutiveFailures = 0;
  bool passing = false;     // readiness: ready; startup: started; liveness: not yet failed
  std::optional<Time> due;  // next probe time; nullopt = not scheduled
  bool operator==(const ProbeState&) const = default;
};

// A fresh probe for a replica that started at `started`: first due after the initial delay.
// Liveness starts passing (a container is alive until its probe fails), the others do not.
ProbeState startProbe(const ProbeParams& params, ProbeKind kind, Time started);

// Records one result observed at `now`: counts consecutive results, flips `passing` when a
// threshold is reached (successThreshold successes -> true, failureThreshold failures -> false)
// and schedules the next probe one period later.
void recordProbe(ProbeState& state, const ProbeParams& params, bool success, Time now);

// Where a probe connects once the template's port reference is resolved.
struct ProbeTarget {
  enum class Kind { kHttp, kTcp, kExec } kind = Kind::kHttp;
  std::string url;                                           // kHttp: http(s)://host:port/path
  std::vector<std::pair<std::string, std::string>> headers;  // kHttp
  std::string host;                                          // kTcp
  int port = 0;                                              // kTcp
  std::vector<std::string> command;                          // kExec
  bool operator==(const ProbeTarget&) const = default;
};

// Resolves `probe` for a replica whose containerPorts got `assigned` ports (same order as
// container.ports). A port given by name, or by a number equal to a declared containerPort,
// maps to the assigned port; with no containerPorts declared any number means the one assigned
// port; otherwise a number is used as written. Host defaults to 127.0.0.1.
// kInvalidArgument when a named port does not exist.
Result<ProbeTarget> resolveProbe(const spec::Probe& probe, const spec::Container& container,
                                 const std::vector<int>& assigned);

// --- restarts -----------------------------------------------------------------------------------

struct BackoffPolicy {
  Duration base{1000};          // first wait after a crash (kubelet: 10 s; ramp: 1 s)
  Duration cap{300000};         // longest wait (kubelet: 5 min)
  Duration resetAfter{600000};  // a replica running this long without crashing starts over
  bool operator==(const BackoffPolicy&) const = default;
};

// Wait before restart number `crashes` (1 = after the first crash): base * 2^(crashes-1),
// capped. 0 crashes waits 0.
Duration restartDelay(int32_t crashes, const BackoffPolicy& policy);

// A replica is crash-looping when it has crashed at least twice in a row (it failed again after
// being restarted) and is not ready now. Such a replica is unavailable.
bool isCrashLooping(int32_t consecutiveCrashes, bool ready);

// --- scale down ---------------------------------------------------------------------------------

struct ScaleDownCandidate {
  int32_t index = 0;
  bool ready = false;
};
// Indexes of the replicas to stop to get from candidates.size() down to `keep`: not-ready ones
// first, then the highest index (newest). Empty when keep >= size.
std::vector<int32_t> pickScaleDown(const std::vector<ScaleDownCandidate>& replicas, int32_t keep);

// The lowest index >= 0 not in `used`.
int32_t lowestFreeIndex(const std::vector<int32_t>& used);

// --- replicas as people see them ----------------------------------------------------------------

// One replica as the driver sees it (observeReplicas, diagnostics, tests).
struct ReplicaInfo {
  std::string name;  // "<rollout>-<hash>-<index>"
  std::string podTemplateHash;
  int32_t index = 0;
  pid_t pid = 0;  // 0 while waiting to be (re)started
  std::vector<int> ports;
  bool ready = false;
  bool available = false;
  bool crashLooping = false;
  bool adopted = false;      // found running by this driver at start-up
  bool terminating = false;  // scaled down or replaced, waiting to exit
  bool becameReady = false;  // has been ready at least once since its current run started
  int32_t restarts = 0;
  std::optional<Time> startedAt;  // of the current run; nullopt while not running
  std::optional<Time> nextRestart;
  std::string lastExit;   // exitText() of its last exit, "exited" when unknown, "" if none
  std::string lastError;  // why it last stopped, or why it cannot start
  std::string logFile;
  bool operator==(const ReplicaInfo&) const = default;
};

// Why a process stopped, from its wait status: "exit 1", "signal 9", or "wait status N" for
// anything else.
std::string exitText(int waitStatus);

// The seam's view of a replica: state Terminating when terminating; else, while running (pid >
// 0), Running once it became ready since it started and Starting before; else CrashLoopBackOff
// when crash-looping, Waiting otherwise. message is lastError while the replica is not ready or
// not running ("" when it is ready: an old reason would mislead). Times and counts are copied.
ObservedReplica toObservedReplica(const ReplicaInfo& replica);

// Which bytes of a log of `size` bytes a read at `offset` (negative: from the end) of at most
// `maxBytes` returns: [start, start + length). A start past the end is clamped to the end.
struct LogRange {
  int64_t start = 0;
  int64_t length = 0;
  bool operator==(const LogRange&) const = default;
};
LogRange logRange(int64_t offset, int64_t maxBytes, int64_t size);

// --- /proc --------------------------------------------------------------------------------------

struct ProcStat {
  char state = '?';        // field 3: R, S, D, Z (zombie), X (dead), …
  pid_t pgrp = 0;          // field 5
  uint64_t startTime = 0;  // field 22: clock ticks after boot; with the pid, names a process
  bool operator==(const ProcStat&) const = default;
};
// Parses the text of /proc/<pid>/stat (the command name may hold spaces and parentheses).
std::optional<ProcStat> parseProcStat(std::string_view text);

// --- Prometheus file_sd ------------------------------------------------------------------------

struct SdTarget {
  std::string address;  // "127.0.0.1:port"
  std::map<std::string, std::string> labels;
  bool operator==(const SdTarget&) const = default;
};

// Labels of a ready replica: namespace, rollout, role (when known), rollouts_pod_template_hash,
// revision, pod, plus the template's labels with names made valid for Prometheus
// ([a-zA-Z_][a-zA-Z0-9_]*); ramp's own labels win over template labels of the same name.
std::map<std::string, std::string> replicaLabels(
    const std::string& rolloutKey, const std::string& hash, int64_t revision,
    const std::string& role, const std::string& pod,
    const std::map<std::string, std::string>& templateLabels);

// A Kubernetes label key as a Prometheus label name: "app.kubernetes.io/name" ->
// "app_kubernetes_io_name".
std::string prometheusLabelName(const std::string& key);

// The file_sd JSON document: one group per target, sorted by address, so equal sets give equal
// text.
std::string fileSdJson(std::vector<SdTarget> targets);

// Roles a revision may have in the file_sd labels (setRoles).
bool validRole(const std::string& role);

}  // namespace ramp::platform::process
