#include "traffic/haproxy/haproxy_router.h"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/file_io.h"
#include "traffic/haproxy/weight_math.h"

namespace ramp::traffic::haproxy {
namespace {

std::string sanitize(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  }
  return out;
}

bool isIpLiteral(const std::string& s) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string hostPort(const std::string& address, int port) {
  if (address.find(':') != std::string::npos) return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

bool isOut(const ServerState& s) { return (s.adminState & kAdminForcedMaint) != 0; }
bool isIn(const ServerState& s) {
  return (s.adminState & (kAdminMaintMask | kAdminDrainMask)) == 0;
}

// Success texts of the commands the router sends; anything else is HAProxy's error message.
bool replyOk(std::string_view line, std::string_view reply) {
  if (line.starts_with("add server ")) return reply.starts_with("New server registered.");
  if (line.starts_with("del server ")) return reply.starts_with("Server deleted.");
  if (line.find(" addr ") != std::string_view::npos) {
    return reply.starts_with("no need to change") || reply.find("changed from") != reply.npos;
  }
  return reply.empty();
}

}  // namespace

std::string serverName(std::string_view prefix, std::string_view podTemplateHash,
                       std::string_view endpointName) {
  if (!podTemplateHash.empty() && endpointName.find(podTemplateHash) != std::string_view::npos) {
    return std::string(prefix) + sanitize(endpointName);
  }
  return std::string(prefix) + sanitize(podTemplateHash) + "-" + sanitize(endpointName);
}

namespace {

// The DesiredServer of each endpoint of `rev` (weight 0), checking addresses and names.
Status addServers(const HaproxyConfig& config, const RevisionEndpoints& rev, bool isCanary,
                  std::set<std::string>& names, std::vector<DesiredServer>& out) {
  for (const auto& e : rev.endpoints) {
    const bool addressOk =
        !e.address.empty() && e.address.find_first_of(" \t\r\n;#") == std::string::npos;
    if (!addressOk || e.port <= 0 || e.port > 65535) {
      return makeError(ErrorCode::kInvalidArgument,
                       "endpoint \"" + e.name + "\" has an unusable address or port");
    }
    DesiredServer s{serverName(config.serverPrefix, rev.podTemplateHash, e.name),
                    e.address,
                    e.port,
                    e.ready,
                    isCanary,
                    0};
    if (!names.insert(s.name).second) {
      return makeError(ErrorCode::kInvalidArgument,
                       "two endpoints map to HAProxy server \"" + s.name + "\"");
    }
    out.push_back(std::move(s));
  }
  return {};
}

int readyCount(const std::vector<DesiredServer>& servers, bool canary) {
  return static_cast<int>(std::count_if(servers.begin(), servers.end(), [&](const auto& s) {
    return s.ready && s.canary == canary;
  }));
}

}  // namespace

Result<ServerPlan> planServers(const HaproxyConfig& config, const RevisionEndpoints& stable,
                               const RevisionEndpoints& canary,
                               std::span<const RevisionEndpoints> draining, int32_t canaryWeight,
                               int32_t maxTrafficWeight) {
  const bool sameRevision = canary.podTemplateHash == stable.podTemplateHash;
  ServerPlan plan;
  std::set<std::string> names;
  if (auto st = addServers(config, stable, false, names, plan.servers); !st) {
    return std::unexpected(st.error());
  }
  if (!sameRevision) {
    if (auto st = addServers(config, canary, true, names, plan.servers); !st) {
      return std::unexpected(st.error());
    }
  }
  const int readyStable = readyCount(plan.servers, false);
  const int readyCanary = readyCount(plan.servers, true);
  auto split = computeSplit(readyStable, readyCanary, sameRevision ? 0 : canaryWeight,
                            maxTrafficWeight, config.maxServerWeight);
  if (!split) return std::unexpected(split.error());
  plan.satisfied = split->satisfied;
  auto stableWeights = spreadWeight(split->stable, readyStable);
  auto canaryWeights = spreadWeight(split->canary, readyCanary);
  size_t si = 0, ci = 0;
  for (auto& s : plan.servers) {
    if (!s.ready) continue;
    s.weight = s.canary ? canaryWeights[ci++] : stableWeights[si++];
  }
  for (const auto& rev : draining) {
    if (rev.podTemplateHash == stable.podTemplateHash ||
        rev.podTemplateHash == canary.podTemplateHash) {
      continue;
    }
    if (auto st = addServers(config, rev, false, names, plan.servers); !st) {
      return std::unexpected(st.error());
    }
  }
  return plan;
}

Result<std::vector<DesiredServer>> planPreviewServers(const HaproxyConfig& config,
                                                      const RevisionEndpoints& stable,
                                                      const RevisionEndpoints& canary) {
  const RevisionEndpoints& preview = canary.podTemplateHash.empty() ? stable : canary;
  std::vector<DesiredServer> out;
  std::set<std::string> names;
  if (auto st = addServers(config, preview, true, names, out); !st) {
    return std::unexpected(st.error());
  }
  for (auto& s : out) s.weight = s.ready ? config.maxServerWeight : 0;
  return out;
}

bool silentOnSuccess(std::string_view line) {
  if (line.starts_with("set weight ")) return true;
  return line.starts_with("set server ") && line.find(" state ") != std::string_view::npos;
}

namespace {

// The commands of one backend, by stage.
struct StagedCommands {
  std::vector<RuntimeCommand> adds, grows, shrinks, removes;
};

void planBackend(std::string_view backend, std::string_view prefix,
                 const std::vector<ServerState>& actual, const std::vector<DesiredServer>& desired,
                 StagedCommands& staged) {
  auto& [adds, grows, shrinks, removes] = staged;
  const std::string be(backend);
  std::map<std::string, const ServerState*> byName;
  for (const auto& s : actual) byName[s.name] = &s;
  std::set<std::string> wanted;
  for (const auto& d : desired) {
    wanted.insert(d.name);
    const std::string srv = be + "/" + d.name;
    auto it = byName.find(d.name);
    if (it == byName.end()) {
      adds.push_back({"add server " + srv + " " + hostPort(d.address, d.port) + " weight " +
                      std::to_string(d.weight)});
      if (d.ready) adds.push_back({"set server " + srv + " state ready"});
      continue;
    }
    const ServerState& a = *it->second;
    if (a.port != d.port || (isIpLiteral(d.address) && a.address != d.address)) {
      grows.push_back(
          {"set server " + srv + " addr " + d.address + " port " + std::to_string(d.port)});
    }
    if (a.userWeight != d.weight) {
      (d.weight > a.userWeight ? grows : shrinks)
          .push_back({"set weight " + srv + " " + std::to_string(d.weight)});
    }
    if (d.ready && !isIn(a)) grows.push_back({"set server " + srv + " state ready"});
    if (!d.ready && !isOut(a)) shrinks.push_back({"set server " + srv + " state maint"});
  }
  for (const auto& a : actual) {
    if (!a.name.starts_with(prefix) || wanted.contains(a.name)) continue;
    const std::string srv = be + "/" + a.name;
    if (!isOut(a)) removes.push_back({"set server " + srv + " state maint"});
    removes.push_back({"del server " + srv, false});
  }
}

}  // namespace

std::vector<RuntimeCommand> planCommands(std::string_view backend, std::string_view prefix,
                                         const std::vector<ServerState>& actual,
                                         const std::vector<DesiredServer>& desired) {
  const BackendChange one{std::string(backend), actual, desired};
  return planCommands(std::span<const BackendChange>(&one, 1), prefix);
}

std::vector<RuntimeCommand> planCommands(std::span<const BackendChange> backends,
                                         std::string_view prefix) {
  StagedCommands staged;
  for (const auto& b : backends) planBackend(b.backend, prefix, b.actual, b.desired, staged);
  std::vector<RuntimeCommand> out;
  for (auto* group : {&staged.adds, &staged.grows, &staged.shrinks, &staged.removes}) {
    out.insert(out.end(), group->begin(), group->end());
  }
  return out;
}

std::vector<std::vector<RuntimeCommand>> batchCommands(
    const std::vector<RuntimeCommand>& commands) {
  std::vector<std::vector<RuntimeCommand>> lines;
  bool open = false;  // the last line is a batch of silent commands that may grow
  size_t length = 0;  // of the last line, joined with "; "
  for (const auto& c : commands) {
    const bool silent = silentOnSuccess(c.line);
    if (silent && open && length + 2 + c.line.size() <= kMaxBatchLine) {
      lines.back().push_back(c);
      length += 2 + c.line.size();
      continue;
    }
    lines.push_back({c});
    open = silent;
    length = c.line.size();
  }
  return lines;
}

std::vector<std::string> diffServers(std::string_view prefix,
                                     const std::vector<ServerState>& actual,
                                     const std::vector<DesiredServer>& desired) {
  std::map<std::string, const ServerState*> byName;
  for (const auto& s : actual) byName[s.name] = &s;
  std::vector<std::string> diffs;
  std::set<std::string> wanted;
  for (const auto& d : desired) {
    wanted.insert(d.name);
    auto it = byName.find(d.name);
    if (it == byName.end()) {
      diffs.push_back("server " + d.name + " is missing");
      continue;
    }
    const ServerState& a = *it->second;
    if (a.port != d.port || (isIpLiteral(d.address) && a.address != d.address)) {
      diffs.push_back("server " + d.name + " points at " + hostPort(a.address, a.port) + ", want " +
                      hostPort(d.address, d.port));
    }
    if (d.ready && !isIn(a)) diffs.push_back("server " + d.name + " is not in rotation");
    if (!d.ready && !isOut(a)) diffs.push_back("server " + d.name + " should be in maintenance");
    if (d.ready && a.userWeight != d.weight) {
      diffs.push_back("server " + d.name + " has weight " + std::to_string(a.userWeight) +
                      ", want " + std::to_string(d.weight));
    }
  }
  for (const auto& a : actual) {
    if (a.name.starts_with(prefix) && !wanted.contains(a.name) && !isOut(a)) {
      diffs.push_back("server " + a.name + " belongs to no current replica but takes traffic");
    }
  }
  return diffs;
}

Result<std::unique_ptr<HaproxyRouter>> HaproxyRouter::create(std::string_view configJson,
                                                             int32_t maxTrafficWeight,
                                                             Clock& clock) {
  auto config = parseHaproxyConfig(configJson);
  if (!config) return std::unexpected(config.error());
  if (maxTrafficWeight <= 0) {
    return makeError(ErrorCode::kInvalidArgument, "maxTrafficWeight must be positive");
  }
  return std::make_unique<HaproxyRouter>(std::move(*config), maxTrafficWeight, clock);
}

HaproxyRouter::HaproxyRouter(HaproxyConfig config, int32_t maxTrafficWeight, Clock& clock)
    : config_(std::move(config)),
      maxTrafficWeight_(maxTrafficWeight),
      client_(*parseRuntimeApiAddress(config_.runtimeApi), Duration(config_.timeoutMs), clock) {}

Result<std::vector<ServerState>> HaproxyRouter::readServers(RuntimeApiClient::Session& session,
                                                            const std::string& backend) {
  auto reply = session.call("show servers state " + backend);
  if (!reply) return std::unexpected(reply.error());
  auto servers = parseServersState(*reply);
  if (!servers) {
    return makeError(servers.error().code == ErrorCode::kNotFound ? ErrorCode::kFailedPrecondition
                                                                  : servers.error().code,
                     "ramp/haproxy: backend \"" + backend + "\" on " +
                         client_.address().describe() + ": " + servers.error().message);
  }
  return servers;
}

namespace {

void renderSection(std::string& out, const std::string& backend,
                   const std::vector<DesiredServer>& servers) {
  out += "backend " + backend + "\n";
  for (const auto& s : servers) {
    out += "    server " + s.name + " " + hostPort(s.address, s.port) + " weight " +
           std::to_string(s.ready ? s.weight : 0) + (s.ready ? "" : " disabled") + "\n";
  }
}

}  // namespace

std::string renderBackendFile(const HaproxyConfig& config,
                              const std::vector<DesiredServer>& servers,
                              const std::vector<DesiredServer>& previewServers) {
  std::string out =
      "# Managed by ramp (ramp/haproxy); do not edit. The servers and weights ramp applied last,\n"
      "# so that HAProxy starts with them (load this file with a second -f).\n";
  renderSection(out, config.backend, servers);
  if (!config.previewBackend.empty()) renderSection(out, config.previewBackend, previewServers);
  return out;
}

Status HaproxyRouter::persist(const Desired& desired) {
  if (config_.backendFile.empty()) return {};
  const std::string text = renderBackendFile(config_, desired.main.servers, desired.preview);
  auto current = readFileIfExists(config_.backendFile);
  if (current && current->has_value() && **current == text) return {};
  if (auto st = writeFileAtomically(config_.backendFile, text); !st) {
    return makeError(st.error().code, "ramp/haproxy: backendFile: " + st.error().message);
  }
  return {};
}

Result<HaproxyRouter::Desired> HaproxyRouter::plan(int32_t weight) const {
  if (!stable_) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "ramp/haproxy: syncEndpoints has not been called yet");
  }
  Desired desired;
  auto main = planServers(config_, *stable_, *canary_, draining_, weight, maxTrafficWeight_);
  if (!main) {
    return makeError(main.error().code, "ramp/haproxy: backend \"" + config_.backend +
                                            "\": " + main.error().message +
                                            "; leaving the backend unchanged");
  }
  desired.main = std::move(*main);
  if (!config_.previewBackend.empty()) {
    auto preview = planPreviewServers(config_, *stable_, *canary_);
    if (!preview) {
      return makeError(preview.error().code, "ramp/haproxy: backend \"" + config_.previewBackend +
                                                 "\": " + preview.error().message +
                                                 "; leaving the backends unchanged");
    }
    desired.preview = std::move(*preview);
  }
  return desired;
}

