#include "traffic/sim/sim_router.h"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/sqlite/sqlite.h"

namespace ramp::traffic::sim {
namespace {

using nlohmann::json;

constexpr std::string_view kName = "traffic.sim";
constexpr std::string_view kConfigPath = "trafficRouting.plugins[\"ramp/sim\"]";

// --- JSON encoding of the recorded state (the SQLite row) ---------------------------------------

json enc(const StringMatch& m) {
  return json{{"exact", m.exact}, {"prefix", m.prefix}, {"regex", m.regex}};
}
StringMatch decMatch(const json& j) {
  return {j.at("exact").get<std::string>(), j.at("prefix").get<std::string>(),
          j.at("regex").get<std::string>()};
}

json enc(const RevisionEndpoints& r) {
  json eps = json::array();
  for (const Endpoint& e : r.endpoints) {
    eps.push_back({{"name", e.name}, {"address", e.address}, {"port", e.port}, {"ready", e.ready}});
  }
  return json{{"hash", r.podTemplateHash}, {"endpoints", std::move(eps)}};
}
RevisionEndpoints decRevision(const json& j) {
  RevisionEndpoints r;
  r.podTemplateHash = j.at("hash").get<std::string>();
  for (const json& e : j.at("endpoints")) {
    r.endpoints.push_back({e.at("name").get<std::string>(), e.at("address").get<std::string>(),
                           e.at("port").get<int>(), e.at("ready").get<bool>()});
  }
  return r;
}

json enc(const SimTrafficState& s) {
  json additional = json::array();
  for (const WeightDestination& d : s.additional) {
    additional.push_back(
        {{"serviceName", d.serviceName}, {"hash", d.podTemplateHash}, {"weight", d.weight}});
  }
  json headers = json::array();
  for (const HeaderRoute& h : s.headerRoutes) {
    json match = json::array();
    for (const HeaderRouteMatch& m : h.match) {
      match.push_back({{"headerName", m.headerName}, {"headerValue", enc(m.headerValue)}});
    }
    headers.push_back({{"name", h.name}, {"match", std::move(match)}});
  }
  json mirrors = json::array();
  for (const MirrorRoute& r : s.mirrorRoutes) {
    json match = json::array();
    for (const MirrorRoute::Match& m : r.match) {
      json hs = json::array();
      for (const auto& [name, value] : m.headers) hs.push_back(json::array({name, enc(value)}));
      match.push_back({{"method", enc(m.method)}, {"path", enc(m.path)}, {"headers", hs}});
    }
    mirrors.push_back({{"name", r.name},
                       {"percentage", r.percentage ? json(*r.percentage) : json(nullptr)},
                       {"match", std::move(match)}});
  }
  return json{{"stable", enc(s.stable)},
              {"canary", enc(s.canary)},
              {"canaryWeight", s.canaryWeight},
              {"additional", std::move(additional)},
              {"headerRoutes", std::move(headers)},
              {"mirrorRoutes", std::move(mirrors)},
              {"weightChanges", s.weightChanges}};
}

// Throws json::exception on a malformed row (the caller reports it).
SimTrafficState decState(const json& j) {
  SimTrafficState s;
  s.stable = decRevision(j.at("stable"));
  s.canary = decRevision(j.at("canary"));
  s.canaryWeight = j.at("canaryWeight").get<int32_t>();
  for (const json& d : j.at("additional")) {
    s.additional.push_back({d.at("serviceName").get<std::string>(), d.at("hash").get<std::string>(),
                            d.at("weight").get<int32_t>()});
  }
  for (const json& h : j.at("headerRoutes")) {
    HeaderRoute route;
    route.name = h.at("name").get<std::string>();
    for (const json& m : h.at("match")) {
      route.match.push_back({m.at("headerName").get<std::string>(), decMatch(m.at("headerValue"))});
    }
    s.headerRoutes.push_back(std::move(route));
  }
  for (const json& r : j.at("mirrorRoutes")) {
    MirrorRoute route;
    route.name = r.at("name").get<std::string>();
    if (!r.at("percentage").is_null()) route.percentage = r.at("percentage").get<int32_t>();
    for (const json& m : r.at("match")) {
      MirrorRoute::Match match;
      match.method = decMatch(m.at("method"));
      match.path = decMatch(m.at("path"));
      for (const json& h : m.at("headers")) {
        match.headers.emplace_back(h.at(0).get<std::string>(), decMatch(h.at(1)));
      }
      route.match.push_back(std::move(match));
    }
    s.mirrorRoutes.push_back(std::move(route));
  }
  s.weightChanges = j.at("weightChanges").get<int64_t>();
  return s;
}

// Appended to a busy error: who holds the file.
constexpr const char* kBusyHint =
    "the simulated world has one owner at a time, and another holds it";

}  // namespace

// The state every router on one data dir shares: one mutex, one SQLite connection.
struct SimRouter::Shared {
  std::string path;  // "" = memory only
  std::mutex mu;
  sqlite::Connection conn;
  sqlite3_stmt* upsert = nullptr;
  std::unordered_map<std::string, SimTrafficState> states;

