#include "platform/sim/sim_driver.h"

#include <sqlite3.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/go_duration.h"
#include "common/sqlite/sqlite.h"
#include "spec/codec.h"

namespace ramp::platform::sim {
namespace {

constexpr std::string_view kName = "platform.sim";

int64_t toMs(Time t) { return t.time_since_epoch().count(); }
Time fromMs(int64_t ms) { return Time(Duration(ms)); }

// Templates held at most this many at a time in decoded form (~2 KB each); the rest are kept
// as JSON text (~200 bytes) and decoded when observed.
constexpr size_t kDecodedTemplateCache = 1024;

// One distinct pod template, shared by every revision whose template has the same JSON, and
// what its annotations tell the simulation (read once).
struct TemplateInfo : std::enable_shared_from_this<TemplateInfo> {
  std::string json;  // canonical JSON (the spec codec's encoding): its identity and its row
  int64_t readyAfterMs = 0;
  bool crashLoop = false;
  bool failEnsure = false;
  // The decoded template while it is in the decode cache; null = decode `json` when needed.
  mutable std::shared_ptr<const spec::PodTemplateSpec> decoded;
};

std::string annotationPath(const char* name) {
  return std::string("template.metadata.annotations[\"") + name + "\"]";
}

Status readAnnotations(const spec::PodTemplateSpec& t, TemplateInfo& info) {
  const auto& a = t.metadata.annotations;
  if (auto it = a.find(kSimReadyAfterAnnotation); it != a.end()) {
    auto d = ramp::parseGoDuration(it->second);
    if (!d) {
      return makeError(ErrorCode::kInvalidArgument, std::string(kName) + ": " +
                                                        annotationPath(kSimReadyAfterAnnotation) +
                                                        ": " + d.error().message);
    }
    if (d->count() < 0) {
      return makeError(ErrorCode::kInvalidArgument,
                       std::string(kName) + ": " + annotationPath(kSimReadyAfterAnnotation) +
                           ": must not be negative, got \"" + it->second + "\"");
    }
    info.readyAfterMs = std::chrono::duration_cast<Duration>(*d).count();
  }
  if (auto it = a.find(kSimCrashLoopAnnotation); it != a.end()) {
    if (it->second != "true" && it->second != "false") {
      return makeError(ErrorCode::kInvalidArgument,
                       std::string(kName) + ": " + annotationPath(kSimCrashLoopAnnotation) +
                           ": must be \"true\" or \"false\", got \"" + it->second + "\"");
    }
    info.crashLoop = it->second == "true";
  }
  if (auto it = a.find(kSimFailAnnotation); it != a.end()) {
    if (it->second != "ensure") {
      return makeError(ErrorCode::kInvalidArgument,
                       std::string(kName) + ": " + annotationPath(kSimFailAnnotation) +
                           ": must be \"ensure\", got \"" + it->second + "\"");
    }
    info.failEnsure = true;
  }
  return {};
}

// The template as compact JSON (the spec codec's encoding of `spec.template`).
std::string templateJson(const spec::PodTemplateSpec& t) {
  spec::Rollout wrapper;
  wrapper.metadata.name = "sim";
  wrapper.spec.template_ = t;
  // The codec's own output always parses; discard=no exceptions, a null on the impossible case.
  nlohmann::json j = nlohmann::json::parse(spec::toJson(wrapper), nullptr, false);
  if (!j.is_object() || !j.contains("spec") || !j["spec"].contains("template")) return "{}";
  return j["spec"]["template"].dump();
}

Result<spec::PodTemplateSpec> parseTemplateJson(const std::string& text) {
  std::string doc = std::string(R"({"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout",)") +
                    R"("metadata":{"name":"sim"},"spec":{"template":)" + text + "}}";
  spec::Decoded<spec::Rollout> d = spec::rolloutFromJson(doc);
  if (!d.value) {
    std::string msg = d.diagnostics.empty() ? "cannot decode" : formatDiagnostic(d.diagnostics[0]);
    return makeError(ErrorCode::kFailedPrecondition, "stored template: " + msg);
  }
  return d.value->spec.template_.value_or(spec::PodTemplateSpec{});
}

// Replica start times as a blob of little-endian int64 milliseconds.
std::string encodeStarts(const std::vector<int64_t>& starts) {
  std::string out(starts.size() * 8, '\0');
  for (size_t i = 0; i < starts.size(); ++i) {
    auto v = static_cast<uint64_t>(starts[i]);
    for (int b = 0; b < 8; ++b) out[i * 8 + b] = static_cast<char>((v >> (8 * b)) & 0xff);
  }
  return out;
}

std::vector<int64_t> decodeStarts(const void* data, int bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::vector<int64_t> out(static_cast<size_t>(bytes) / 8);
  for (size_t i = 0; i < out.size(); ++i) {
    uint64_t v = 0;
    for (int b = 0; b < 8; ++b) v |= static_cast<uint64_t>(p[i * 8 + b]) << (8 * b);
    out[i] = static_cast<int64_t>(v);
  }
  return out;
}

// Appended to a busy error: who holds the file.
constexpr const char* kBusyHint =
    "the simulated world has one owner at a time, and another holds it";

// One revision, kept small: the template is shared between revisions with the same JSON.
struct Revision {
  std::string hash;
  int64_t revision = 0;
  std::shared_ptr<const TemplateInfo> info;
  int32_t minReadySeconds = 0;
  int32_t desired = 0;
  std::optional<int64_t> deadlineMs;
  int64_t createdAtMs = 0;
  std::vector<int64_t> starts;  // one per replica, oldest first
};

// The SQLite file. Every statement is prepared once; callers hold the driver's mutex.
class Db {
 public:
  ~Db() {
    for (sqlite3_stmt* s : {insert_, setRevision_, setScale_, setDeadline_, remove_, selectAll_}) {
      sqlite3_finalize(s);
    }
  }