Status HaproxyRouter::converge(int32_t weight) {
  auto desired = plan(weight);
  if (!desired) return std::unexpected(desired.error());
  if (auto st = applyServers(*desired); !st) return st;
  return persist(*desired);
}

Status HaproxyRouter::applyServers(const Desired& desired) {
  auto session = client_.open();
  if (!session) {
    return makeError(session.error().code, "ramp/haproxy: " + session.error().message);
  }
  std::vector<BackendChange> changes;
  changes.push_back({config_.backend, {}, desired.main.servers});
  if (!config_.previewBackend.empty())
    changes.push_back({config_.previewBackend, {}, desired.preview});
  for (auto& change : changes) {
    auto actual = readServers(*session, change.backend);
    if (!actual) return std::unexpected(actual.error());
    change.actual = std::move(*actual);
  }
  for (const auto& line : batchCommands(planCommands(changes, config_.serverPrefix))) {
    std::vector<std::string> texts;
    for (const auto& cmd : line) texts.push_back(cmd.line);
    Result<std::vector<std::string>> replies = std::vector<std::string>{};
    if (line.size() == 1) {
      auto reply = session->call(texts.front());
      if (reply) {
        replies->push_back(std::move(*reply));
      } else {
        replies = std::unexpected(reply.error());
      }
    } else {
      replies = session->callBatch(texts);
    }
    const std::string shown = texts.size() == 1
                                  ? texts.front()
                                  : "batch of " + std::to_string(texts.size()) + " commands";
    if (!replies) {
      return makeError(replies.error().code,
                       "ramp/haproxy: \"" + shown + "\": " + replies.error().message);
    }
    for (size_t i = 0; i < line.size(); ++i) {
      if (!replyOk(line[i].line, (*replies)[i]) && line[i].fatal) {
        return makeError(ErrorCode::kFailedPrecondition,
                         "ramp/haproxy: " + client_.address().describe() + " rejected \"" +
                             line[i].line + "\": " + (*replies)[i]);
      }
    }
  }
  return {};
}

