#include "platform/process/supervision.h"

#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>
#include <set>

namespace ramp::platform::process {

namespace {

std::string field(size_t i) { return "spec.template.spec.containers[" + std::to_string(i) + "]"; }

// Kubernetes' default probe numbers.
constexpr int32_t kDefaultPeriodSeconds = 10;
constexpr int32_t kDefaultTimeoutSeconds = 1;
constexpr int32_t kDefaultFailureThreshold = 3;

}  // namespace

std::string expandVars(std::string_view text, const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != '$' || i + 1 == text.size()) {
      out += c;
      ++i;
      continue;
    }
    char next = text[i + 1];
    if (next == '$') {  // escaped operator
      out += '$';
      i += 2;
      continue;
    }
    if (next != '(') {  // a '$' that starts no reference
      out += '$';
      out += next;
      i += 2;
      continue;
    }
    size_t close = text.find(')', i + 2);
    if (close == std::string_view::npos) {  // unclosed: keep "$(" and go on after it
      out += "$(";
      i += 2;
      continue;
    }
    std::string name(text.substr(i + 2, close - i - 2));
    auto it = vars.find(name);
    if (it != vars.end()) {
      out += it->second;
    } else {
      out += "$(" + name + ")";
    }
    i = close + 1;
  }
  return out;
}

std::string imageVersion(const std::string& image) {
  auto at = image.find('@');
  if (at != std::string::npos) return image.substr(at + 1);
  auto slash = image.rfind('/');
  auto colon = image.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    return image.substr(colon + 1);
  }
  return "latest";
}

std::string portVariableName(const std::string& portName) {
  std::string out;
  for (char c : portName) {
    out += std::isalnum(static_cast<unsigned char>(c))
               ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
               : '_';
  }
  return out;
}

std::string replicaName(const std::string& rolloutKey, const std::string& hash, int32_t index) {
  auto slash = rolloutKey.find('/');
  std::string name = slash == std::string::npos ? rolloutKey : rolloutKey.substr(slash + 1);
  return name + "-" + hash + "-" + std::to_string(index);
}

EnvList buildEnvironment(const ReplicaIdentity& replica, const spec::Container& container) {
  EnvList env;
  std::map<std::string, std::string> vars;
  auto set = [&](const std::string& name, const std::string& value) {
    auto it = std::find_if(env.begin(), env.end(), [&](const auto& e) { return e.first == name; });
    if (it != env.end()) {
      it->second = value;
    } else {
      env.emplace_back(name, value);
    }
    vars[name] = value;
  };
  for (const auto& [name, value] : replica.inherited) set(name, value);

  // Port variables: PORT is the first port; each named port also as <NAME> (unless that would
  // replace an inherited or RAMP_ variable such as PATH) and always as PORT_<NAME>.
  EnvList ports;
  int first = replica.ports.empty() ? 0 : replica.ports[0];
  ports.emplace_back("PORT", std::to_string(first));
  for (size_t i = 0; i < container.ports.size() && i < replica.ports.size(); ++i) {
    const auto& name = container.ports[i].name;
    if (name.empty()) continue;
    std::string var = portVariableName(name);
    std::string value = std::to_string(replica.ports[i]);
    if (!replica.inherited.contains(var) && !var.starts_with("RAMP_") && var != "VERSION") {
      ports.emplace_back(var, value);
    }
    ports.emplace_back("PORT_" + var, value);
  }
  for (const auto& [name, value] : ports) set(name, value);

  set("RAMP_IMAGE", container.image);
  set("VERSION", imageVersion(container.image));
  set("RAMP_REVISION", std::to_string(replica.revision));
  set("RAMP_POD_TEMPLATE_HASH", replica.podTemplateHash);
  set("RAMP_ROLLOUT", replica.rolloutKey);
  set("RAMP_POD_NAME", replicaName(replica.rolloutKey, replica.podTemplateHash, replica.index));
  set("RAMP_REPLICA", std::to_string(replica.index));

  for (const auto& e : container.env) set(e.name, expandVars(e.value, vars));
  for (const auto& [name, value] : ports) set(name, value);
  return env;
}

