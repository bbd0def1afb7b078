#include "analysis/providers/job/job_provider.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/child_env.h"
#include "common/redact.h"

namespace ramp::analysis::providers {
namespace {

namespace fs = std::filesystem;

// The launcher runs in its own new session (posix_spawn SETSID), starts the wrapper in the
// background, records the wrapper's pid and exits at once, so the job is never the daemon's
// child: it survives a daemon restart and is reaped by init. The wrapper runs the command with
// output to output.log and writes the exit status atomically to exit-status.
constexpr const char* kLauncher =
    "w=$1; d=$2; shift 2; "
    "/bin/sh -c \"$w\" ramp-job \"$d\" \"$@\" </dev/null >\"$d/output.log\" 2>&1 & "
    "echo $! >\"$d/pid.tmp\" && mv \"$d/pid.tmp\" \"$d/pid\"";
constexpr const char* kWrapper =
    "d=$1; shift; \"$@\"; s=$?; echo $s >\"$d/exit-status.tmp\"; "
    "mv \"$d/exit-status.tmp\" \"$d/exit-status\"";

struct ProcStat {
  char state = '?';
  pid_t pgrp = 0;
  std::string startTime;  // clock ticks since boot, field 22
};

// Reads /proc/<pid>/stat; nullopt when there is no such process.
std::optional<ProcStat> procStat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return std::nullopt;
  std::string line;
  std::getline(in, line);
  auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 1));
  ProcStat st;
  std::string field;
  // Fields after comm: 3 state, 4 ppid, 5 pgrp, ..., 22 starttime.
  for (int i = 3; i <= 22 && (fields >> field); ++i) {
    if (i == 3) st.state = field.empty() ? '?' : field[0];
    if (i == 5) st.pgrp = static_cast<pid_t>(std::atol(field.c_str()));
    if (i == 22) st.startTime = field;
  }
  return st;
}

bool liveProcess(const std::optional<ProcStat>& st) {
  return st && st->state != 'Z' && st->state != 'X';
}

// True when some live (non-zombie) process belongs to process group `pgid`.
bool groupAlive(pid_t pgid) {
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return ::kill(-pgid, 0) == 0;
  bool alive = false;
  while (dirent* e = ::readdir(dir)) {
    pid_t pid = 0;
    std::string_view name(e->d_name);
    auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec != std::errc() || p != name.data() + name.size()) continue;
    auto st = procStat(pid);
    if (liveProcess(st) && st->pgrp == pgid) {
      alive = true;
      break;
    }
  }
  ::closedir(dir);
  return alive;
}

std::string readFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// The last `lines` lines (at most 2 KiB) of the job's output.
std::string outputTail(const fs::path& file, size_t lines) {
  std::string text = readFile(file);
  constexpr size_t kMaxBytes = 2048;
  if (text.size() > kMaxBytes) text = text.substr(text.size() - kMaxBytes);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  size_t pos = text.size();
  for (size_t n = 0; n < lines && pos != std::string::npos && pos > 0; ++n) {
    pos = text.rfind('\n', pos - 1);
  }
  return pos == std::string::npos || pos == 0 ? text : text.substr(pos + 1);
}

std::string sanitize(std::string_view s) {
  std::string out;
  for (char c : s) {
    out +=
        std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '_';
  }
  return out;
}

std::optional<int64_t> toInt(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

struct JobRef {
  std::string name;
  fs::path dir;
  pid_t pid = 0;
  pid_t pgid = 0;
  std::string pidStart;
  std::optional<Time> deadline;
};

Result<JobRef> refFromMetadata(const std::map<std::string, std::string>& md) {
  auto get = [&](const char* key) -> std::string {
    auto it = md.find(key);
    return it == md.end() ? "" : it->second;
  };
  JobRef ref;
  ref.name = get(kJobNameKey);
  ref.dir = get(kJobDirKey);
  auto pid = toInt(get(kJobPidKey));
  auto pgid = toInt(get(kJobPgidKey));
  if (ref.name.empty() || ref.dir.empty() || !pid || !pgid || *pid <= 1 || *pgid <= 1) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "job metadata reference missing (need job-name, job-dir, pid, pgid)");
  }
  ref.pid = static_cast<pid_t>(*pid);
  ref.pgid = static_cast<pid_t>(*pgid);
  ref.pidStart = get(kJobPidStartKey);
  if (auto d = toInt(get(kJobDeadlineKey))) ref.deadline = Time(Duration(*d));
  return ref;
}

std::map<std::string, std::string> metadataOf(const JobRef& ref) {
  std::map<std::string, std::string> md{{kJobNameKey, ref.name},
                                        {kJobDirKey, ref.dir.string()},
                                        {kJobPidKey, std::to_string(ref.pid)},
                                        {kJobPgidKey, std::to_string(ref.pgid)},
                                        {kJobPidStartKey, ref.pidStart}};
  if (ref.deadline) {
    md[kJobDeadlineKey] = std::to_string(ref.deadline->time_since_epoch().count());
  }
  return md;
}