  Status open(const std::string& path) {
    // One process owns the simulated world at a time (sqlite::kOneOwnerPragmas). A second
    // owner waits a second for the first to exit (a restart after a kill), then is refused.
    if (auto s = conn_.open(path, std::string(kName) + " " + path, Duration(1000), kBusyHint); !s) {
      return s;
    }
    if (auto s = exec(sqlite::kOneOwnerPragmas); !s) return s;
    if (auto s = exec("CREATE TABLE IF NOT EXISTS revisions ("
                      " rollout TEXT NOT NULL, hash TEXT NOT NULL, revision INTEGER NOT NULL,"
                      " template TEXT NOT NULL, min_ready_seconds INTEGER NOT NULL,"
                      " desired INTEGER NOT NULL, scale_down_deadline_ms INTEGER,"
                      " created_at_ms INTEGER NOT NULL, replica_starts BLOB NOT NULL,"
                      " PRIMARY KEY (rollout, hash)) WITHOUT ROWID");
        !s) {
      return s;
    }
    struct P {
      sqlite3_stmt** s;
      const char* sql;
    };
    const P all[] = {
        {&insert_,
         "INSERT OR REPLACE INTO revisions (rollout, hash, revision, template, min_ready_seconds,"
         " desired, scale_down_deadline_ms, created_at_ms, replica_starts)"
         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"},
        {&setRevision_, "UPDATE revisions SET revision=?3 WHERE rollout=?1 AND hash=?2"},
        {&setScale_,
         "UPDATE revisions SET desired=?3, replica_starts=?4 WHERE rollout=?1 AND hash=?2"},
        {&setDeadline_,
         "UPDATE revisions SET scale_down_deadline_ms=?3 WHERE rollout=?1 AND hash=?2"},
        {&remove_, "DELETE FROM revisions WHERE rollout=?1 AND hash=?2"},
        {&selectAll_,
         "SELECT rollout, hash, revision, template, min_ready_seconds, desired,"
         " scale_down_deadline_ms, created_at_ms, replica_starts FROM revisions"},
    };
    for (const P& p : all) {
      int rc = sqlite3_prepare_v3(conn_.get(), p.sql, -1, SQLITE_PREPARE_PERSISTENT, p.s, nullptr);
      if (rc != SQLITE_OK) return error("prepare", rc);
    }
    return {};
  }

  Status insert(const std::string& key, const Revision& r, const std::string& templateText) {
    sqlite3_stmt* s = insert_;
    bindKey(s, key, r.hash);
    sqlite3_bind_int64(s, 3, r.revision);
    sqlite3_bind_text(s, 4, templateText.data(), static_cast<int>(templateText.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, r.minReadySeconds);
    sqlite3_bind_int64(s, 6, r.desired);
    bindDeadline(s, 7, r.deadlineMs);
    sqlite3_bind_int64(s, 8, r.createdAtMs);
    std::string starts = encodeStarts(r.starts);
    sqlite3_bind_blob(s, 9, starts.data(), static_cast<int>(starts.size()), SQLITE_STATIC);
    return run(s, "insert revision");
  }

  Status setRevision(const std::string& key, const std::string& hash, int64_t revision) {
    bindKey(setRevision_, key, hash);
    sqlite3_bind_int64(setRevision_, 3, revision);
    return run(setRevision_, "update revision");
  }

  Status setScale(const std::string& key, const std::string& hash, int32_t desired,
                  const std::vector<int64_t>& starts) {
    bindKey(setScale_, key, hash);
    sqlite3_bind_int64(setScale_, 3, desired);
    std::string blob = encodeStarts(starts);
    sqlite3_bind_blob(setScale_, 4, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
    return run(setScale_, "update replicas");
  }

  Status setDeadline(const std::string& key, const std::string& hash,
                     std::optional<int64_t> deadlineMs) {
    bindKey(setDeadline_, key, hash);
    bindDeadline(setDeadline_, 3, deadlineMs);
    return run(setDeadline_, "update scale-down deadline");
  }

  Status remove(const std::string& key, const std::string& hash) {
    bindKey(remove_, key, hash);
    return run(remove_, "delete revision");
  }

  // Calls fn(rollout, revision, templateText) for every stored row.
  template <class Fn>
  Status forEach(Fn&& fn) {
    sqlite3_stmt* s = selectAll_;
    Status result;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      auto text = [s](int col) {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
        return p ? std::string(p, sqlite3_column_bytes(s, col)) : std::string();
      };
      Revision r;
      std::string key = text(0);
      r.hash = text(1);
      r.revision = sqlite3_column_int64(s, 2);
      std::string templateText = text(3);
      r.minReadySeconds = static_cast<int32_t>(sqlite3_column_int64(s, 4));
      r.desired = static_cast<int32_t>(sqlite3_column_int64(s, 5));
      if (sqlite3_column_type(s, 6) != SQLITE_NULL) r.deadlineMs = sqlite3_column_int64(s, 6);
      r.createdAtMs = sqlite3_column_int64(s, 7);
      r.starts = decodeStarts(sqlite3_column_blob(s, 8), sqlite3_column_bytes(s, 8));
      result = fn(std::move(key), std::move(r), templateText);
      if (!result) break;
    }
    sqlite3_reset(s);
    if (result && rc != SQLITE_DONE && rc != SQLITE_ROW) return error("read revisions", rc);
    return result;
  }

  std::unexpected<Error> error(std::string_view what, int rc) const {
    return conn_.error(what, rc);
  }

 private:
  static void bindKey(sqlite3_stmt* s, const std::string& key, const std::string& hash) {
    sqlite3_bind_text(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_text(s, 2, hash.data(), static_cast<int>(hash.size()), SQLITE_STATIC);
  }
  static void bindDeadline(sqlite3_stmt* s, int i, std::optional<int64_t> ms) {
    if (ms) {
      sqlite3_bind_int64(s, i, *ms);
    } else {
      sqlite3_bind_null(s, i);
    }
  }

  Status exec(const char* sql) { return conn_.exec(sql); }

  Status run(sqlite3_stmt* s, std::string_view what) {
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE) return error(what, rc);
    return {};
  }

  sqlite::Connection conn_;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* setRevision_ = nullptr;
  sqlite3_stmt* setScale_ = nullptr;
  sqlite3_stmt* setDeadline_ = nullptr;
  sqlite3_stmt* remove_ = nullptr;
  sqlite3_stmt* selectAll_ = nullptr;
};

}  // namespace

struct SimDriver::State {
  Clock* clock = nullptr;
  std::unique_ptr<Db> db;  // null = memory only
  mutable std::mutex mu;
  // Template JSON -> its TemplateInfo while a revision uses it. The key views the info's own
  // text; the info's deleter removes the entry. Declared before `rollouts`, which is destroyed
  // first and releases the infos into it.
  std::unordered_map<std::string_view, std::weak_ptr<const TemplateInfo>> templates;
  std::deque<std::weak_ptr<const TemplateInfo>> decodedOrder;  // oldest decoded first
  std::unordered_map<std::string, std::vector<Revision>> rollouts;