std::vector<std::string> buildArgv(const spec::Container& container, const EnvList& env) {
  std::map<std::string, std::string> vars(env.begin(), env.end());
  std::vector<std::string> argv;
  for (const auto& c : container.command) argv.push_back(expandVars(c, vars));
  for (const auto& a : container.args) argv.push_back(expandVars(a, vars));
  return argv;
}

namespace {

// Collects problems of a template as Diagnostics with absolute field paths.
class Problems {
 public:
  void add(std::string path, std::string message,
           spec::Severity severity = spec::Severity::kError) {
    spec::Diagnostic d;
    d.path = std::move(path);
    d.message = std::move(message);
    d.severity = severity;
    list_.push_back(std::move(d));
  }
  std::vector<spec::Diagnostic> take() { return std::move(list_); }

 private:
  std::vector<spec::Diagnostic> list_;
};

void checkProbe(const spec::Probe& probe, const spec::Container& container, const std::string& path,
                Problems& problems) {
  int actions = (probe.httpGet ? 1 : 0) + (probe.tcpSocket ? 1 : 0) + (probe.exec ? 1 : 0);
  if (actions != 1) {
    problems.add(path,
                 "the process platform needs exactly one of httpGet, tcpSocket, exec (grpc is "
                 "not supported)");
    return;
  }
  if (probe.exec && probe.exec->command.empty()) {
    problems.add(path + ".exec.command", "must not be empty");
  }
  const spec::IntOrString* port = probe.httpGet     ? &probe.httpGet->port
                                  : probe.tcpSocket ? &probe.tcpSocket->port
                                                    : nullptr;
  std::string portPath = path + (probe.httpGet ? ".httpGet.port" : ".tcpSocket.port");
  if (port != nullptr) {
    if (port->isInt()) {
      if (port->intValue() < 1 || port->intValue() > 65535) {
        problems.add(portPath, std::to_string(port->intValue()) + " is not a port number");
      }
    } else {
      bool known = std::any_of(container.ports.begin(), container.ports.end(),
                               [&](const auto& p) { return p.name == port->stringValue(); });
      if (!known) {
        problems.add(portPath, "no containerPort is named \"" + port->stringValue() + "\"");
      }
    }
  }
  if (probe.httpGet && !probe.httpGet->scheme.empty() && probe.httpGet->scheme != "HTTP" &&
      probe.httpGet->scheme != "HTTPS") {
    problems.add(path + ".httpGet.scheme", "must be HTTP or HTTPS, not " + probe.httpGet->scheme);
  }
}

}  // namespace

std::vector<spec::Diagnostic> templateProblems(const spec::PodTemplateSpec& template_) {
  Problems problems;
  const auto& pod = template_.spec;
  if (pod.containers.empty()) {
    problems.add("spec.template.spec.containers", "the process platform needs one container");
    return problems.take();
  }
  if (pod.containers.size() > 1) {
    problems.add(field(1), "the process platform runs one container per replica");
  }
  if (!pod.initContainers.empty()) {
    problems.add("spec.template.spec.initContainers", "not supported by the process platform");
  }
  const auto& c = pod.containers[0];
  if (c.command.empty() || c.command[0].empty()) {
    problems.add(field(0) + ".command", "required by the process platform (image \"" + c.image +
                                            "\" is not run as a container image; command names "
                                            "the program)");
  }
  for (size_t i = 0; i < c.env.size(); ++i) {
    if (!c.env[i].valueFrom.empty()) {
      problems.add(field(0) + ".env[" + std::to_string(i) + "].valueFrom",
                   "not supported by the process platform; use value");
    }
  }
  std::set<std::string> names;
  for (size_t i = 0; i < c.ports.size(); ++i) {
    if (!c.ports[i].name.empty() && !names.insert(c.ports[i].name).second) {
      problems.add(field(0) + ".ports[" + std::to_string(i) + "].name",
                   "duplicate \"" + c.ports[i].name + "\"");
    }
  }
  if (c.readinessProbe) checkProbe(*c.readinessProbe, c, field(0) + ".readinessProbe", problems);
  if (c.livenessProbe) checkProbe(*c.livenessProbe, c, field(0) + ".livenessProbe", problems);
  if (c.startupProbe) checkProbe(*c.startupProbe, c, field(0) + ".startupProbe", problems);
  for (size_t i = 0; i < pod.containers.size(); ++i) {
    if (!pod.containers[i].resources.empty()) {
      problems.add(field(i) + ".resources",
                   "ignored by the process platform: replicas run without CPU or memory limits",
                   spec::Severity::kWarning);
    }
  }
  return problems.take();
}