Status HaproxyRouter::syncEndpoints(const RevisionEndpoints& stable,
                                    const RevisionEndpoints& canary,
                                    std::span<const RevisionEndpoints> draining) {
  auto previousStable = stable_;
  auto previousCanary = canary_;
  auto previousDraining = draining_;
  stable_ = stable;
  canary_ = canary;
  draining_.assign(draining.begin(), draining.end());
  auto st = converge(weight_.value_or(0));
  if (!st && st.error().code == ErrorCode::kInvalidArgument) {
    stable_ = std::move(previousStable);
    canary_ = std::move(previousCanary);
    draining_ = std::move(previousDraining);
  }
  return st;
}

Status HaproxyRouter::setWeight(int32_t canaryWeight,
                                std::span<const WeightDestination> additional) {
  if (!additional.empty()) {
    return makeError(ErrorCode::kUnsupported,
                     "ramp/haproxy: additional weighted destinations (experiments) are not "
                     "supported");
  }
  if (canaryWeight < 0 || canaryWeight > maxTrafficWeight_) {
    return makeError(ErrorCode::kInvalidArgument,
                     "ramp/haproxy: canary weight " + std::to_string(canaryWeight) +
                         " is outside [0, " + std::to_string(maxTrafficWeight_) + "]");
  }
  auto st = converge(canaryWeight);
  if (st) weight_ = canaryWeight;
  return st;
}

