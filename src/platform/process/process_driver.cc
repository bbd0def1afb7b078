#include "platform/process/process_driver.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <tuple>

#include "common/child_env.h"
#include "platform/process/process_io.h"
#include "spec/codec.h"
#include "spec/values.h"

namespace ramp::platform::process {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A path component from a namespace or name: anything outside [A-Za-z0-9._-] becomes '_', and
// "." / ".." cannot escape the state directory.
std::string pathPart(const std::string& s) {
  std::string out;
  for (char c : s)
    out +=
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ? c : '_';
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

int64_t toMs(Time t) { return t.time_since_epoch().count(); }
Time fromMs(int64_t ms) { return Time(Duration(ms)); }

std::optional<Duration> graceOf(const spec::PodTemplateSpec& t) {
  auto it = t.spec.extra.find("terminationGracePeriodSeconds");
  if (it == t.spec.extra.end() || it->second.empty()) return std::nullopt;
  char* end = nullptr;
  long v = std::strtol(it->second.text.c_str(), &end, 10);
  if (end == it->second.text.c_str() || v < 0) return std::nullopt;
  return Duration(int64_t{v} * 1000);
}

std::string templateToJson(const spec::PodTemplateSpec& t) {
  spec::Rollout wrapper;
  wrapper.spec.template_ = t;
  return spec::toJson(wrapper);
}

std::optional<spec::PodTemplateSpec> templateFromJson(const std::string& text) {
  auto decoded = spec::rolloutFromJson(text, "state.json");
  if (!decoded.value || !decoded.value->spec.template_) return std::nullopt;
  return *decoded.value->spec.template_;
}

std::string rolloutDir(const std::string& stateDir, const std::string& rolloutKey) {
  auto slash = rolloutKey.find('/');
  std::string ns = slash == std::string::npos ? "default" : rolloutKey.substr(0, slash);
  std::string name = slash == std::string::npos ? rolloutKey : rolloutKey.substr(slash + 1);
  return stateDir + "/" + pathPart(ns) + "/" + pathPart(name);
}

std::string replicaBase(const std::string& stateDir, const std::string& rolloutKey,
                        const std::string& hash, int32_t index) {
  return rolloutDir(stateDir, rolloutKey) + "/" + pathPart(hash) + "-" + std::to_string(index);
}

}  // namespace

struct ProcessDriver::Impl {
  struct Replica {
    int32_t index = 0;
    std::vector<int> ports;
    pid_t pid = 0;  // 0 = not running
    uint64_t startTime = 0;
    bool adopted = false;
    Time startedAt{};
    std::optional<Time> restartAt;  // waiting to be (re)started
    std::optional<Time> killAt;     // stopping to be restarted (failed liveness/startup probe)
    int32_t restarts = 0;
    int32_t consecutiveCrashes = 0;
    std::string lastError;
    std::string lastExit;  // exitText() of the last exit, "exited" when unknown
    bool ready = false;
    bool becameReady = false;  // ready at least once since the current run started
    std::optional<Time> readySince;
    ProbeState readiness, liveness, startup;
    EnvList env;  // of the current run (exec probes use it)
  };
  struct Revision {
    std::string hash;
    int64_t revision = 0;
    spec::PodTemplateSpec template_;
    int32_t minReadySeconds = 0;
    int32_t desired = 0;
    Time createdAt{};
    std::optional<Time> scaleDownDeadline;
    std::map<int32_t, Replica> replicas;

    const spec::Container& container() const { return template_.spec.containers[0]; }
  };
  struct RolloutState {
    std::map<std::string, Revision> revisions;
    std::map<std::string, std::string> roles;
  };
  struct Terminating {
    std::string rolloutKey;
    std::string hash;
    int32_t index = 0;
    pid_t pid = 0;
    uint64_t startTime = 0;
    Time killAt{};
    bool killed = false;
  };
  // A probe to run outside the lock, and where its result goes.
  struct ProbeTask {
    std::string rolloutKey, hash;
    int32_t index = 0;
    pid_t pid = 0;
    ProbeKind kind = ProbeKind::kReadiness;
    ProbeTarget target;
    Duration timeout{1000};
    EnvList env;
    std::string workingDir;
    bool success = false;
    std::string detail;
  };

  Impl(Clock& c, ProcessDriverOptions o) : clock(c), options(std::move(o)) {}

  Clock& clock;
  ProcessDriverOptions options;
  std::string fileSdPath;

  std::mutex mu;  // guards everything below
  std::map<std::string, RolloutState> rollouts;
  std::vector<Terminating> terminating;
  std::map<std::string, std::string> inherited;
  std::string lastFileSd;
  std::string lastState;
  std::vector<pid_t> unreaped;

  std::mutex wakeMu;
  std::condition_variable wakeCv;
  bool stop = false;
  bool wake = false;
  std::thread thread;

  std::string base(const std::string& key, const std::string& hash, int32_t index) const {
    return replicaBase(options.stateDir, key, hash, index);
  }

  Duration grace(const Revision& rev) const {
    return graceOf(rev.template_).value_or(options.defaultGracePeriod);
  }

  void notify() {
    {
      std::lock_guard lock(wakeMu);
      wake = true;
    }
    wakeCv.notify_all();
  }

  // --- replica lifecycle (mu held) ---