std::vector<spec::Diagnostic> rolloutProblems(const spec::Rollout& rollout) {
  if (!rollout.spec.template_) return {};  // spec validation reports it
  std::vector<spec::Diagnostic> out = templateProblems(*rollout.spec.template_);
  // No Services here: without a router nothing sends the replicas any traffic.
  const auto& strategy = rollout.spec.strategy;
  const auto warn = [&](std::string path, std::string message) {
    spec::Diagnostic d;
    d.path = std::move(path);
    d.message = std::move(message);
    d.severity = spec::Severity::kWarning;
    out.push_back(std::move(d));
  };
  if (strategy.canary && !spec::routersOf(rollout.spec)) {
    warn("spec.strategy.canary",
         "nothing routes traffic to this canary on the process platform: a canary without "
         "trafficRouting is split by replica counts through a Service, and this platform has "
         "none; add serviceRouting.plugins (ramp/haproxy or ramp/nginx, whose backend plays the "
         "Service's role) or trafficRouting.plugins (weights by step) to route it");
  }
  if (strategy.blueGreen && !strategy.blueGreen->trafficRouting) {
    warn("spec.strategy.blueGreen",
         "nothing routes traffic to the active or preview Service on the process platform: it has "
         "no Services, so promotion switches no traffic; add blueGreen.trafficRouting.plugins "
         "(ramp/haproxy or ramp/nginx), whose backends play the Services' role");
  }
  return out;
}

Status validateTemplate(const spec::PodTemplateSpec& template_) {
  for (const spec::Diagnostic& d : templateProblems(template_)) {
    if (d.severity == spec::Severity::kError) {
      return makeError(ErrorCode::kInvalidArgument, d.path + ": " + d.message);
    }
  }
  return {};
}

ProbeParams probeParams(const spec::Probe& probe, ProbeKind kind) {
  auto seconds = [](std::optional<int32_t> v, int32_t def) {
    return Duration(int64_t{std::max(v.value_or(def), 0)} * 1000);
  };
  ProbeParams p;
  p.initialDelay = seconds(probe.initialDelaySeconds, 0);
  p.period = seconds(probe.periodSeconds, kDefaultPeriodSeconds);
  if (p.period.count() == 0) p.period = Duration(kDefaultPeriodSeconds * 1000);
  p.timeout = seconds(probe.timeoutSeconds, kDefaultTimeoutSeconds);
  if (p.timeout.count() == 0) p.timeout = Duration(kDefaultTimeoutSeconds * 1000);
  p.successThreshold =
      kind == ProbeKind::kReadiness ? std::max(probe.successThreshold.value_or(1), 1) : 1;
  p.failureThreshold = std::max(probe.failureThreshold.value_or(kDefaultFailureThreshold), 1);
  return p;
}

ProbeState startProbe(const ProbeParams& params, ProbeKind kind, Time started) {
  ProbeState s;
  s.passing = kind == ProbeKind::kLiveness;
  s.due = started + params.initialDelay;
  return s;
}