  ~Shared() { sqlite3_finalize(upsert); }

  std::unexpected<Error> error(std::string_view what, int rc) const { return conn.error(what, rc); }

  Status exec(const char* sql) { return conn.exec(sql); }

  Status open(const std::string& file) {
    path = file;
    // One process owns the simulated world at a time (sqlite::kOneOwnerPragmas). A second
    // owner waits a second for the first to exit (a restart after a kill), then is refused.
    if (auto s = conn.open(file, std::string(kName) + " " + file, Duration(1000), kBusyHint); !s) {
      return s;
    }
    if (auto s = exec(sqlite::kOneOwnerPragmas); !s) return s;
    if (auto s = exec("CREATE TABLE IF NOT EXISTS routes (rollout TEXT PRIMARY KEY,"
                      " state TEXT NOT NULL) WITHOUT ROWID");
        !s) {
      return s;
    }
    int rc = sqlite3_prepare_v3(conn.get(),
                                "INSERT OR REPLACE INTO routes (rollout, state) VALUES (?1, ?2)",
                                -1, SQLITE_PREPARE_PERSISTENT, &upsert, nullptr);
    if (rc != SQLITE_OK) return error("prepare", rc);

    sqlite3_stmt* select = nullptr;
    rc = sqlite3_prepare_v2(conn.get(), "SELECT rollout, state FROM routes", -1, &select, nullptr);
    if (rc != SQLITE_OK) return error("prepare", rc);
    Status result;
    while ((rc = sqlite3_step(select)) == SQLITE_ROW) {
      std::string key(reinterpret_cast<const char*>(sqlite3_column_text(select, 0)),
                      sqlite3_column_bytes(select, 0));
      std::string_view text(reinterpret_cast<const char*>(sqlite3_column_text(select, 1)),
                            sqlite3_column_bytes(select, 1));
      try {
        states[key] = decState(json::parse(text));
      } catch (const json::exception& e) {
        result = makeError(
            ErrorCode::kFailedPrecondition,
            std::string(kName) + " " + path + ": rollout " + key + ": unreadable row: " + e.what());
        break;
      }
    }
    if (result && rc != SQLITE_DONE) result = error("read routes", rc);
    sqlite3_finalize(select);
    return result;
  }