// True when the job's wrapper process is alive and is the one we started.
bool wrapperAlive(const JobRef& ref) {
  auto st = procStat(ref.pid);
  return liveProcess(st) && (ref.pidStart.empty() || st->startTime == ref.pidStart);
}

// Signals the job's process group, but only if it is still ours: the launcher's pid (= pgid)
// cannot be reused while any member of the group lives, so a process with that pid means the
// group is gone.
void signalGroup(const JobRef& ref, int sig) {
  if (!wrapperAlive(ref) && procStat(ref.pgid)) return;
  ::kill(-ref.pgid, sig);
}

}  // namespace

JobProvider::JobProvider(Options options) : options_(std::move(options)) {
  if (!options_.stateDir.empty()) {
    std::error_code ec;
    auto abs = fs::absolute(options_.stateDir, ec);
    if (!ec) options_.stateDir = abs.string();
  }
}

Result<ProviderReply> JobProvider::run(const MeasureContext& ctx) {
  const auto& spec = ctx.metric->provider.job;
  const Redactor empty;
  const Redactor& redactor = options_.redactor != nullptr ? *options_.redactor : empty;
  auto fail = [&](ErrorCode code, const std::string& message) -> Result<ProviderReply> {
    return makeError(code, redactor.redact(message));
  };
  if (!spec) {
    return fail(ErrorCode::kInvalidArgument,
                "metric \"" + ctx.metric->name + "\" has no job provider");
  }
  if (spec->command.empty()) {
    return fail(ErrorCode::kInvalidArgument,
                "job: the first container has no command (a local job runs command + args; "
                "there is no image entrypoint)");
  }
  for (const auto& e : spec->env) {
    if (!e.valueFrom.empty()) {
      return fail(ErrorCode::kUnsupported,
                  "job: env " + e.name + ": valueFrom is not supported by the local job runner");
    }
  }
  if (options_.stateDir.empty()) {
    return fail(ErrorCode::kFailedPrecondition, "job: no state directory configured");
  }
  if (!spec->workingDir.empty() && !fs::is_directory(spec->workingDir)) {
    return fail(ErrorCode::kInvalidArgument,
                "job: workingDir " + spec->workingDir + " does not exist");
  }

  // Job name as Argo's: <run uid>.<metric>.<count + error + 1>.
  const spec::AnalysisRun& run = *ctx.run;
  int64_t ordinal = 1;
  for (const auto& r : run.status.metricResults) {
    if (r.name == ctx.metric->name) ordinal = int64_t{r.count} + r.error + 1;
  }
  std::string runId = !run.metadata.uid.empty() ? run.metadata.uid
                                                : run.metadata.namespace_ + "." + run.metadata.name;
  JobRef ref;
  ref.name = sanitize(runId) + "." + sanitize(ctx.metric->name) + "." + std::to_string(ordinal);
  ref.dir = fs::path(options_.stateDir) / "jobs" / ref.name;
  if (spec->activeDeadlineSeconds && *spec->activeDeadlineSeconds > 0) {
    ref.deadline = ctx.now + std::chrono::seconds(*spec->activeDeadlineSeconds);
  }

  std::error_code ec;
  fs::create_directories(ref.dir.parent_path(), ec);
  if (ec) {
    return fail(ErrorCode::kUnavailable,
                "job: cannot create " + ref.dir.parent_path().string() + ": " + ec.message());
  }
  if (::mkdir(ref.dir.c_str(), 0700) != 0) {
    if (errno != EEXIST) {
      return fail(ErrorCode::kUnavailable,
                  "job: cannot create " + ref.dir.string() + ": " + std::strerror(errno));
    }
    // Launched before (run() repeated after a crash): adopt it, as Argo adopts an existing Job.
    auto saved = readFile(ref.dir / "ref");
    std::map<std::string, std::string> md;
    std::istringstream lines(saved);
    for (std::string line; std::getline(lines, line);) {
      auto eq = line.find('=');
      if (eq != std::string::npos) md[line.substr(0, eq)] = line.substr(eq + 1);
    }
    auto adopted = refFromMetadata(md);
    if (!adopted) {
      return fail(ErrorCode::kFailedPrecondition,
                  "job: " + ref.dir.string() +
                      " exists but holds no launched job; remove it to run the job again");
    }
    ProviderReply reply;
    reply.kind = ProviderReply::Kind::kRunning;
    reply.metadata = metadataOf(*adopted);
    reply.resumeAt = ctx.now;
    return reply;
  }

  // argv: sh -c <launcher> ramp-launch <wrapper> <dir> <command…> <args…>
  std::vector<std::string> argv = {"/bin/sh",     "-c",     kLauncher,
                                   "ramp-launch", kWrapper, ref.dir.string()};
  argv.insert(argv.end(), spec->command.begin(), spec->command.end());
  argv.insert(argv.end(), spec->args.begin(), spec->args.end());
  // The replicas' policy (common/child_env.h): a short inherited list, then the job's env.
  std::vector<std::string> envStrings;
  for (const auto& [name, value] : inheritedEnvironment()) {
    bool overridden = false;
    for (const auto& v : spec->env) overridden = overridden || v.name == name;
    if (!overridden) envStrings.push_back(name + "=" + value);
  }
  for (const auto& v : spec->env) envStrings.push_back(v.name + "=" + v.value);
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : envStrings) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  if (!spec->workingDir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, spec->workingDir.c_str());
  }
  pid_t launcher = 0;
  int rc = ::posix_spawn(&launcher, "/bin/sh", &actions, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    fs::remove_all(ref.dir, ec);
    return fail(ErrorCode::kUnavailable,
                "job " + ref.name + ": cannot start /bin/sh: " + std::strerror(rc));
  }
  int status = 0;
  while (::waitpid(launcher, &status, 0) < 0 && errno == EINTR) {
  }
  auto pid = toInt(trim(readFile(ref.dir / "pid")));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !pid) {
    std::string why = "the launcher failed (status " + std::to_string(status) + ")";
    fs::remove_all(ref.dir, ec);
    return fail(ErrorCode::kUnavailable, "job " + ref.name + ": cannot start: " + why);
  }
  ref.pid = static_cast<pid_t>(*pid);
  ref.pgid = launcher;
  if (auto st = procStat(ref.pid)) ref.pidStart = st->startTime;
  // Saved so that a repeated run() can adopt this job instead of starting another.
  {
    std::ofstream out(ref.dir / "ref");
    for (const auto& [k, v] : metadataOf(ref)) out << k << "=" << v << "\n";
  }

  ProviderReply reply;
  reply.kind = ProviderReply::Kind::kRunning;
  reply.metadata = metadataOf(ref);
  Time next = ctx.now + options_.pollInterval;
  reply.resumeAt = ref.deadline ? std::min(next, *ref.deadline) : next;
  return reply;
}