void recordProbe(ProbeState& state, const ProbeParams& params, bool success, Time now) {
  if (success) {
    ++state.consecutiveSuccesses;
    state.consecutiveFailures = 0;
    if (state.consecutiveSuccesses >= params.successThreshold) state.passing = true;
  } else {
    ++state.consecutiveFailures;
    state.consecutiveSuccesses = 0;
    if (state.consecutiveFailures >= params.failureThreshold) state.passing = false;
  }
  state.due = now + params.period;
}

Result<ProbeTarget> resolveProbe(const spec::Probe& probe, const spec::Container& container,
                                 const std::vector<int>& assigned) {
  auto resolvePort = [&](const spec::IntOrString& ref) -> Result<int> {
    for (size_t i = 0; i < container.ports.size() && i < assigned.size(); ++i) {
      const auto& p = container.ports[i];
      if (ref.isInt() ? p.containerPort == ref.intValue() : p.name == ref.stringValue()) {
        return assigned[i];
      }
    }
    if (ref.isInt()) {
      // No containerPort declares it: with no ports at all the one assigned port is meant.
      if (container.ports.empty() && !assigned.empty()) return assigned[0];
      return static_cast<int>(ref.intValue());
    }
    return makeError(ErrorCode::kInvalidArgument,
                     "probe port \"" + ref.stringValue() + "\": no containerPort has that name");
  };
  ProbeTarget t;
  if (probe.httpGet) {
    auto port = resolvePort(probe.httpGet->port);
    if (!port) return std::unexpected(port.error());
    std::string host = probe.httpGet->host.empty() ? "127.0.0.1" : probe.httpGet->host;
    std::string scheme = probe.httpGet->scheme == "HTTPS" ? "https" : "http";
    std::string path = probe.httpGet->path.empty() ? "/" : probe.httpGet->path;
    if (path[0] != '/') path = "/" + path;
    t.kind = ProbeTarget::Kind::kHttp;
    t.url = scheme + "://" + host + ":" + std::to_string(*port) + path;
    for (const auto& h : probe.httpGet->httpHeaders) t.headers.emplace_back(h.name, h.value);
    return t;
  }
  if (probe.tcpSocket) {
    auto port = resolvePort(probe.tcpSocket->port);
    if (!port) return std::unexpected(port.error());
    t.kind = ProbeTarget::Kind::kTcp;
    t.host = probe.tcpSocket->host.empty() ? "127.0.0.1" : probe.tcpSocket->host;
    t.port = *port;
    return t;
  }
  if (probe.exec) {
    t.kind = ProbeTarget::Kind::kExec;
    t.command = probe.exec->command;
    return t;
  }
  return makeError(ErrorCode::kInvalidArgument, "probe has no httpGet, tcpSocket or exec");
}

Duration restartDelay(int32_t crashes, const BackoffPolicy& policy) {
  if (crashes <= 0) return Duration(0);
  Duration d = policy.base;
  for (int32_t i = 1; i < crashes && d < policy.cap; ++i) d *= 2;
  return std::min(d, policy.cap);
}

bool isCrashLooping(int32_t consecutiveCrashes, bool ready) {
  return consecutiveCrashes >= 2 && !ready;
}

std::vector<int32_t> pickScaleDown(const std::vector<ScaleDownCandidate>& replicas, int32_t keep) {
  if (keep < 0) keep = 0;
  if (static_cast<int32_t>(replicas.size()) <= keep) return {};
  auto order = replicas;
  // Not ready first, then newest (highest index) first.
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    if (a.ready != b.ready) return !a.ready;
    return a.index > b.index;
  });
  std::vector<int32_t> out;
  size_t stop = replicas.size() - static_cast<size_t>(keep);
  for (size_t i = 0; i < stop; ++i) out.push_back(order[i].index);
  return out;
}

int32_t lowestFreeIndex(const std::vector<int32_t>& used) {
  std::set<int32_t> s(used.begin(), used.end());
  int32_t i = 0;
  while (s.contains(i)) ++i;
  return i;
}