  // Replaces the state of `key` with `next` (written through first). No-op when unchanged.
  Status put(const std::string& key, SimTrafficState next) {
    auto it = states.find(key);
    if (it != states.end() && it->second == next) return {};
    if (conn.get() != nullptr) {
      std::string text;
      try {
        text = enc(next).dump();
      } catch (const json::exception& e) {  // invalid UTF-8 in a name
        return makeError(ErrorCode::kInvalidArgument,
                         std::string(kName) + ": rollout " + key + ": " + e.what());
      }
      sqlite3_bind_text(upsert, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
      sqlite3_bind_text(upsert, 2, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
      int rc = sqlite3_step(upsert);
      sqlite3_reset(upsert);
      sqlite3_clear_bindings(upsert);
      if (rc != SQLITE_DONE) return error("write rollout " + key, rc);
    }
    states[key] = std::move(next);
    return {};
  }

  SimTrafficState get(const std::string& key) const {
    auto it = states.find(key);
    return it == states.end() ? SimTrafficState{} : it->second;
  }
};

namespace {

// dataDir -> the shared state while any router (or reader) holds it.
Result<std::shared_ptr<SimRouter::Shared>> sharedFor(const std::string& dataDir) {
  static std::mutex mu;
  static auto* all = new std::map<std::string, std::weak_ptr<SimRouter::Shared>>();
  // "dir", "dir/" and "./dir" must share one state (two connections would diverge).
  std::string key;
  if (!dataDir.empty()) {
    std::error_code ec;
    std::filesystem::path p = std::filesystem::absolute(dataDir, ec).lexically_normal();
    key = (ec ? std::filesystem::path(dataDir) : p).string();
    while (key.size() > 1 && key.back() == '/') key.pop_back();
  }
  std::lock_guard lock(mu);
  auto& slot = (*all)[key];
  if (auto existing = slot.lock()) return existing;
  auto shared = std::make_shared<SimRouter::Shared>();
  if (!dataDir.empty()) {
    std::filesystem::path dir = std::filesystem::path(dataDir) / std::string(kName);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return makeError(ErrorCode::kUnavailable, std::string(kName) + ": cannot create " +
                                                    dir.string() + ": " + ec.message());
    }
    if (auto s = shared->open((dir / "sim.db").string()); !s) return std::unexpected(s.error());
  }
  slot = shared;
  return shared;
}

Status checkWeights(int32_t canaryWeight, std::span<const WeightDestination> additional,
                    int32_t maxWeight) {
  auto bad = [&](const std::string& what) {
    return makeError(ErrorCode::kInvalidArgument, std::string(kName) + ": " + what +
                                                      " must be within [0, " +
                                                      std::to_string(maxWeight) + "]");
  };
  if (canaryWeight < 0 || canaryWeight > maxWeight) {
    return bad("canary weight " + std::to_string(canaryWeight));
  }
  int64_t total = canaryWeight;
  for (const WeightDestination& d : additional) {
    if (d.weight < 0 || d.weight > maxWeight) {
      return bad("weight " + std::to_string(d.weight) + " of " + d.podTemplateHash);
    }
    total += d.weight;
  }
  if (total > maxWeight) return bad("total weight " + std::to_string(total));
  return {};
}

}  // namespace

SimRouter::SimRouter(std::string rolloutKey, int32_t maxTrafficWeight, bool headerRoutes,
                     std::shared_ptr<Shared> shared)
    : rolloutKey_(std::move(rolloutKey)),
      maxTrafficWeight_(maxTrafficWeight),
      headerRoutes_(headerRoutes),
      shared_(std::move(shared)) {}

SimRouter::~SimRouter() = default;

Result<std::unique_ptr<SimRouter>> SimRouter::create(const std::string& rolloutKey,
                                                     const std::string& configJson,
                                                     int32_t maxTrafficWeight,
                                                     const std::string& dataDir) {
  bool headerRoutes = true;
  json config =
      json::parse(configJson.empty() ? std::string_view("{}") : configJson, nullptr, false);
  if (config.is_discarded() || !config.is_object()) {
    return makeError(ErrorCode::kInvalidArgument,
                     std::string(kConfigPath) + ": must be a JSON object, got: " + configJson);
  }
  for (const auto& [key, value] : config.items()) {
    if (key == "headerRoutes") {
      if (!value.is_boolean()) {
        return makeError(ErrorCode::kInvalidArgument,
                         std::string(kConfigPath) + ".headerRoutes: must be a boolean");
      }
      headerRoutes = value.get<bool>();
    } else {
      return makeError(ErrorCode::kInvalidArgument, std::string(kConfigPath) + "." + key +
                                                        ": unknown field (known: headerRoutes)");
    }
  }
  if (maxTrafficWeight <= 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     std::string(kName) + ": maxTrafficWeight must be positive");
  }
  auto shared = sharedFor(dataDir);
  if (!shared) return std::unexpected(shared.error());
  return std::unique_ptr<SimRouter>(
      new SimRouter(rolloutKey, maxTrafficWeight, headerRoutes, std::move(*shared)));
}

Status SimRouter::syncEndpoints(const RevisionEndpoints& stable, const RevisionEndpoints& canary,
                                std::span<const RevisionEndpoints> /*draining*/) {
  std::lock_guard lock(shared_->mu);
  SimTrafficState next = shared_->get(rolloutKey_);
  if (next.stable == stable && next.canary == canary) return {};  // level-triggered: no write
  next.stable = stable;
  next.canary = canary;
  return shared_->put(rolloutKey_, std::move(next));
}

Status SimRouter::setWeight(int32_t canaryWeight, std::span<const WeightDestination> additional) {
  if (auto s = checkWeights(canaryWeight, additional, maxTrafficWeight_); !s) return s;
  std::lock_guard lock(shared_->mu);
  SimTrafficState next = shared_->get(rolloutKey_);
  std::vector<WeightDestination> extra(additional.begin(), additional.end());
  if (next.canaryWeight == canaryWeight && next.additional == extra) return {};
  next.canaryWeight = canaryWeight;
  next.additional = std::move(extra);
  ++next.weightChanges;
  return shared_->put(rolloutKey_, std::move(next));
}

Result<WeightCheck> SimRouter::verifyWeight(int32_t canaryWeight,
                                            std::span<const WeightDestination> additional) {
  std::lock_guard lock(shared_->mu);
  auto it = shared_->states.find(rolloutKey_);
  if (it == shared_->states.end()) return WeightCheck::kNotYet;
  const SimTrafficState& s = it->second;
  if (s.canaryWeight != canaryWeight) return WeightCheck::kNotYet;
  if (!std::equal(s.additional.begin(), s.additional.end(), additional.begin(), additional.end())) {
    return WeightCheck::kNotYet;
  }
  return WeightCheck::kVerified;
}

Status SimRouter::setHeaderRoute(const HeaderRoute& route) {
  if (!headerRoutes_) {
    return makeError(
        ErrorCode::kUnsupported,
        std::string(kName) + ": header routes are disabled ({\"headerRoutes\": false})");
  }
  std::lock_guard lock(shared_->mu);
  SimTrafficState next = shared_->get(rolloutKey_);
  auto& routes = next.headerRoutes;
  auto it = std::find_if(routes.begin(), routes.end(),
                         [&](const HeaderRoute& r) { return r.name == route.name; });
  if (route.match.empty()) {
    if (it != routes.end()) routes.erase(it);
  } else if (it != routes.end()) {
    *it = route;
  } else {
    routes.push_back(route);
  }
  return shared_->put(rolloutKey_, std::move(next));
}

Status SimRouter::setMirrorRoute(const MirrorRoute& route) {
  if (!headerRoutes_) {
    return makeError(
        ErrorCode::kUnsupported,
        std::string(kName) + ": mirror routes are disabled ({\"headerRoutes\": false})");
  }
  if (route.percentage && (*route.percentage < 0 || *route.percentage > 100)) {
    return makeError(ErrorCode::kInvalidArgument,
                     std::string(kName) + ": mirror route " + route.name + " percentage " +
                         std::to_string(*route.percentage) + " must be within [0, 100]");
  }
  std::lock_guard lock(shared_->mu);
  SimTrafficState next = shared_->get(rolloutKey_);
  auto& routes = next.mirrorRoutes;
  auto it = std::find_if(routes.begin(), routes.end(),
                         [&](const MirrorRoute& r) { return r.name == route.name; });
  if (route.match.empty()) {
    if (it != routes.end()) routes.erase(it);
  } else if (it != routes.end()) {
    *it = route;
  } else {
    routes.push_back(route);
  }
  return shared_->put(rolloutKey_, std::move(next));
}

Status SimRouter::removeManagedRoutes() {
  std::lock_guard lock(shared_->mu);
  SimTrafficState next = shared_->get(rolloutKey_);
  next.headerRoutes.clear();
  next.mirrorRoutes.clear();
  return shared_->put(rolloutKey_, std::move(next));
}

Status SimRouter::removeAll() {
  std::lock_guard lock(shared_->mu);
  SimTrafficState next = shared_->get(rolloutKey_);
  if (next == SimTrafficState{}) return {};
  return shared_->put(rolloutKey_, SimTrafficState{});
}

Result<TrafficRouterPtr> makeSimRouter(const RouterContext& router,
                                       const ExtensionContext& context) {
  auto r = SimRouter::create(router.rolloutKey, router.configJson, router.maxTrafficWeight,
                             context.dataDir);
  if (!r) return std::unexpected(r.error());
  return TrafficRouterPtr(std::move(*r));
}

Result<SimTrafficState> readSimTraffic(const std::string& dataDir, const std::string& rolloutKey) {
  auto shared = sharedFor(dataDir);
  if (!shared) return std::unexpected(shared.error());
  std::lock_guard lock((*shared)->mu);
  auto it = (*shared)->states.find(rolloutKey);
  if (it == (*shared)->states.end()) {
    return makeError(ErrorCode::kNotFound,
                     std::string(kName) + ": nothing recorded for rollout " + rolloutKey);
  }
  return it->second;
}

}  // namespace ramp::traffic::sim