  void resetProbes(Replica& rep, const spec::Container& c, Time now) {
    rep.ready = false;
    rep.becameReady = false;
    rep.readySince.reset();
    rep.readiness = rep.liveness = rep.startup = ProbeState{};
    if (c.startupProbe) {
      rep.startup =
          startProbe(probeParams(*c.startupProbe, ProbeKind::kStartup), ProbeKind::kStartup, now);
    } else {
      rep.startup.passing = true;
    }
    if (c.readinessProbe) {
      rep.readiness = startProbe(probeParams(*c.readinessProbe, ProbeKind::kReadiness),
                                 ProbeKind::kReadiness, now);
    }
    if (c.livenessProbe) {
      rep.liveness = startProbe(probeParams(*c.livenessProbe, ProbeKind::kLiveness),
                                ProbeKind::kLiveness, now);
    }
  }

  // Ready: running, started (startup probe passed), and readiness passed (or no readiness probe).
  void updateReady(Replica& rep, const spec::Container& c, Time now) {
    bool ready = rep.pid > 0 && !rep.killAt && rep.startup.passing &&
                 (!c.readinessProbe || rep.readiness.passing);
    if (ready && !rep.ready) rep.readySince = now;
    if (!ready) rep.readySince.reset();
    rep.ready = ready;
    if (ready) rep.becameReady = true;
  }

  // A start that failed before the process ran counts as a crash.
  void failStart(const std::string& key, Revision& rev, Replica& rep, Time now,
                 const std::string& why) {
    rep.lastError = why;
    rep.pid = 0;
    ++rep.consecutiveCrashes;
    ++rep.restarts;
    Duration wait = restartDelay(rep.consecutiveCrashes, options.backoff);
    rep.restartAt = now + wait;
    rep.ready = false;
    rep.readySince.reset();
    appendLine(
        base(key, rev.hash, rep.index) + ".log",
        "--- ramp: cannot start: " + why + "; next try in " + std::to_string(wait.count()) + " ms");
  }

  void startReplica(const std::string& key, Revision& rev, Replica& rep, Time now) {
    const auto& c = rev.container();
    std::string b = base(key, rev.hash, rep.index);
    std::error_code ec;
    fs::create_directories(fs::path(b).parent_path(), ec);
    // Ports: keep the replica's ports across restarts unless someone else took one meanwhile.
    size_t want = std::max<size_t>(1, c.ports.size());
    rep.ports.resize(want, 0);
    for (auto& port : rep.ports) {
      if (port > 0 && portFree(port)) continue;
      auto p = pickFreePort();
      if (!p) return failStart(key, rev, rep, now, p.error().message);
      port = *p;
    }
    ReplicaIdentity id{key, rev.hash, rev.revision, rep.index, rep.ports, inherited};
    rep.env = buildEnvironment(id, c);
    auto argv = buildArgv(c, rep.env);
    auto exe = findExecutable(argv[0], rep.env);
    if (!exe) {
      return failStart(key, rev, rep, now,
                       "spec.template.spec.containers[0].command[0]: " + exe.error().message);
    }
    SpawnRequest req{*exe, argv, rep.env, c.workingDir, b + ".log"};
    appendLine(req.logFile, "--- ramp: starting " + replicaName(key, rev.hash, rep.index) + " (" +
                                c.image + ") on 127.0.0.1:" + std::to_string(rep.ports[0]));
    auto pid = spawnProcess(req);
    if (!pid) return failStart(key, rev, rep, now, pid.error().message);
    auto st = readProcStat(*pid);
    rep.pid = *pid;
    rep.startTime = st ? st->startTime : 0;
    rep.adopted = false;
    rep.startedAt = now;
    rep.restartAt.reset();
    rep.killAt.reset();
    resetProbes(rep, c, now);
    updateReady(rep, c, now);
    json pidDoc = {{"pid", rep.pid},
                   {"startTime", rep.startTime},
                   {"startedAt", toMs(now)},
                   {"ports", rep.ports}};
    (void)writeFileAtomic(b + ".pid", pidDoc.dump() + "\n");
  }

  void onExit(const std::string& key, Revision& rev, Replica& rep, Time now,
              const std::string& how) {
    // Running long enough without a crash starts the backoff over (kubelet does the same).
    if (now - rep.startedAt >= options.backoff.resetAfter) rep.consecutiveCrashes = 0;
    ++rep.consecutiveCrashes;
    ++rep.restarts;
    if (!rep.killAt || rep.lastError.empty()) rep.lastError = how;
    rep.pid = 0;
    rep.startTime = 0;
    rep.killAt.reset();
    rep.ready = false;
    rep.readySince.reset();
    Duration wait = restartDelay(rep.consecutiveCrashes, options.backoff);
    rep.restartAt = now + wait;
    appendLine(base(key, rev.hash, rep.index) + ".log",
               "--- ramp: " + how + "; restart in " + std::to_string(wait.count()) + " ms");
  }

  void terminate(const std::string& key, Revision& rev, Replica& rep, Time now) {
    std::string b = base(key, rev.hash, rep.index);
    if (rep.pid > 0) {
      signalGroup(rep.pid, SIGTERM);
      appendLine(b + ".log", "--- ramp: scaled down; SIGTERM sent");
      terminating.push_back(
          Terminating{key, rev.hash, rep.index, rep.pid, rep.startTime, now + grace(rev), false});
    } else {
      std::error_code ec;
      fs::remove(b + ".pid", ec);
    }
  }