Result<ProviderReply> JobProvider::resume(const MeasureContext& ctx,
                                          const spec::Measurement& inFlight) {
  const Redactor empty;
  const Redactor& redactor = options_.redactor != nullptr ? *options_.redactor : empty;
  auto ref = refFromMetadata(inFlight.metadata);
  if (!ref) return std::unexpected(ref.error());

  auto statusText = trim(readFile(ref->dir / "exit-status"));
  if (!statusText.empty()) {
    auto code = toInt(statusText);
    ProviderReply reply;
    reply.kind = ProviderReply::Kind::kDecided;
    reply.metadata = inFlight.metadata;
    reply.metadata[kJobExitCodeKey] = statusText;
    if (code && *code == 0) {
      reply.phase = spec::AnalysisPhase::kSuccessful;
      return reply;
    }
    reply.phase = spec::AnalysisPhase::kFailed;
    std::string tail = outputTail(ref->dir / "output.log", options_.outputTailLines);
    reply.message = redactor.redact(
        "job " + ref->name + " failed: exit code " + statusText +
        (code && *code > 128 ? " (signal " + std::to_string(*code - 128) + ")" : "") +
        (tail.empty() ? "" : "; last output:\n" + tail));
    return reply;
  }
  if (!wrapperAlive(*ref)) {
    // Check once more: the wrapper may have written the status just before exiting.
    if (!trim(readFile(ref->dir / "exit-status")).empty()) return resume(ctx, inFlight);
    return makeError(ErrorCode::kUnavailable,
                     "job " + ref->name + ": process " + std::to_string(ref->pid) +
                         " is gone without recording an exit status (killed, or the host "
                         "restarted)");
  }
  if (ref->deadline && ctx.now >= *ref->deadline) {
    if (auto s = terminate(ctx, inFlight); !s) return std::unexpected(s.error());
    ProviderReply reply;
    reply.kind = ProviderReply::Kind::kDecided;
    reply.phase = spec::AnalysisPhase::kFailed;
    reply.metadata = inFlight.metadata;
    reply.message = "job " + ref->name +
                    " was active longer than specified deadline (activeDeadlineSeconds); its "
                    "processes were killed";
    return reply;
  }
  ProviderReply reply;
  reply.kind = ProviderReply::Kind::kRunning;
  reply.metadata = inFlight.metadata;
  Time next = ctx.now + options_.pollInterval;
  reply.resumeAt = ref->deadline ? std::min(next, *ref->deadline) : next;
  return reply;
}

Status JobProvider::terminate(const MeasureContext& ctx, const spec::Measurement& inFlight) {
  auto ref = refFromMetadata(inFlight.metadata);
  if (!ref) return std::unexpected(ref.error());
  if (!groupAlive(ref->pgid)) return {};
  signalGroup(*ref, SIGTERM);
  constexpr Duration kStep(50);
  for (Duration waited(0); waited < options_.terminateGrace; waited += kStep) {
    if (!groupAlive(ref->pgid)) return {};
    options_.clock->sleepFor(kStep);
  }
  if (groupAlive(ref->pgid)) signalGroup(*ref, SIGKILL);
  return {};
}

}  // namespace ramp::analysis::providers