Result<WeightCheck> HaproxyRouter::verifyWeight(int32_t canaryWeight,
                                                std::span<const WeightDestination> additional) {
  if (!additional.empty()) return WeightCheck::kUnsupported;
  if (!stable_) return WeightCheck::kNotYet;
  auto desired = plan(canaryWeight);
  if (!desired) return WeightCheck::kNotYet;
  auto session = client_.open();
  if (!session) {
    return makeError(session.error().code, "ramp/haproxy: " + session.error().message);
  }
  auto actual = readServers(*session, config_.backend);
  if (!actual) return std::unexpected(actual.error());
  if (!desired->main.satisfied) return WeightCheck::kNotYet;
  if (!diffServers(config_.serverPrefix, *actual, desired->main.servers).empty()) {
    return WeightCheck::kNotYet;
  }
  if (config_.previewBackend.empty()) return WeightCheck::kVerified;
  auto preview = readServers(*session, config_.previewBackend);
  if (!preview) return std::unexpected(preview.error());
  return diffServers(config_.serverPrefix, *preview, desired->preview).empty()
             ? WeightCheck::kVerified
             : WeightCheck::kNotYet;
}

Status HaproxyRouter::setHeaderRoute(const HeaderRoute& route) {
  return makeError(ErrorCode::kUnsupported,
                   "ramp/haproxy: setHeaderRoute is not supported: HAProxy cannot add ACLs at "
                   "run time (route \"" +
                       route.name + "\")");
}

Status HaproxyRouter::setMirrorRoute(const MirrorRoute& route) {
  return makeError(ErrorCode::kUnsupported,
                   "ramp/haproxy: setMirrorRoute is not supported: HAProxy has no request "
                   "mirroring in its runtime API (route \"" +
                       route.name + "\")");
}

Status HaproxyRouter::removeManagedRoutes() { return {}; }

Status HaproxyRouter::removeAll() {
  if (auto st = persist({}); !st) return st;
  if (auto st = applyServers({}); !st) return st;
  stable_.reset();
  canary_.reset();
  draining_.clear();
  weight_.reset();
  return {};
}

}  // namespace ramp::traffic::haproxy