  // Everything but probes: exits, restarts, replica counts, grace periods. Collects due probes.
  void syncLocked(Time now, std::vector<ProbeTask>* due) {
    reapLeftovers();
    for (auto& [key, rs] : rollouts) {
      for (auto& [hash, rev] : rs.revisions) {
        const auto& c = rev.container();
        for (auto& [index, rep] : rev.replicas) {
          if (rep.pid > 0) {
            std::optional<int> status;
            if (!processAlive(rep.pid, rep.startTime, &status)) {
              rep.lastExit = status ? exitText(*status) : "exited";
              onExit(key, rev, rep, now,
                     "pid " + std::to_string(rep.pid) + " " +
                         (status ? describeWaitStatus(*status) : std::string("exited")));
            } else if (rep.killAt && now >= *rep.killAt) {
              signalGroup(rep.pid, SIGKILL);
            }
          }
        }
        // Scale down first (not ready, then newest), then up.
        std::vector<ScaleDownCandidate> candidates;
        for (const auto& [index, rep] : rev.replicas) candidates.push_back({index, rep.ready});
        for (int32_t index : pickScaleDown(candidates, rev.desired)) {
          terminate(key, rev, rev.replicas[index], now);
          rev.replicas.erase(index);
        }
        while (static_cast<int32_t>(rev.replicas.size()) < rev.desired) {
          std::vector<int32_t> used;
          for (const auto& [index, rep] : rev.replicas) used.push_back(index);
          int32_t index = lowestFreeIndex(used);
          Replica rep;
          rep.index = index;
          rep.restartAt = now;
          rev.replicas[index] = std::move(rep);
        }
        for (auto& [index, rep] : rev.replicas) {
          if (rep.pid == 0 && rep.restartAt && now >= *rep.restartAt) {
            startReplica(key, rev, rep, now);
          }
          updateReady(rep, c, now);
          if (due == nullptr || rep.pid == 0 || rep.killAt) continue;
          auto addTask = [&](ProbeKind kind, const spec::Probe& probe, ProbeState& state) {
            if (!state.due || now < *state.due) return;
            auto target = resolveProbe(probe, c, rep.ports);
            if (!target) return;  // validated at ensureRevision
            ProbeTask t;
            t.rolloutKey = key;
            t.hash = hash;
            t.index = index;
            t.pid = rep.pid;
            t.kind = kind;
            t.target = *target;
            t.timeout = probeParams(probe, kind).timeout;
            t.env = rep.env;
            t.workingDir = c.workingDir;
            due->push_back(std::move(t));
          };
          if (c.startupProbe && !rep.startup.passing) {
            addTask(ProbeKind::kStartup, *c.startupProbe, rep.startup);
            continue;  // the other probes wait until the replica has started
          }
          if (c.readinessProbe) addTask(ProbeKind::kReadiness, *c.readinessProbe, rep.readiness);
          if (c.livenessProbe) addTask(ProbeKind::kLiveness, *c.livenessProbe, rep.liveness);
        }
      }
    }
    // Replicas scaled down: gone, or killed once their grace period is over.
    std::vector<Terminating> still;
    for (auto& t : terminating) {
      if (!processAlive(t.pid, t.startTime)) {
        std::string b = base(t.rolloutKey, t.hash, t.index);
        // The pid file now belongs to a new replica with the same index, if any.
        std::ifstream pin(b + ".pid");
        json pid = json::parse(pin, nullptr, false);
        if (!pid.is_discarded() && pid.is_object() && pid.value("pid", 0) == t.pid) {
          std::error_code ec;
          fs::remove(b + ".pid", ec);
        }
        appendLine(b + ".log", "--- ramp: pid " + std::to_string(t.pid) + " stopped");
        continue;
      }
      if (!t.killed && now >= t.killAt) {
        signalGroup(t.pid, SIGKILL);
        t.killed = true;
        appendLine(base(t.rolloutKey, t.hash, t.index) + ".log",
                   "--- ramp: grace period over; SIGKILL sent to pid " + std::to_string(t.pid));
      }
      still.push_back(t);
    }
    terminating = std::move(still);
  }