  // Returns the shared TemplateInfo for `text`; `parsed` is the decoded template when the
  // caller has it (else the text is decoded). Errors: a bad sim annotation (kInvalidArgument),
  // text that does not decode (kFailedPrecondition).
  Result<std::shared_ptr<const TemplateInfo>> intern(std::string text,
                                                     const spec::PodTemplateSpec* parsed) {
    if (auto it = templates.find(text); it != templates.end()) {
      if (auto existing = it->second.lock()) return existing;
    }
    std::shared_ptr<const spec::PodTemplateSpec> decoded;
    if (parsed != nullptr) {
      decoded = std::make_shared<const spec::PodTemplateSpec>(*parsed);
    } else {
      auto t = parseTemplateJson(text);
      if (!t) return std::unexpected(t.error());
      decoded = std::make_shared<const spec::PodTemplateSpec>(std::move(*t));
    }
    auto* raw = new TemplateInfo();
    raw->json = std::move(text);
    if (auto s = readAnnotations(*decoded, *raw); !s) {
      delete raw;
      return std::unexpected(s.error());
    }
    std::shared_ptr<const TemplateInfo> info(raw, [this](const TemplateInfo* p) {
      templates.erase(std::string_view(p->json));
      delete p;
    });
    templates[std::string_view(info->json)] = info;
    remember(*info, std::move(decoded));
    return info;
  }