std::optional<ProcStat> parseProcStat(std::string_view text) {
  auto close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(close + 1);
  ProcStat st;
  int fieldNo = 3;
  size_t i = 0;
  bool sawStart = false;
  while (i < rest.size() && fieldNo <= 22) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    size_t j = i;
    while (j < rest.size() && rest[j] != ' ' && rest[j] != '\n') ++j;
    if (j == i) break;
    std::string_view tok = rest.substr(i, j - i);
    if (fieldNo == 3) st.state = tok[0];
    if (fieldNo == 5) {
      long v = 0;
      std::from_chars(tok.data(), tok.data() + tok.size(), v);
      st.pgrp = static_cast<pid_t>(v);
    }
    if (fieldNo == 22) {
      auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), st.startTime);
      if (ec != std::errc() || p != tok.data() + tok.size()) return std::nullopt;
      sawStart = true;
    }
    ++fieldNo;
    i = j;
  }
  if (!sawStart) return std::nullopt;
  return st;
}

std::string prometheusLabelName(const std::string& key) {
  std::string out;
  for (char c : key) {
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_';
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "_" + out;
  return out;
}

std::map<std::string, std::string> replicaLabels(
    const std::string& rolloutKey, const std::string& hash, int64_t revision,
    const std::string& role, const std::string& pod,
    const std::map<std::string, std::string>& templateLabels) {
  std::map<std::string, std::string> labels;
  for (const auto& [k, v] : templateLabels) {
    std::string name = prometheusLabelName(k);
    if (name.starts_with("__")) continue;  // reserved for Prometheus
    labels[name] = v;
  }
  auto slash = rolloutKey.find('/');
  labels["namespace"] = slash == std::string::npos ? "" : rolloutKey.substr(0, slash);
  labels["rollout"] = slash == std::string::npos ? rolloutKey : rolloutKey.substr(slash + 1);
  if (role.empty()) {
    labels.erase("role");
  } else {
    labels["role"] = role;
  }
  labels["rollouts_pod_template_hash"] = hash;
  labels["revision"] = std::to_string(revision);
  labels["pod"] = pod;
  return labels;
}

std::string fileSdJson(std::vector<SdTarget> targets) {
  std::sort(targets.begin(), targets.end(),
            [](const auto& a, const auto& b) { return a.address < b.address; });
  nlohmann::json doc = nlohmann::json::array();
  for (const auto& t : targets) {
    doc.push_back({{"targets", {t.address}}, {"labels", t.labels}});
  }
  return doc.dump(2) + "\n";
}

bool validRole(const std::string& role) {
  return role == "stable" || role == "canary" || role == "preview" || role == "active";
}

std::string exitText(int waitStatus) {
  if (WIFEXITED(waitStatus)) return "exit " + std::to_string(WEXITSTATUS(waitStatus));
  if (WIFSIGNALED(waitStatus)) return "signal " + std::to_string(WTERMSIG(waitStatus));
  return "wait status " + std::to_string(waitStatus);
}

ObservedReplica toObservedReplica(const ReplicaInfo& r) {
  ObservedReplica o;
  o.name = r.name;
  o.podTemplateHash = r.podTemplateHash;
  o.index = r.index;
  bool running = r.pid > 0;
  if (r.terminating) {
    o.state = "Terminating";
  } else if (running) {
    o.state = r.becameReady ? "Running" : "Starting";
  } else {
    o.state = r.crashLooping ? "CrashLoopBackOff" : "Waiting";
  }
  o.ready = r.ready && running && !r.terminating;
  o.restarts = r.restarts;
  o.lastExit = r.lastExit;
  if (!o.ready) o.message = r.lastError;
  if (running) o.startedAt = r.startedAt;
  return o;
}

LogRange logRange(int64_t offset, int64_t maxBytes, int64_t size) {
  size = std::max<int64_t>(0, size);
  int64_t start = offset < 0 ? std::max<int64_t>(0, size + offset) : std::min(offset, size);
  return LogRange{start, std::clamp<int64_t>(size - start, 0, std::max<int64_t>(0, maxBytes))};
}

}  // namespace ramp::platform::process