  void applyProbe(const ProbeTask& t, Time now) {
    auto rit = rollouts.find(t.rolloutKey);
    if (rit == rollouts.end()) return;
    auto vit = rit->second.revisions.find(t.hash);
    if (vit == rit->second.revisions.end()) return;
    auto& rev = vit->second;
    auto pit = rev.replicas.find(t.index);
    if (pit == rev.replicas.end() || pit->second.pid != t.pid) return;  // restarted meanwhile
    auto& rep = pit->second;
    const auto& c = rev.container();
    const spec::Probe& probe = t.kind == ProbeKind::kReadiness  ? *c.readinessProbe
                               : t.kind == ProbeKind::kLiveness ? *c.livenessProbe
                                                                : *c.startupProbe;
    ProbeParams params = probeParams(probe, t.kind);
    ProbeState& state = t.kind == ProbeKind::kReadiness  ? rep.readiness
                        : t.kind == ProbeKind::kLiveness ? rep.liveness
                                                         : rep.startup;
    recordProbe(state, params, t.success, now);
    if (t.kind == ProbeKind::kStartup && state.passing) {
      // Started: readiness and liveness begin now (their initial delays count from here).
      if (c.readinessProbe) {
        rep.readiness = startProbe(probeParams(*c.readinessProbe, ProbeKind::kReadiness),
                                   ProbeKind::kReadiness, now);
      }
      if (c.livenessProbe) {
        rep.liveness = startProbe(probeParams(*c.livenessProbe, ProbeKind::kLiveness),
                                  ProbeKind::kLiveness, now);
      }
    }
    if (!t.success) rep.lastError = t.detail;
    bool restart =
        (t.kind == ProbeKind::kLiveness && !state.passing) ||
        (t.kind == ProbeKind::kStartup && state.consecutiveFailures >= params.failureThreshold);
    if (restart && !rep.killAt) {
      std::string why = std::string(t.kind == ProbeKind::kLiveness ? "liveness" : "startup") +
                        " probe failed " + std::to_string(state.consecutiveFailures) +
                        " times: " + t.detail;
      rep.lastError = why;
      rep.killAt = now + grace(rev);
      signalGroup(rep.pid, SIGTERM);
      appendLine(base(t.rolloutKey, t.hash, t.index) + ".log",
                 "--- ramp: " + why + "; SIGTERM sent, restarting");
    }
    updateReady(rep, c, now);
  }

  // Rewrites file_sd and state.json when their content changed.
  void publishLocked() {
    std::vector<SdTarget> targets;
    for (const auto& [key, rs] : rollouts) {
      for (const auto& [hash, rev] : rs.revisions) {
        auto role = rs.roles.find(hash);
        for (const auto& [index, rep] : rev.replicas) {
          if (!rep.ready || rep.ports.empty()) continue;
          targets.push_back(SdTarget{
              "127.0.0.1:" + std::to_string(rep.ports[0]),
              replicaLabels(key, hash, rev.revision, role == rs.roles.end() ? "" : role->second,
                            replicaName(key, hash, index), rev.template_.metadata.labels)});
        }
      }
    }
    std::string sd = fileSdJson(std::move(targets));
    if (sd != lastFileSd) {
      std::error_code ec;
      fs::create_directories(fs::path(fileSdPath).parent_path(), ec);
      if (writeFileAtomic(fileSdPath, sd)) lastFileSd = sd;
    }
    std::string state = stateJson();
    if (state != lastState) {
      if (writeFileAtomic(options.stateDir + "/state.json", state)) lastState = state;
    }
  }

  std::string stateJson() const {
    json doc = {{"version", 1}, {"rollouts", json::object()}, {"terminating", json::array()}};
    for (const auto& [key, rs] : rollouts) {
      json revs = json::array();
      for (const auto& [hash, rev] : rs.revisions) {
        json reps = json::array();
        for (const auto& [index, rep] : rev.replicas) {
          json r = {{"index", index},
                    {"ports", rep.ports},
                    {"restarts", rep.restarts},
                    {"ready", rep.ready}};
          if (rep.readySince) r["readySince"] = toMs(*rep.readySince);
          if (!rep.lastExit.empty()) r["lastExit"] = rep.lastExit;
          reps.push_back(std::move(r));
        }
        json rj = {{"hash", hash},
                   {"revision", rev.revision},
                   {"template", templateToJson(rev.template_)},
                   {"minReadySeconds", rev.minReadySeconds},
                   {"desired", rev.desired},
                   {"createdAt", toMs(rev.createdAt)},
                   {"replicas", std::move(reps)}};
        if (rev.scaleDownDeadline) rj["scaleDownDeadline"] = toMs(*rev.scaleDownDeadline);
        revs.push_back(std::move(rj));
      }
      doc["rollouts"][key] = {{"roles", rs.roles}, {"revisions", std::move(revs)}};
    }
    for (const auto& t : terminating) {
      doc["terminating"].push_back({{"rollout", t.rolloutKey},
                                    {"hash", t.hash},
                                    {"index", t.index},
                                    {"pid", t.pid},
                                    {"startTime", t.startTime},
                                    {"killAt", toMs(t.killAt)}});
    }
    return doc.dump(1) + "\n";
  }

  Status load(const std::string& statePath);

  // True when `pid` still runs the process that started at `startTime` and can be adopted. A
  // process whose main thread already exited (state Z while its other threads finish dying)
  // is not; if it is this process's child it is reaped by a later tick.
  bool adoptable(pid_t pid, uint64_t startTime) {
    auto st = readProcStat(pid);
    if (st && st->startTime == startTime && (st->state == 'Z' || st->state == 'X')) {
      unreaped.push_back(pid);
      return false;
    }
    return processAlive(pid, startTime);
  }

  // Children seen exiting but not yet reapable; waited for without blocking on each tick.
  void reapLeftovers() {
    std::vector<pid_t> still;
    for (pid_t pid : unreaped) {
      int ws = 0;
      if (::waitpid(pid, &ws, WNOHANG) == 0) still.push_back(pid);
    }
    unreaped = std::move(still);
  }
};

// --- construction and persistence -----------------------------------------------------------

ProcessDriver::ProcessDriver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  fileSdPath_ = impl_->fileSdPath;
}