  // Puts `decoded` in the decode cache, evicting the oldest entry when it is full.
  void remember(const TemplateInfo& info, std::shared_ptr<const spec::PodTemplateSpec> decoded) {
    info.decoded = std::move(decoded);
    decodedOrder.push_back(info.weak_from_this());
    while (decodedOrder.size() > kDecodedTemplateCache) {
      if (auto old = decodedOrder.front().lock()) old->decoded.reset();
      decodedOrder.pop_front();
    }
  }

  // The decoded template of `info` (from the cache, or decoded now and cached).
  Result<std::shared_ptr<const spec::PodTemplateSpec>> templateOf(const TemplateInfo& info) {
    if (info.decoded) return info.decoded;
    auto t = parseTemplateJson(info.json);
    if (!t) {
      return makeError(ErrorCode::kInternal, std::string(kName) + ": " + t.error().message);
    }
    auto decoded = std::make_shared<const spec::PodTemplateSpec>(std::move(*t));
    remember(info, decoded);
    return decoded;
  }

  Revision* find(const std::string& key, const std::string& hash) {
    auto it = rollouts.find(key);
    if (it == rollouts.end()) return nullptr;
    for (Revision& r : it->second) {
      if (r.hash == hash) return &r;
    }
    return nullptr;
  }

  std::unexpected<Error> notFound(const std::string& key, const std::string& hash) const {
    return makeError(ErrorCode::kNotFound,
                     std::string(kName) + ": rollout " + key + " has no revision " + hash);
  }
};

SimDriver::SimDriver(std::unique_ptr<State> state) : state_(std::move(state)) {}
SimDriver::~SimDriver() = default;

Result<std::unique_ptr<SimDriver>> SimDriver::open(Clock& clock, const std::string& dataDir) {
  auto state = std::make_unique<State>();
  state->clock = &clock;
  if (!dataDir.empty()) {
    std::filesystem::path dir = std::filesystem::path(dataDir) / std::string(kName);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return makeError(ErrorCode::kUnavailable, std::string(kName) + ": cannot create " +
                                                    dir.string() + ": " + ec.message());
    }
    auto db = std::make_unique<Db>();
    std::string path = (dir / "sim.db").string();
    if (auto s = db->open(path); !s) return std::unexpected(s.error());
    Status loaded =
        db->forEach([&](std::string key, Revision r, const std::string& text) -> Status {
          auto info = state->intern(text, nullptr);
          if (!info) {
            return makeError(ErrorCode::kFailedPrecondition,
                             std::string(kName) + " " + path + ": rollout " + key + " revision " +
                                 r.hash + ": " + info.error().message);
          }
          r.info = std::move(*info);
          state->rollouts[key].push_back(std::move(r));
          return {};
        });
    if (!loaded) return std::unexpected(loaded.error());
    state->db = std::move(db);
  }
  return std::unique_ptr<SimDriver>(new SimDriver(std::move(state)));
}

size_t SimDriver::rolloutCount() const {
  std::lock_guard lock(state_->mu);
  return state_->rollouts.size();
}

Result<ObservedWorkload> SimDriver::observe(const std::string& rolloutKey) {
  ObservedWorkload out;
  std::lock_guard lock(state_->mu);
  auto it = state_->rollouts.find(rolloutKey);
  if (it == state_->rollouts.end()) return out;
  const int64_t now = toMs(state_->clock->now());
  out.revisions.reserve(it->second.size());
  for (const Revision& r : it->second) {
    ObservedRevision& o = out.revisions.emplace_back();
    o.podTemplateHash = r.hash;
    o.revision = r.revision;
    auto t = state_->templateOf(*r.info);
    if (!t) return std::unexpected(t.error());
    o.template_ = **t;
    o.createdAt = fromMs(r.createdAtMs);
    o.desiredReplicas = r.desired;
    o.currentReplicas = static_cast<int32_t>(r.starts.size());
    const int64_t minReadyMs = int64_t{r.minReadySeconds} * 1000;
    o.endpoints.reserve(r.starts.size());
    o.replicaStartedAt.reserve(r.starts.size());
    for (size_t i = 0; i < r.starts.size(); ++i) {
      o.replicaStartedAt.push_back(fromMs(r.starts[i]));
      const int64_t readyAt = r.starts[i] + r.info->readyAfterMs;
      const bool ready = !r.info->crashLoop && now >= readyAt;
      if (ready) ++o.readyReplicas;
      if (ready && now >= readyAt + minReadyMs) ++o.availableReplicas;
      o.endpoints.push_back({r.hash + "-" + std::to_string(i), "127.0.0.1", 0, ready});
    }
    if (r.info->crashLoop) o.crashLoopingReplicas = o.currentReplicas;
    if (r.deadlineMs) o.scaleDownDeadline = fromMs(*r.deadlineMs);
  }
  return out;
}

Status SimDriver::ensureRevision(const std::string& rolloutKey, const RevisionSpec& wanted) {
  const std::string& hash = wanted.hash;
  const int64_t revision = wanted.revision;
  const spec::PodTemplateSpec& template_ = wanted.template_;
  const int32_t minReadySeconds = wanted.minReadySeconds;
  if (hash.empty()) {
    return makeError(ErrorCode::kInvalidArgument, std::string(kName) + ": empty pod template hash");
  }
  if (minReadySeconds < 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     std::string(kName) + ": minReadySeconds must not be negative");
  }
  // The fault annotation fails every call, also for a revision that exists.
  if (auto it = template_.metadata.annotations.find(kSimFailAnnotation);
      it != template_.metadata.annotations.end() && it->second == "ensure") {
    return makeError(ErrorCode::kUnavailable, std::string(kName) + ": ensureRevision of " +
                                                  rolloutKey + " revision " + hash + " failed (" +
                                                  kSimFailAnnotation + ": \"ensure\")");
  }
  std::lock_guard lock(state_->mu);
  if (Revision* existing = state_->find(rolloutKey, hash)) {
    if (existing->revision == revision) return {};
    if (state_->db) {
      if (auto s = state_->db->setRevision(rolloutKey, hash, revision); !s) return s;
    }
    existing->revision = revision;
    return {};
  }
  std::string text = templateJson(template_);
  auto info = state_->intern(text, &template_);
  if (!info) return std::unexpected(info.error());
  Revision r;
  r.hash = hash;
  r.revision = revision;
  r.info = std::move(*info);
  r.minReadySeconds = minReadySeconds;
  r.createdAtMs = toMs(state_->clock->now());
  if (state_->db) {
    if (auto s = state_->db->insert(rolloutKey, r, text); !s) return s;
  }
  state_->rollouts[rolloutKey].push_back(std::move(r));
  return {};
}

Status SimDriver::scale(const std::string& rolloutKey, const std::string& hash, int32_t replicas,
                        int32_t /*rolloutReplicas*/) {
  if (replicas < 0) {
    return makeError(
        ErrorCode::kInvalidArgument,
        std::string(kName) + ": replicas must not be negative, got " + std::to_string(replicas));
  }
  std::lock_guard lock(state_->mu);
  Revision* r = state_->find(rolloutKey, hash);
  if (r == nullptr) return state_->notFound(rolloutKey, hash);
  if (r->desired == replicas && r->starts.size() == static_cast<size_t>(replicas)) return {};
  std::vector<int64_t> starts = r->starts;
  if (starts.size() > static_cast<size_t>(replicas)) {
    starts.resize(static_cast<size_t>(replicas));  // the newest go first
  } else {
    starts.resize(static_cast<size_t>(replicas), toMs(state_->clock->now()));
  }
  if (state_->db) {
    if (auto s = state_->db->setScale(rolloutKey, hash, replicas, starts); !s) return s;
  }
  r->desired = replicas;
  r->starts = std::move(starts);
  return {};
}

Status SimDriver::restartReplica(const std::string& rolloutKey, const std::string& hash,
                                 Time startedBefore) {
  std::lock_guard lock(state_->mu);
  Revision* r = state_->find(rolloutKey, hash);
  if (r == nullptr) return state_->notFound(rolloutKey, hash);
  const int64_t before = toMs(startedBefore);
  auto oldest = std::min_element(r->starts.begin(), r->starts.end());
  if (oldest == r->starts.end() || *oldest >= before) return {};
  // Starts stay oldest first: the replacement, started now, goes last.
  std::vector<int64_t> starts = r->starts;
  starts.erase(starts.begin() + (oldest - r->starts.begin()));
  starts.push_back(std::max(toMs(state_->clock->now()), starts.empty() ? 0 : starts.back()));
  if (state_->db) {
    if (auto s = state_->db->setScale(rolloutKey, hash, r->desired, starts); !s) return s;
  }
  r->starts = std::move(starts);
  return {};
}

Status SimDriver::setScaleDownDeadline(const std::string& rolloutKey, const std::string& hash,
                                       std::optional<Time> deadline) {
  std::lock_guard lock(state_->mu);
  Revision* r = state_->find(rolloutKey, hash);
  if (r == nullptr) return state_->notFound(rolloutKey, hash);
  std::optional<int64_t> ms;
  if (deadline) ms = toMs(*deadline);
  if (r->deadlineMs == ms) return {};
  if (state_->db) {
    if (auto s = state_->db->setDeadline(rolloutKey, hash, ms); !s) return s;
  }
  r->deadlineMs = ms;
  return {};
}

Status SimDriver::retire(const std::string& rolloutKey, const std::string& hash) {
  std::lock_guard lock(state_->mu);
  auto it = state_->rollouts.find(rolloutKey);
  if (it == state_->rollouts.end()) return {};
  auto& revisions = it->second;
  auto rev = std::find_if(revisions.begin(), revisions.end(),
                          [&](const Revision& r) { return r.hash == hash; });
  if (rev == revisions.end()) return {};
  if (!rev->starts.empty()) {
    return makeError(ErrorCode::kFailedPrecondition,
                     std::string(kName) + ": cannot retire revision " + hash + " of " + rolloutKey +
                         ": " + std::to_string(rev->starts.size()) + " replicas still run");
  }
  if (state_->db) {
    if (auto s = state_->db->remove(rolloutKey, hash); !s) return s;
  }
  revisions.erase(rev);
  if (revisions.empty()) state_->rollouts.erase(it);
  return {};
}

Result<std::unique_ptr<WorkloadDriver>> makeSimDriver(const ExtensionContext& context) {
  if (context.clock == nullptr) {
    return makeError(ErrorCode::kInvalidArgument, std::string(kName) + ": no clock");
  }
  auto driver = SimDriver::open(*context.clock, context.dataDir);
  if (!driver) return std::unexpected(driver.error());
  return std::unique_ptr<WorkloadDriver>(std::move(*driver));
}

}  // namespace ramp::platform::sim
