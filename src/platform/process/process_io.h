#pragma once

// The operating-system side of the process platform: starting a replica in its own session
// with its output appended to a log file, signalling its process group, telling whether a pid
// still names the process that was started (pid + start time from /proc), running one probe
// with its timeout, and writing files atomically. Kept thin: every decision is in
// supervision.h.
//
// Thread safety: the functions share no state; each may be called from any thread. Calls that
// wait (probes) are bounded by the timeout they are given.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "platform/process/supervision.h"
#include "ramp/clock.h"
#include "ramp/error.h"

namespace ramp::platform::process {

// Finds `program` as execvp would with the PATH in `env` (a name with '/' is taken as is).
// Returns the path of an executable file, or kNotFound naming the directories searched.
Result<std::string> findExecutable(const std::string& program, const EnvList& env);

struct SpawnRequest {
  std::string executable;         // resolved path (findExecutable)
  std::vector<std::string> argv;  // argv[0] as the user wrote it
  EnvList env;                    // the whole environment (nothing else is inherited)
  std::string workingDir;         // "" = the daemon's
  std::string logFile;            // stdout and stderr appended here
};

// Starts the process in a new session and process group (its pid is the group id). Returns the
// pid, or kUnavailable with the reason (exec failure, log file not writable).
Result<pid_t> spawnProcess(const SpawnRequest& request);

// Reads /proc/<pid>/stat; nullopt when no such process exists.
std::optional<ProcStat> readProcStat(pid_t pid);

// True when `pid` still names the process that started at `startTime` and has not exited
// (zombies count as exited). Reaps it first if it is this process's child.
// `status` receives the wait status when the child was reaped here.
bool processAlive(pid_t pid, uint64_t startTime, std::optional<int>* status = nullptr);

// Sends `signal` to the process group `pgid` (and to the pid itself in case it left the group).
void signalGroup(pid_t pgid, int signal);

// Describes a wait status: "exited with status 1", "killed by signal 9 (Killed)".
std::string describeWaitStatus(int status);

// True when 127.0.0.1:`port` can be bound now.
bool portFree(int port);
// A loopback port that was free a moment ago, or kUnavailable.
Result<int> pickFreePort();

// Runs one probe with `timeout`. An HTTP probe succeeds on a status in [200, 400); a TCP probe
// when the connection opens; an exec probe when the command exits 0. `env` and `workingDir`
// are the replica's (exec). On failure, `detail` says why.
bool runProbe(const ProbeTarget& target, Duration timeout, const EnvList& env,
              const std::string& workingDir, std::string* detail);

// Writes `content` to `path` through a temporary file and rename, so readers see the old or the
// new file, never a part. kUnavailable with the path on failure.
Status writeFileAtomic(const std::string& path, const std::string& content);

// Appends one line to `path` (best effort; used for ramp's own notes in replica logs).
void appendLine(const std::string& path, const std::string& line);

}  // namespace ramp::platform::process