Status ProcessDriver::Impl::load(const std::string& statePath) {
  std::ifstream in(statePath);
  std::stringstream ss;
  ss << in.rdbuf();
  json doc = json::parse(ss.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return makeError(ErrorCode::kUnavailable,
                     "platform.process: " + statePath + " is not valid JSON");
  }
  Time now = clock.now();
  try {
    // Named locals: a temporary in a range-for initializer would die before the loop runs.
    json rolloutsDoc = doc.value("rollouts", json::object());
    for (const auto& [key, r] : rolloutsDoc.items()) {
      auto& rs = rollouts[key];
      rs.roles = r.value("roles", std::map<std::string, std::string>{});
      json revisionsDoc = r.value("revisions", json::array());
      for (const auto& rj : revisionsDoc) {
        Revision rev;
        rev.hash = rj.at("hash").get<std::string>();
        rev.revision = rj.at("revision").get<int64_t>();
        auto t = templateFromJson(rj.at("template").get<std::string>());
        if (!t || t->spec.containers.empty()) {
          return makeError(ErrorCode::kUnavailable, "platform.process: " + statePath +
                                                        ": template of revision " + rev.hash +
                                                        " cannot be decoded");
        }
        rev.template_ = *t;
        rev.minReadySeconds = rj.value("minReadySeconds", 0);
        rev.desired = rj.value("desired", 0);
        rev.createdAt = fromMs(rj.value("createdAt", int64_t{0}));
        if (rj.contains("scaleDownDeadline")) {
          rev.scaleDownDeadline = fromMs(rj["scaleDownDeadline"].get<int64_t>());
        }
        const auto& c = rev.container();
        json replicasDoc = rj.value("replicas", json::array());
        for (const auto& pj : replicasDoc) {
          Replica rep;
          rep.index = pj.at("index").get<int32_t>();
          rep.ports = pj.value("ports", std::vector<int>{});
          rep.restarts = pj.value("restarts", 0);
          rep.lastExit = pj.value("lastExit", "");
          rep.restartAt = now;  // started again by the next tick unless adopted here
          std::string b = base(key, rev.hash, rep.index);
          std::ifstream pin(b + ".pid");
          json pid = json::parse(pin, nullptr, false);
          if (!pid.is_discarded() && pid.is_object()) {
            pid_t p = pid.value("pid", 0);
            uint64_t start = pid.value("startTime", uint64_t{0});
            if (adoptable(p, start)) {
              rep.pid = p;
              rep.startTime = start;
              rep.adopted = true;
              rep.restartAt.reset();
              rep.startedAt = fromMs(pid.value("startedAt", toMs(now)));
              resetProbes(rep, c, now);
              rep.startup.passing = true;  // it had started before the driver restarted
              // Readiness keeps its last verdict until the probes, which resume now, decide.
              rep.ready = pj.value("ready", false);
              rep.readiness.passing = rep.ready;
              rep.readiness.due = now;
              if (rep.ready) rep.readySince = fromMs(pj.value("readySince", toMs(now)));
              rep.becameReady = rep.ready;
              ReplicaIdentity id{key, rev.hash, rev.revision, rep.index, rep.ports, inherited};
              rep.env = buildEnvironment(id, c);
              appendLine(b + ".log", "--- ramp: pid " + std::to_string(p) +
                                         " re-adopted after a restart of the driver");
            }
          }
          rev.replicas[rep.index] = std::move(rep);
        }
        rs.revisions[rev.hash] = std::move(rev);
      }
    }
    json terminatingDoc = doc.value("terminating", json::array());
    for (const auto& tj : terminatingDoc) {
      Terminating t;
      t.rolloutKey = tj.at("rollout").get<std::string>();
      t.hash = tj.at("hash").get<std::string>();
      t.index = tj.at("index").get<int32_t>();
      t.pid = tj.at("pid").get<pid_t>();
      t.startTime = tj.at("startTime").get<uint64_t>();
      t.killAt = fromMs(tj.at("killAt").get<int64_t>());
      if (adoptable(t.pid, t.startTime)) terminating.push_back(t);
    }
  } catch (const json::exception& e) {
    return makeError(ErrorCode::kUnavailable,
                     "platform.process: " + statePath + ": " + std::string(e.what()));
  }
  return {};
}

Result<std::unique_ptr<ProcessDriver>> ProcessDriver::create(Clock& clock,
                                                             ProcessDriverOptions options) {
  if (options.stateDir.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "platform.process needs a state directory (ramp serve --data-dir)");
  }
  std::error_code ec;
  fs::create_directories(options.stateDir, ec);
  if (ec) {
    return makeError(ErrorCode::kUnavailable,
                     "platform.process: cannot create " + options.stateDir + ": " + ec.message());
  }
  auto impl = std::make_unique<Impl>(clock, std::move(options));
  impl->fileSdPath = impl->options.fileSdPath.empty() ? impl->options.stateDir + "/file_sd.json"
                                                      : impl->options.fileSdPath;
  if (impl->options.inheritedEnv) {
    impl->inherited = *impl->options.inheritedEnv;
    if (!impl->inherited.contains("PATH")) {
      impl->inherited["PATH"] = inheritedEnvironment().at("PATH");
    }
  } else {
    impl->inherited = inheritedEnvironment();
  }

  std::string statePath = impl->options.stateDir + "/state.json";
  if (fs::exists(statePath)) {
    if (auto s = impl->load(statePath); !s) return std::unexpected(s.error());
  }
  std::unique_ptr<ProcessDriver> d(new ProcessDriver(std::move(impl)));
  {
    std::lock_guard lock(d->impl_->mu);
    d->impl_->syncLocked(d->impl_->clock.now(), nullptr);
    d->impl_->publishLocked();
  }
  if (d->impl_->options.supervise) {
    d->impl_->thread = std::thread([raw = d.get()] {
      auto& im = *raw->impl_;
      while (true) {
        raw->tick();
        std::unique_lock lock(im.wakeMu);
        im.wakeCv.wait_for(lock, im.options.pollInterval, [&] { return im.stop || im.wake; });
        if (im.stop) return;
        im.wake = false;
      }
    });
  }
  return d;
}

ProcessDriver::~ProcessDriver() {
  if (impl_->thread.joinable()) {
    {
      std::lock_guard lock(impl_->wakeMu);
      impl_->stop = true;
    }
    impl_->wakeCv.notify_all();
    impl_->thread.join();
  }
  if (impl_->options.stopReplicasOnDestroy) stopAll();
}

// --- the seam ---------------------------------------------------------------------------------

Result<ObservedWorkload> ProcessDriver::observe(const std::string& rolloutKey) {
  std::lock_guard lock(impl_->mu);
  Time now = impl_->clock.now();
  ObservedWorkload out;
  auto it = impl_->rollouts.find(rolloutKey);
  if (it == impl_->rollouts.end()) return out;
  for (const auto& [hash, rev] : it->second.revisions) {
    ObservedRevision o;
    o.podTemplateHash = hash;
    o.revision = rev.revision;
    o.template_ = rev.template_;
    o.createdAt = rev.createdAt;
    o.desiredReplicas = rev.desired;
    o.scaleDownDeadline = rev.scaleDownDeadline;
    for (const auto& [index, rep] : rev.replicas) {
      ++o.currentReplicas;
      if (rep.ready) ++o.readyReplicas;
      if (rep.ready && rep.readySince &&
          now - *rep.readySince >= Duration(int64_t{rev.minReadySeconds} * 1000)) {
        ++o.availableReplicas;
      }
      if (isCrashLooping(rep.consecutiveCrashes, rep.ready)) ++o.crashLoopingReplicas;
      // A replica waiting to be (re)started will start afresh: its start is still to come.
      o.replicaStartedAt.push_back(rep.pid > 0 ? rep.startedAt
                                               : std::max(now, rep.restartAt.value_or(now)));
      if (!rep.ports.empty()) {
        o.endpoints.push_back(traffic::Endpoint{replicaName(rolloutKey, hash, index), "127.0.0.1",
                                                rep.ports[0], rep.ready});
      }
    }
    std::sort(o.replicaStartedAt.begin(), o.replicaStartedAt.end());
    out.revisions.push_back(std::move(o));
  }
  return out;
}

Status ProcessDriver::ensureRevision(const std::string& rolloutKey, const RevisionSpec& wanted) {
  const std::string& hash = wanted.hash;
  const int64_t revision = wanted.revision;
  const spec::PodTemplateSpec& template_ = wanted.template_;
  const int32_t minReadySeconds = wanted.minReadySeconds;
  if (rolloutKey.empty() || hash.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "platform.process: rollout key and pod template hash must not be empty");
  }
  if (auto s = validateTemplate(template_); !s) return s;
  {
    // The program must exist on the replicas' PATH (with $(VAR) expanded as for a replica).
    const auto& c = template_.spec.containers[0];
    ReplicaIdentity id{rolloutKey, hash, revision, 0, {0}, impl_->inherited};
    EnvList env = buildEnvironment(id, c);
    auto argv = buildArgv(c, env);
    if (auto exe = findExecutable(argv[0], env); !exe) {
      return makeError(ErrorCode::kInvalidArgument,
                       "spec.template.spec.containers[0].command[0]: " + exe.error().message);
    }
    std::error_code ec;
    if (!c.workingDir.empty() && !fs::is_directory(c.workingDir, ec)) {
      return makeError(
          ErrorCode::kInvalidArgument,
          "spec.template.spec.containers[0].workingDir: " + c.workingDir + " is not a directory");
    }
  }
  std::lock_guard lock(impl_->mu);
  auto& rs = impl_->rollouts[rolloutKey];
  auto it = rs.revisions.find(hash);
  if (it == rs.revisions.end()) {
    Impl::Revision rev;
    rev.hash = hash;
    rev.revision = revision;
    rev.template_ = template_;
    rev.minReadySeconds = minReadySeconds;
    rev.createdAt = impl_->clock.now();
    rs.revisions.emplace(hash, std::move(rev));
  } else {
    it->second.revision = revision;
    it->second.minReadySeconds = minReadySeconds;
  }
  impl_->publishLocked();
  return {};
}

Status ProcessDriver::scale(const std::string& rolloutKey, const std::string& hash,
                            int32_t replicas, int32_t /*rolloutReplicas*/) {
  if (replicas < 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     "platform.process: replicas must be >= 0, not " + std::to_string(replicas));
  }
  {
    std::lock_guard lock(impl_->mu);
    auto rit = impl_->rollouts.find(rolloutKey);
    if (rit == impl_->rollouts.end() || !rit->second.revisions.contains(hash)) {
      return makeError(ErrorCode::kNotFound,
                       "platform.process: " + rolloutKey + " has no revision " + hash);
    }
    rit->second.revisions[hash].desired = replicas;
    // Start and stop at once (both are quick); readiness comes with later probes.
    impl_->syncLocked(impl_->clock.now(), nullptr);
    impl_->publishLocked();
  }
  impl_->notify();
  return {};
}

Status ProcessDriver::setScaleDownDeadline(const std::string& rolloutKey, const std::string& hash,
                                           std::optional<Time> deadline) {
  std::lock_guard lock(impl_->mu);
  auto rit = impl_->rollouts.find(rolloutKey);
  if (rit == impl_->rollouts.end() || !rit->second.revisions.contains(hash)) {
    return makeError(ErrorCode::kNotFound,
                     "platform.process: " + rolloutKey + " has no revision " + hash);
  }
  rit->second.revisions[hash].scaleDownDeadline = deadline;
  impl_->publishLocked();
  return {};
}

Status ProcessDriver::retire(const std::string& rolloutKey, const std::string& hash) {
  std::lock_guard lock(impl_->mu);
  auto rit = impl_->rollouts.find(rolloutKey);
  if (rit == impl_->rollouts.end()) return {};
  auto vit = rit->second.revisions.find(hash);
  if (vit == rit->second.revisions.end()) return {};
  if (vit->second.desired > 0 || !vit->second.replicas.empty()) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "platform.process: revision " + hash + " of " + rolloutKey + " still has " +
                         std::to_string(vit->second.replicas.size()) +
                         " replicas; scale it to 0 first");
  }
  rit->second.revisions.erase(vit);
  rit->second.roles.erase(hash);
  if (rit->second.revisions.empty() && rit->second.roles.empty()) impl_->rollouts.erase(rit);
  impl_->publishLocked();
  return {};
}

Status ProcessDriver::restartReplica(const std::string& rolloutKey, const std::string& hash,
                                     Time startedBefore) {
  {
    std::lock_guard lock(impl_->mu);
    auto rit = impl_->rollouts.find(rolloutKey);
    if (rit == impl_->rollouts.end() || !rit->second.revisions.contains(hash)) {
      return makeError(ErrorCode::kNotFound,
                       "platform.process: " + rolloutKey + " has no revision " + hash);
    }
    auto& rev = rit->second.revisions[hash];
    const Impl::Replica* oldest = nullptr;
    for (const auto& [index, rep] : rev.replicas) {
      if (rep.pid <= 0 || rep.startedAt >= startedBefore) continue;
      if (oldest == nullptr || rep.startedAt < oldest->startedAt) oldest = &rep;
    }
    if (oldest == nullptr) return {};
    const Time now = impl_->clock.now();
    const int32_t index = oldest->index;
    const std::string b = impl_->base(rolloutKey, hash, index);
    signalGroup(oldest->pid, SIGTERM);
    appendLine(b + ".log", "--- ramp: restart requested (replica started before " +
                               spec::formatRfc3339(startedBefore) + "); SIGTERM sent to pid " +
                               std::to_string(oldest->pid));
    impl_->terminating.push_back(Impl::Terminating{
        rolloutKey, hash, index, oldest->pid, oldest->startTime, now + impl_->grace(rev), false});
    // A new replica in the same slot, started now by the sync below on fresh ports.
    Impl::Replica fresh;
    fresh.index = index;
    fresh.restartAt = now;
    rev.replicas[index] = std::move(fresh);
    impl_->syncLocked(now, nullptr);
    impl_->publishLocked();
  }
  impl_->notify();
  return {};
}

Status ProcessDriver::setRoles(const std::string& rolloutKey,
                               const std::map<std::string, std::string>& roles,
                               const RoleMetadata& /*metadata*/) {
  for (const auto& [hash, role] : roles) {
    if (!validRole(role)) {
      return makeError(ErrorCode::kInvalidArgument,
                       "platform.process: role \"" + role + "\" of revision " + hash +
                           " must be stable, canary, preview or active");
    }
  }
  std::lock_guard lock(impl_->mu);
  if (roles.empty() && !impl_->rollouts.contains(rolloutKey)) return {};
  impl_->rollouts[rolloutKey].roles = roles;
  impl_->publishLocked();
  return {};
}

// --- supervision ------------------------------------------------------------------------------

std::vector<ReplicaInfo> ProcessDriver::replicas(const std::string& rolloutKey) {
  std::lock_guard lock(impl_->mu);
  Time now = impl_->clock.now();
  std::vector<ReplicaInfo> out;
  auto it = impl_->rollouts.find(rolloutKey);
  if (it != impl_->rollouts.end()) {
    for (const auto& [hash, rev] : it->second.revisions) {
      for (const auto& [index, rep] : rev.replicas) {
        ReplicaInfo r;
        r.name = replicaName(rolloutKey, hash, index);
        r.podTemplateHash = hash;
        r.index = index;
        r.pid = rep.pid;
        r.ports = rep.ports;
        r.ready = rep.ready;
        r.available = rep.ready && rep.readySince &&
                      now - *rep.readySince >= Duration(int64_t{rev.minReadySeconds} * 1000);
        r.crashLooping = isCrashLooping(rep.consecutiveCrashes, rep.ready);
        r.adopted = rep.adopted;
        r.becameReady = rep.becameReady;
        r.restarts = rep.restarts;
        if (rep.pid > 0) r.startedAt = rep.startedAt;
        r.nextRestart = rep.restartAt;
        r.lastExit = rep.lastExit;
        r.lastError = rep.lastError;
        r.logFile = impl_->base(rolloutKey, hash, index) + ".log";
        out.push_back(std::move(r));
      }
    }
  }
  for (const auto& t : impl_->terminating) {
    if (t.rolloutKey != rolloutKey) continue;
    ReplicaInfo r;
    r.name = replicaName(rolloutKey, t.hash, t.index);
    r.podTemplateHash = t.hash;
    r.index = t.index;
    r.pid = t.pid;
    r.terminating = true;
    r.logFile = impl_->base(rolloutKey, t.hash, t.index) + ".log";
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<ObservedReplica>> ProcessDriver::observeReplicas(const std::string& rolloutKey) {
  std::vector<ObservedReplica> out;
  for (const ReplicaInfo& r : replicas(rolloutKey)) out.push_back(toObservedReplica(r));
  std::sort(out.begin(), out.end(), [](const ObservedReplica& a, const ObservedReplica& b) {
    return std::tie(a.podTemplateHash, a.index, a.state) <
           std::tie(b.podTemplateHash, b.index, b.state);
  });
  return out;
}

Result<LogChunk> ProcessDriver::readLog(const std::string& rolloutKey,
                                        const std::string& replicaName, int64_t offset,
                                        int64_t maxBytes) {
  if (maxBytes < 1) {
    return makeError(
        ErrorCode::kInvalidArgument,
        "platform.process: a log read needs maxBytes >= 1, not " + std::to_string(maxBytes));
  }
  std::string path;
  for (const ReplicaInfo& r : replicas(rolloutKey)) {
    if (r.name == replicaName) path = r.logFile;
  }
  if (path.empty()) {
    return makeError(ErrorCode::kNotFound,
                     "platform.process: " + rolloutKey + " has no replica " + replicaName);
  }
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return makeError(ErrorCode::kUnavailable, "platform.process: cannot read the log of " +
                                                  replicaName + ": " + ec.message());
  }
  LogRange range = logRange(offset, maxBytes, ec ? 0 : static_cast<int64_t>(size));
  LogChunk chunk;
  chunk.offset = range.start;
  if (range.length > 0) {
    std::ifstream in(path, std::ios::binary);
    in.seekg(range.start);
    chunk.text.resize(static_cast<size_t>(range.length));
    in.read(chunk.text.data(), range.length);
    chunk.text.resize(static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
  }
  chunk.nextOffset = chunk.offset + static_cast<int64_t>(chunk.text.size());
  return chunk;
}

void ProcessDriver::tick() {
  std::vector<Impl::ProbeTask> due;
  {
    std::lock_guard lock(impl_->mu);
    impl_->syncLocked(impl_->clock.now(), &due);
  }
  // Probes run without the lock: each is bounded by its own timeout.
  for (auto& t : due) {
    t.success = runProbe(t.target, t.timeout, t.env, t.workingDir, &t.detail);
  }
  std::lock_guard lock(impl_->mu);
  Time now = impl_->clock.now();
  for (const auto& t : due) impl_->applyProbe(t, now);
  impl_->publishLocked();
}

void ProcessDriver::stopAll() {
  Time deadline;
  {
    std::lock_guard lock(impl_->mu);
    Time now = impl_->clock.now();
    deadline = now;
    for (auto& [key, rs] : impl_->rollouts) {
      for (auto& [hash, rev] : rs.revisions) {
        for (auto& [index, rep] : rev.replicas) {
          impl_->terminate(key, rev, rep, now);
          deadline = std::max(deadline, now + impl_->grace(rev));
        }
        rev.replicas.clear();
      }
    }
    for (const auto& t : impl_->terminating) deadline = std::max(deadline, t.killAt);
    impl_->publishLocked();
  }
  while (true) {
    std::lock_guard lock(impl_->mu);
    // Only the terminating list matters here; sync with nothing desired would restart replicas.
    std::vector<Impl::Terminating> still;
    Time now = impl_->clock.now();
    for (auto& t : impl_->terminating) {
      if (!processAlive(t.pid, t.startTime)) continue;
      if (now >= t.killAt && !t.killed) {
        signalGroup(t.pid, SIGKILL);
        t.killed = true;
      }
      still.push_back(t);
    }
    impl_->terminating = std::move(still);
    if (impl_->terminating.empty() || now > deadline + Duration(5000)) break;
    impl_->clock.sleepFor(Duration(20));
  }
  std::lock_guard lock(impl_->mu);
  impl_->publishLocked();
}

Result<std::unique_ptr<platform::WorkloadDriver>> makeProcessDriver(
    const ExtensionContext& context) {
  if (context.clock == nullptr) {
    return makeError(ErrorCode::kInvalidArgument, "platform.process needs a clock");
  }
  if (context.dataDir.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "platform.process needs a data directory (ramp serve --data-dir)");
  }
  ProcessDriverOptions options;
  options.stateDir = context.dataDir + "/platform.process";
  if (const char* sd = std::getenv("RAMP_PROCESS_FILE_SD"); sd != nullptr && *sd != '\0') {
    options.fileSdPath = sd;
  }
  auto d = ProcessDriver::create(*context.clock, std::move(options));
  if (!d) return std::unexpected(d.error());
  return std::unique_ptr<platform::WorkloadDriver>(std::move(*d));
}

}  // namespace ramp::platform::process
