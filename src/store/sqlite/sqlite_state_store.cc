#include "store/sqlite/sqlite_state_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/sqlite/sqlite.h"
#include "store/common/store_rules.h"

namespace ramp::store {
namespace {

// "RAMP" in ASCII: marks the file as ramp's (PRAGMA application_id).
constexpr int32_t kApplicationId = 0x52414D50;

// The migrations, in order. Migration i brings the schema from version i to i + 1 and runs in
// the same transaction as the schema_version update. Never edit a released migration: append a
// new one (and document it in docs/store.md).
struct Migration {
  int version;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE objects (
  kind      TEXT    NOT NULL,
  namespace TEXT    NOT NULL,
  name      TEXT    NOT NULL,
  json      TEXT    NOT NULL,
  version   INTEGER NOT NULL,
  PRIMARY KEY (kind, namespace, name)
);
CREATE TABLE changes (
  revision  INTEGER PRIMARY KEY,
  type      TEXT    NOT NULL CHECK (type IN ('put', 'delete')),
  kind      TEXT    NOT NULL,
  namespace TEXT    NOT NULL,
  name      TEXT    NOT NULL,
  json      TEXT    NOT NULL
);
CREATE TABLE events (
  id        INTEGER PRIMARY KEY,
  time_ms   INTEGER NOT NULL,
  kind      TEXT    NOT NULL,
  namespace TEXT    NOT NULL,
  name      TEXT    NOT NULL,
  type      TEXT    NOT NULL CHECK (type IN ('Normal', 'Warning')),
  reason    TEXT    NOT NULL,
  message   TEXT    NOT NULL,
  evidence  TEXT    NOT NULL,
  actor     TEXT    NOT NULL
);
CREATE INDEX events_by_object ON events (kind, namespace, name, id);
CREATE TABLE leases (
  name           TEXT    PRIMARY KEY,
  holder         TEXT    NOT NULL,
  acquired_at_ms INTEGER NOT NULL,
  renewed_at_ms  INTEGER NOT NULL,
  expires_at_ms  INTEGER NOT NULL,
  transitions    INTEGER NOT NULL
);
)sql"},
    // Repeated events are counted (docs/store.md, "events"): a repeat is inserted with the
    // previous one's count + 1 and first time, and the previous row is deleted.
    {2, R"sql(
ALTER TABLE events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE events ADD COLUMN first_time_ms INTEGER;
ALTER TABLE events ADD COLUMN replaces INTEGER NOT NULL DEFAULT 0;
)sql"},
    // The audit log (docs/audit.md): records written in the same transaction as their event,
    // never pruned; rows are never updated or deleted (the triggers refuse it: a guard against
    // mistakes, not against someone who can edit the file — `ramp audit verify` catches that).
    {3, R"sql(
CREATE TABLE audit_records (
  leaf_index INTEGER PRIMARY KEY,
  event_id   INTEGER NOT NULL,
  time_ms    INTEGER NOT NULL,
  kind       TEXT    NOT NULL,
  namespace  TEXT    NOT NULL,
  name       TEXT    NOT NULL,
  leaf_hash  TEXT    NOT NULL,
  envelope   TEXT    NOT NULL
);
CREATE INDEX audit_records_by_object ON audit_records (kind, namespace, name, leaf_index);
CREATE TABLE audit_checkpoints (
  tree_size  INTEGER PRIMARY KEY,
  root_hash  TEXT    NOT NULL,
  note       TEXT    NOT NULL,
  time_ms    INTEGER NOT NULL
);
CREATE TRIGGER audit_records_append_only_update BEFORE UPDATE ON audit_records
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_records_append_only_delete BEFORE DELETE ON audit_records
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_checkpoints_append_only_update BEFORE UPDATE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_append_only_delete BEFORE DELETE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
)sql"},
};

static_assert(std::size(kMigrations) == kSqliteSchemaVersion);

// The columns Db::readEvent reads, in its order (a macro: it is pasted into statement literals).
#define EVENT_COLUMNS                                                                   \
  "id, time_ms, kind, namespace, name, type, reason, message, evidence, actor, count, " \
  "first_time_ms, replaces"

using sqlite::Statement;
using sqlite::Use;

int64_t toMs(Time t) { return t.time_since_epoch().count(); }
Time fromMs(int64_t ms) { return Time(Duration(ms)); }

}  // namespace

struct SqliteStateStore::Db {
  std::string path;
  sqlite::Connection connection;
  sqlite3* conn = nullptr;  // connection.get(), once open

  Statement begin, beginImmediate, commit, rollback;
  Statement getObject, getVersion, upsertObject, deleteObject, listKind, listNamespace;
  Statement readState, insertChange, selectChanges, compactChanges;
  Statement insertEventStmt, pruneEvents, listEventsAll, listEventsObject, newestEvent, deleteEvent;
  Statement getLease, upsertLease;
  Statement insertAudit, auditCount, listAuditAll, listAuditObject, lastCheckpoint,
      insertCheckpoint, listCheckpoints;

  std::unexpected<Error> error(std::string_view what, int rc) const {
    return connection.error(what, rc);
  }

  Status exec(const char* sql, std::string_view what) const { return connection.exec(sql, what); }

  // Runs a statement that returns no rows.
  Status run(Use& u, std::string_view what) {
    int rc = u.step();
    if (rc != SQLITE_DONE) return error(what, rc);
    return {};
  }

  Status prepareAll() {
    struct P {
      Statement* s;
      const char* sql;
    };
    const P all[] = {
        {&begin, "BEGIN"},
        {&beginImmediate, "BEGIN IMMEDIATE"},
        {&commit, "COMMIT"},
        {&rollback, "ROLLBACK"},
        {&getObject,
         "SELECT json, version FROM objects WHERE kind=?1 AND namespace=?2 AND name=?3"},
        {&getVersion, "SELECT version FROM objects WHERE kind=?1 AND namespace=?2 AND name=?3"},
        {&upsertObject,
         "INSERT INTO objects (kind, namespace, name, json, version) VALUES (?1, ?2, ?3, ?4, ?5) "
         "ON CONFLICT (kind, namespace, name) DO UPDATE SET json=excluded.json, "
         "version=excluded.version"},
        {&deleteObject, "DELETE FROM objects WHERE kind=?1 AND namespace=?2 AND name=?3"},
        {&listKind,
         "SELECT namespace, name, json, version FROM objects WHERE kind=?1 "
         "ORDER BY namespace, name"},
        {&listNamespace,
         "SELECT namespace, name, json, version FROM objects WHERE kind=?1 AND namespace=?2 "
         "ORDER BY name"},
        // The revision and the compaction point are the ends of the change log, which always
        // keeps the newest change: no separate counter row to write on every commit. (Two
        // subqueries, so each uses SQLite's min/max optimisation.)
        {&readState,
         "SELECT coalesce((SELECT max(revision) FROM changes), 0), "
         "coalesce((SELECT min(revision) FROM changes), 1) - 1"},
        {&insertChange,
         "INSERT INTO changes (revision, type, kind, namespace, name, json) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
        {&selectChanges,
         "SELECT revision, type, kind, namespace, name, json FROM changes WHERE revision > ?1 "
         "ORDER BY revision LIMIT ?2"},
        {&compactChanges, "DELETE FROM changes WHERE revision <= ?1"},
        {&insertEventStmt,
         "INSERT INTO events (time_ms, kind, namespace, name, type, reason, message, evidence, "
         "actor, count, first_time_ms, replaces) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"},
        {&pruneEvents, "DELETE FROM events WHERE id <= ?1"},
        {&listEventsAll, "SELECT " EVENT_COLUMNS " FROM events WHERE id > ?1 ORDER BY id LIMIT ?2"},
        {&listEventsObject,
         "SELECT " EVENT_COLUMNS " FROM events "
         "WHERE kind=?3 AND namespace=?4 AND name=?5 AND id > ?1 ORDER BY id LIMIT ?2"},
        {&newestEvent, "SELECT " EVENT_COLUMNS " FROM events "
                       "WHERE kind=?1 AND namespace=?2 AND name=?3 ORDER BY id DESC LIMIT 1"},
        {&deleteEvent, "DELETE FROM events WHERE id=?1"},
        {&getLease,
         "SELECT holder, acquired_at_ms, renewed_at_ms, expires_at_ms, transitions FROM leases "
         "WHERE name=?1"},
        {&upsertLease,
         "INSERT INTO leases (name, holder, acquired_at_ms, renewed_at_ms, expires_at_ms, "
         "transitions) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO UPDATE SET "
         "holder=excluded.holder, acquired_at_ms=excluded.acquired_at_ms, "
         "renewed_at_ms=excluded.renewed_at_ms, expires_at_ms=excluded.expires_at_ms, "
         "transitions=excluded.transitions"},
        {&insertAudit,
         "INSERT INTO audit_records (leaf_index, event_id, time_ms, kind, namespace, name, "
         "leaf_hash, envelope) VALUES ((SELECT coalesce(max(leaf_index) + 1, 0) FROM "
         "audit_records), ?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
        {&auditCount, "SELECT coalesce(max(leaf_index) + 1, 0) FROM audit_records"},
        {&listAuditAll,
         "SELECT leaf_index, event_id, time_ms, kind, namespace, name, leaf_hash, envelope "
         "FROM audit_records WHERE leaf_index >= ?1 ORDER BY leaf_index LIMIT ?2"},
        {&listAuditObject,
         "SELECT leaf_index, event_id, time_ms, kind, namespace, name, leaf_hash, envelope "
         "FROM audit_records WHERE kind=?3 AND namespace=?4 AND name=?5 AND leaf_index >= ?1 "
         "ORDER BY leaf_index LIMIT ?2"},
        {&lastCheckpoint, "SELECT coalesce(max(tree_size), 0) FROM audit_checkpoints"},
        {&insertCheckpoint,
         "INSERT INTO audit_checkpoints (tree_size, root_hash, note, time_ms) "
         "VALUES (?1, ?2, ?3, ?4)"},
        {&listCheckpoints,
         "SELECT tree_size, root_hash, note, time_ms FROM audit_checkpoints ORDER BY tree_size"},
    };
    for (const P& p : all) {
      if (int rc = p.s->prepare(conn, p.sql); rc != SQLITE_OK) {
        return error(std::string("prepare ") + p.sql, rc);
      }
    }
    return {};
  }

  // Transactions: Tx rolls back unless commit() succeeded.
  class Tx {
   public:
    explicit Tx(Db& db) : db_(db) {}
    ~Tx() {
      if (open_) {
        Use u(db_.rollback);
        u.step();
      }
    }
    Status begin(bool immediate) {
      Use u(immediate ? db_.beginImmediate : db_.begin);
      if (auto s = db_.run(u, "begin transaction"); !s) return s;
      open_ = true;
      return {};
    }
    Status commit() {
      Use u(db_.commit);
      if (auto s = db_.run(u, "commit"); !s) return s;
      open_ = false;
      return {};
    }

   private:
    Db& db_;
    bool open_ = false;
  };

  Result<std::pair<int64_t, int64_t>> readRevisions() {
    Use u(readState);
    if (int rc = u.step(); rc != SQLITE_ROW) return error("read revision", rc);
    return std::pair{u.i64(0), u.i64(1)};
  }

  // The stored object (json, version), nullopt if absent.
  Result<std::optional<std::pair<std::string, int64_t>>> readObject(const ObjectKey& k) {
    Use u(getObject);
    u.bind(1, k.kind).bind(2, k.namespace_).bind(3, k.name);
    int rc = u.step();
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) return error("read " + k.toString(), rc);
    return std::pair{u.text(0), u.i64(1)};
  }

  // The stored object's version only (a put need not read the text it replaces).
  Result<std::optional<int64_t>> readVersion(const ObjectKey& k) {
    Use u(getVersion);
    u.bind(1, k.kind).bind(2, k.namespace_).bind(3, k.name);
    int rc = u.step();
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) return error("read " + k.toString(), rc);
    return u.i64(0);
  }

  // One row of EVENT_COLUMNS. Rows written before schema version 2 have no first time: their
  // time, as a count of 1 means.
  static Event readEvent(Use& u) {
    Event e;
    e.id = u.i64(0);
    e.time = fromMs(u.i64(1));
    e.object = ObjectKey{u.text(2), u.text(3), u.text(4)};
    e.type = u.text(5) == "Warning" ? EventType::kWarning : EventType::kNormal;
    e.reason = u.text(6);
    e.message = u.text(7);
    e.evidence = u.text(8);
    e.actor = u.text(9);
    e.count = u.i64(10);
    e.firstTime = u.isNull(11) ? e.time : fromMs(u.i64(11));
    e.replaces = u.i64(12);
    return e;
  }

  // Inserts one event row (inside the caller's transaction), folding a repeat of the object's
  // newest event into it (store_rules.h, eventToStore: the new row first, so its id is max + 1,
  // then the old row goes), and prunes old ones. Ids only grow (max + 1 of rows that only lose
  // their oldest, or a folded row that a newer one replaced), so "keep the last N" is an id
  // bound; pruning runs every N/16 ids so that not every append pays for a delete.
  Result<int64_t> insertEvent(const Event& event, int64_t retention) {
    std::optional<Event> newest;
    {
      Use u(newestEvent);
      u.bind(1, event.object.kind).bind(2, event.object.namespace_).bind(3, event.object.name);
      const int rc = u.step();
      if (rc == SQLITE_ROW) {
        newest = readEvent(u);
      } else if (rc != SQLITE_DONE) {
        return error("read the newest event", rc);
      }
    }
    const Event stored = eventToStore(newest ? &*newest : nullptr, event);
    {
      Use u(insertEventStmt);
      u.bind(1, toMs(stored.time)).bind(2, stored.object.kind).bind(3, stored.object.namespace_);
      u.bind(4, stored.object.name);
      u.bind(5, std::string_view(stored.type == EventType::kWarning ? "Warning" : "Normal"));
      u.bind(6, stored.reason).bind(7, stored.message).bind(8, stored.evidence);
      u.bind(9, stored.actor).bind(10, stored.count).bind(11, toMs(stored.firstTime));
      u.bind(12, stored.replaces);
      if (auto s = run(u, "append event"); !s) return std::unexpected(s.error());
    }
    const int64_t id = sqlite3_last_insert_rowid(conn);
    if (stored.replaces != 0) {
      Use u(deleteEvent);
      u.bind(1, stored.replaces);
      if (auto s = run(u, "fold a repeated event"); !s) return std::unexpected(s.error());
    }
    if (!event.auditEntry.empty()) {
      Use u(insertAudit);
      u.bind(1, id).bind(2, toMs(event.time)).bind(3, event.object.kind);
      u.bind(4, event.object.namespace_).bind(5, event.object.name);
      u.bind(6, event.auditLeafHash).bind(7, event.auditEntry);
      if (auto s = run(u, "append audit record"); !s) return std::unexpected(s.error());
    }
    const int64_t slack = std::max<int64_t>(1, retention / 16);
    if (id > retention && id % slack == 0) {
      Use u(pruneEvents);
      u.bind(1, id - retention);
      if (auto s = run(u, "prune events"); !s) return std::unexpected(s.error());
    }
    return id;
  }

  Result<int64_t> scalar(Statement& statement, std::string_view what) {
    Use u(statement);
    if (int rc = u.step(); rc != SQLITE_ROW) return error(what, rc);
    return u.i64(0);
  }

  // The audit records' compare-and-swap (store_rules.h); reads the log's size only when a
  // record is written.
  Status checkAuditIndexes(std::span<const Event> events) {
    bool any = false;
    for (const Event& e : events) any = any || !e.auditEntry.empty();
    if (!any) return {};
    auto size = scalar(auditCount, "count audit records");
    if (!size) return std::unexpected(size.error());
    return store::checkAuditIndexes(events, *size);
  }

  Result<std::optional<Lease>> readLease(const std::string& name) {
    Use u(getLease);
    u.bind(1, name);
    int rc = u.step();
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) return error("read lease " + name, rc);
    return Lease{name, u.text(0), fromMs(u.i64(1)), fromMs(u.i64(2)), fromMs(u.i64(3)), u.i64(4)};
  }
};

Result<std::unique_ptr<SqliteStateStore>> SqliteStateStore::open(const std::string& path,
                                                                 SqliteStoreOptions options) {
  if (options.changeLogRetention <= 0 || options.eventRetention <= 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     "sqlite store " + path + ": retention options must be > 0");
  }
  auto db = std::make_unique<Db>();
  db->path = path;
  if (auto s = db->connection.open(path, "sqlite store " + path, options.busyTimeout); !s) {
    return std::unexpected(s.error());
  }
  db->conn = db->connection.get();
  sqlite3_extended_result_codes(db->conn, 1);
  int rc = SQLITE_OK;

  // journal_mode must be set outside a transaction; it also detects a file that is not SQLite.
  {
    sqlite3_stmt* st = nullptr;
    rc = sqlite3_prepare_v2(db->conn, "PRAGMA journal_mode=WAL", -1, &st, nullptr);
    std::string mode;
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(st);
      if (rc == SQLITE_ROW) {
        mode = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        rc = SQLITE_OK;
      }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
      auto e = db->error("set WAL mode (is this a SQLite database?)", rc);
      return e;
    }
    if (mode != "wal") {
      return makeError(ErrorCode::kUnavailable,
                       "sqlite store " + path + ": cannot use WAL mode (got " + mode + ")");
    }
  }
  if (auto s = db->exec(options.fullSync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
                        "set synchronous");
      !s) {
    return std::unexpected(s.error());
  }
  // Checkpoint the WAL every 8,192 pages (32 MiB) instead of SQLite's 1,000: a rollout's row and
  // the tails of the change and event logs are rewritten by nearly every commit, and a longer
  // WAL copies each such page back into the database once per checkpoint, not once per 1,000
  // pages written (measured: checkpoints were 8% of a writing reconcile's CPU).
  if (auto s = db->exec("PRAGMA wal_autocheckpoint=8192", "set wal_autocheckpoint"); !s) {
    return std::unexpected(s.error());
  }

  // Migrate in one transaction.
  if (auto s = db->exec("BEGIN IMMEDIATE", "begin migration"); !s)
    return std::unexpected(s.error());
  auto migrate = [&]() -> Status {
    auto scalar = [&](const char* sql, int64_t& out) -> Status {
      sqlite3_stmt* st = nullptr;
      int r = sqlite3_prepare_v2(db->conn, sql, -1, &st, nullptr);
      if (r == SQLITE_OK) {
        r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
          out = sqlite3_column_int64(st, 0);
          r = SQLITE_OK;
        } else if (r == SQLITE_DONE) {
          out = 0;
          r = SQLITE_OK;
        }
      }
      sqlite3_finalize(st);
      if (r != SQLITE_OK) return db->error(sql, r);
      return {};
    };
    int64_t appId = 0, hasVersionTable = 0, tables = 0, version = 0;
    if (auto s = scalar("PRAGMA application_id", appId); !s) return s;
    if (auto s = scalar("SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                        "name='schema_version'",
                        hasVersionTable);
        !s) {
      return s;
    }
    if (auto s = scalar("SELECT count(*) FROM sqlite_master", tables); !s) return s;
    if ((appId != 0 && appId != kApplicationId) || (!hasVersionTable && tables > 0)) {
      return makeError(ErrorCode::kFailedPrecondition,
                       "sqlite store " + path +
                           ": not a ramp database (it holds other tables); refusing to modify it");
    }
    if (!hasVersionTable) {
      if (auto s = db->exec("CREATE TABLE schema_version (version INTEGER NOT NULL); "
                            "INSERT INTO schema_version (version) VALUES (0);",
                            "create schema_version");
          !s) {
        return s;
      }
    }
    if (auto s = scalar("SELECT version FROM schema_version", version); !s) return s;
    if (version > kSqliteSchemaVersion) {
      return makeError(ErrorCode::kFailedPrecondition,
                       "sqlite store " + path + ": schema version " + std::to_string(version) +
                           " is newer than this ramp supports (" +
                           std::to_string(kSqliteSchemaVersion) +
                           "); upgrade ramp or restore an older database");
    }
    for (const Migration& m : kMigrations) {
      if (m.version <= version) continue;
      if (auto s = db->exec(m.sql, "migration to schema version " + std::to_string(m.version));
          !s) {
        return s;
      }
      std::string set = "UPDATE schema_version SET version=" + std::to_string(m.version);
      if (auto s = db->exec(set.c_str(), "record schema version"); !s) return s;
    }
    std::string app = "PRAGMA application_id=" + std::to_string(kApplicationId);
    return db->exec(app.c_str(), "set application_id");
  };
  if (auto s = migrate(); !s) {
    db->exec("ROLLBACK", "rollback migration");
    return std::unexpected(s.error());
  }
  if (auto s = db->exec("COMMIT", "commit migration"); !s) return std::unexpected(s.error());
  if (auto s = db->prepareAll(); !s) return std::unexpected(s.error());
  return std::unique_ptr<SqliteStateStore>(new SqliteStateStore(std::move(db), options));
}

SqliteStateStore::SqliteStateStore(std::unique_ptr<Db> db, SqliteStoreOptions options)
    : options_(options), notifier_(std::make_unique<ChangeNotifier>()), db_(std::move(db)) {}

SqliteStateStore::~SqliteStateStore() = default;

Result<StoredObject> SqliteStateStore::get(const ObjectKey& key) {
  if (auto s = validateKey(key); !s) return std::unexpected(s.error());
  std::lock_guard lock(mu_);
  auto r = db_->readObject(key);
  if (!r) return std::unexpected(r.error());
  if (!*r) return makeError(ErrorCode::kNotFound, key.toString() + " not found");
  return StoredObject{key, std::move((*r)->first), (*r)->second};
}

Result<WriteResult> SqliteStateStore::apply(std::span<const WriteOp> ops,
                                            std::span<const Event> events, bool batch) {
  auto fail = [batch](size_t i, Error e) {
    return std::unexpected(batch ? opError(i, std::move(e)) : std::move(e));
  };
  for (size_t i = 0; i < ops.size(); ++i) {
    if (auto s = validateOp(ops[i]); !s) return fail(i, s.error());
  }
  if (auto s = validateEvents(events); !s) return std::unexpected(s.error());
  WriteResult result;
  std::vector<int64_t>& versions = result.versions;
  if (ops.empty() && events.empty()) return result;
  versions.reserve(ops.size());
  {
    std::lock_guard lock(mu_);
    Db& db = *db_;
    Db::Tx tx(db);
    if (auto s = tx.begin(/*immediate=*/true); !s) return std::unexpected(s.error());
    auto revs = db.readRevisions();
    if (!revs) return std::unexpected(revs.error());
    auto [rev, compacted] = *revs;
    if (auto s = db.checkAuditIndexes(events); !s) return std::unexpected(s.error());
    const bool notify = notifier_->hasListeners();
    std::vector<Change> fresh;
    for (size_t i = 0; i < ops.size(); ++i) {
      const WriteOp& op = ops[i];
      const bool isPut = op.type == WriteOp::Type::kPut;
      // A delete records the last stored text in the change log; a put only checks the version.
      std::optional<std::pair<std::string, int64_t>> removed;
      std::optional<int64_t> currentVersion;
      if (isPut) {
        auto v = db.readVersion(op.key);
        if (!v) return std::unexpected(v.error());
        currentVersion = *v;
      } else {
        auto current = db.readObject(op.key);
        if (!current) return std::unexpected(current.error());
        removed = std::move(*current);
        if (removed) currentVersion = removed->second;
      }
      if (auto s = checkVersion(op, currentVersion); !s) return fail(i, s.error());
      ++rev;
      const std::string& json = isPut ? op.json : removed->first;
      if (isPut) {
        Use u(db.upsertObject);
        u.bind(1, op.key.kind).bind(2, op.key.namespace_).bind(3, op.key.name);
        u.bind(4, op.json).bind(5, rev);
        if (auto s = db.run(u, "write " + op.key.toString()); !s) return fail(i, s.error());
      } else {
        Use u(db.deleteObject);
        u.bind(1, op.key.kind).bind(2, op.key.namespace_).bind(3, op.key.name);
        if (auto s = db.run(u, "delete " + op.key.toString()); !s) return fail(i, s.error());
      }
      {
        Use u(db.insertChange);
        u.bind(1, rev).bind(2, std::string_view(isPut ? "put" : "delete"));
        u.bind(3, op.key.kind).bind(4, op.key.namespace_).bind(5, op.key.name).bind(6, json);
        if (auto s = db.run(u, "record change"); !s) return fail(i, s.error());
      }
      if (notify) {
        fresh.push_back(Change{rev, isPut ? ChangeType::kPut : ChangeType::kDelete, op.key, json});
      }
      versions.push_back(rev);
    }
    // Compact in steps of retention/16 so that not every write pays for a delete.
    const int64_t slack = std::max<int64_t>(1, options_.changeLogRetention / 16);
    if (rev - compacted > options_.changeLogRetention + slack) {
      compacted = rev - options_.changeLogRetention;
      Use u(db.compactChanges);
      u.bind(1, compacted);
      if (auto s = db.run(u, "compact change log"); !s) return std::unexpected(s.error());
    }
    for (const Event& event : events) {
      auto id = db.insertEvent(event, options_.eventRetention);
      if (!id) return std::unexpected(id.error());
      result.eventIds.push_back(*id);
    }
    if (auto s = tx.commit(); !s) return std::unexpected(s.error());
    if (notify) notifier_->enqueue(std::move(fresh));
  }
  notifier_->deliver();
  return result;
}

Result<ObjectList> SqliteStateStore::list(const std::string& kind, const std::string& namespace_) {
  if (kind.empty()) return makeError(ErrorCode::kInvalidArgument, "list: empty kind");
  std::lock_guard lock(mu_);
  Db& db = *db_;
  Db::Tx tx(db);  // one snapshot for the rows and the revision
  if (auto s = tx.begin(/*immediate=*/false); !s) return std::unexpected(s.error());
  ObjectList out;
  auto revs = db.readRevisions();
  if (!revs) return std::unexpected(revs.error());
  out.revision = revs->first;
  Use u(namespace_.empty() ? db.listKind : db.listNamespace);
  u.bind(1, kind);
  if (!namespace_.empty()) u.bind(2, namespace_);
  int rc;
  while ((rc = u.step()) == SQLITE_ROW) {
    out.items.push_back(StoredObject{ObjectKey{kind, u.text(0), u.text(1)}, u.text(2), u.i64(3)});
  }
  if (rc != SQLITE_DONE) return db.error("list " + kind, rc);
  if (auto s = tx.commit(); !s) return std::unexpected(s.error());
  return out;
}

Result<int64_t> SqliteStateStore::currentRevision() {
  std::lock_guard lock(mu_);
  auto revs = db_->readRevisions();
  if (!revs) return std::unexpected(revs.error());
  return revs->first;
}

Result<std::vector<Change>> SqliteStateStore::changesSince(int64_t revision, int64_t limit) {
  if (auto s = validateChangesSince(revision, limit); !s) return std::unexpected(s.error());
  std::lock_guard lock(mu_);
  Db& db = *db_;
  Db::Tx tx(db);
  if (auto s = tx.begin(/*immediate=*/false); !s) return std::unexpected(s.error());
  auto revs = db.readRevisions();
  if (!revs) return std::unexpected(revs.error());
  if (auto s = checkWatchWindow(revision, revs->second, revs->first); !s) {
    return std::unexpected(s.error());
  }
  std::vector<Change> out;
  Use u(db.selectChanges);
  u.bind(1, revision).bind(2, limit);
  int rc;
  while ((rc = u.step()) == SQLITE_ROW) {
    out.push_back(Change{u.i64(0), u.text(1) == "put" ? ChangeType::kPut : ChangeType::kDelete,
                         ObjectKey{u.text(2), u.text(3), u.text(4)}, u.text(5)});
  }
  if (rc != SQLITE_DONE) return db.error("read changes", rc);
  if (auto s = tx.commit(); !s) return std::unexpected(s.error());
  return out;
}

int64_t SqliteStateStore::subscribe(ChangeListener listener) {
  return notifier_->subscribe(std::move(listener));
}

void SqliteStateStore::unsubscribe(int64_t id) { notifier_->unsubscribe(id); }

Result<int64_t> SqliteStateStore::appendEvent(const Event& event) {
  if (auto s = validateEvent(event); !s) return std::unexpected(s.error());
  std::lock_guard lock(mu_);
  Db& db = *db_;
  Db::Tx tx(db);
  if (auto s = tx.begin(/*immediate=*/true); !s) return std::unexpected(s.error());
  if (auto s = db.checkAuditIndexes(std::span(&event, 1)); !s) return std::unexpected(s.error());
  auto id = db.insertEvent(event, options_.eventRetention);
  if (!id) return std::unexpected(id.error());
  if (auto s = tx.commit(); !s) return std::unexpected(s.error());
  return *id;
}

Result<std::vector<Event>> SqliteStateStore::listEvents(const EventQuery& query) {
  if (auto s = validateEventQuery(query); !s) return std::unexpected(s.error());
  std::lock_guard lock(mu_);
  Db& db = *db_;
  Use u(query.object ? db.listEventsObject : db.listEventsAll);
  u.bind(1, query.sinceId).bind(2, query.limit);
  if (query.object) {
    u.bind(3, query.object->kind).bind(4, query.object->namespace_).bind(5, query.object->name);
  }
  std::vector<Event> out;
  int rc;
  while ((rc = u.step()) == SQLITE_ROW) out.push_back(Db::readEvent(u));
  if (rc != SQLITE_DONE) return db.error("list events", rc);
  return out;
}

Result<std::vector<AuditRecord>> SqliteStateStore::listAuditRecords(const AuditQuery& query) {
  if (auto s = validateAuditQuery(query); !s) return std::unexpected(s.error());
  std::lock_guard lock(mu_);
  Db& db = *db_;
  Use u(query.object ? db.listAuditObject : db.listAuditAll);
  u.bind(1, query.fromIndex).bind(2, query.limit);
  if (query.object) {
    u.bind(3, query.object->kind).bind(4, query.object->namespace_).bind(5, query.object->name);
  }
  std::vector<AuditRecord> out;
  int rc;
  while ((rc = u.step()) == SQLITE_ROW) {
    out.push_back(AuditRecord{u.i64(0), u.i64(1), fromMs(u.i64(2)),
                              ObjectKey{u.text(3), u.text(4), u.text(5)}, u.text(6), u.text(7)});
  }
  if (rc != SQLITE_DONE) return db.error("list audit records", rc);
  return out;
}

Result<int64_t> SqliteStateStore::auditSize() {
  std::lock_guard lock(mu_);
  return db_->scalar(db_->auditCount, "count audit records");
}

Status SqliteStateStore::appendAuditCheckpoint(const AuditCheckpoint& checkpoint) {
  std::lock_guard lock(mu_);
  Db& db = *db_;
  Db::Tx tx(db);
  if (auto s = tx.begin(/*immediate=*/true); !s) return s;
  auto last = db.scalar(db.lastCheckpoint, "read the newest audit checkpoint");
  if (!last) return std::unexpected(last.error());
  auto records = db.scalar(db.auditCount, "count audit records");
  if (!records) return std::unexpected(records.error());
  if (auto s = checkAuditCheckpoint(checkpoint, *last, *records); !s) return s;
  Use u(db.insertCheckpoint);
  u.bind(1, checkpoint.size).bind(2, checkpoint.rootHash).bind(3, checkpoint.note);
  u.bind(4, toMs(checkpoint.time));
  if (auto s = db.run(u, "append audit checkpoint"); !s) return s;
  return tx.commit();
}

Result<std::vector<AuditCheckpoint>> SqliteStateStore::listAuditCheckpoints() {
  std::lock_guard lock(mu_);
  Db& db = *db_;
  Use u(db.listCheckpoints);
  std::vector<AuditCheckpoint> out;
  int rc;
  while ((rc = u.step()) == SQLITE_ROW) {
    out.push_back(AuditCheckpoint{u.i64(0), u.text(1), u.text(2), fromMs(u.i64(3))});
  }
  if (rc != SQLITE_DONE) return db.error("list audit checkpoints", rc);
  return out;
}

Result<Lease> SqliteStateStore::leaseOp(LeaseOp op, const std::string& name,
                                        const std::string& holder, Duration ttl, Time now) {
  std::lock_guard lock(mu_);
  Db& db = *db_;
  Db::Tx tx(db);
  if (auto s = tx.begin(/*immediate=*/true); !s) return std::unexpected(s.error());
  auto current = db.readLease(name);
  if (!current) return std::unexpected(current.error());
  Result<Lease> decided = op == LeaseOp::kAcquire ? decideAcquire(*current, name, holder, ttl, now)
                          : op == LeaseOp::kRenew ? decideRenew(*current, name, holder, ttl, now)
                                                  : decideRelease(*current, name, holder, now);
  if (!decided) return decided;
  Use u(db.upsertLease);
  u.bind(1, decided->name).bind(2, decided->holder).bind(3, toMs(decided->acquiredAt));
  u.bind(4, toMs(decided->renewedAt)).bind(5, toMs(decided->expiresAt));
  u.bind(6, decided->transitions);
  if (auto s = db.run(u, "write lease " + name); !s) return std::unexpected(s.error());
  if (auto s = tx.commit(); !s) return std::unexpected(s.error());
  return decided;
}

Result<Lease> SqliteStateStore::acquireLease(const std::string& name, const std::string& holder,
                                             Duration ttl, Time now) {
  return leaseOp(LeaseOp::kAcquire, name, holder, ttl, now);
}

Result<Lease> SqliteStateStore::renewLease(const std::string& name, const std::string& holder,
                                           Duration ttl, Time now) {
  return leaseOp(LeaseOp::kRenew, name, holder, ttl, now);
}

Status SqliteStateStore::releaseLease(const std::string& name, const std::string& holder,
                                      Time now) {
  auto r = leaseOp(LeaseOp::kRelease, name, holder, Duration(0), now);
  if (!r) return std::unexpected(r.error());
  return {};
}

Status SqliteStateStore::checkIntegrity() {
  std::lock_guard lock(mu_);
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db_->conn, "PRAGMA integrity_check", -1, &st, nullptr);
  std::string report;
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      if (!report.empty()) report += "; ";
      report += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return db_->error("integrity check", rc);
  if (report != "ok") {
    return makeError(ErrorCode::kInternal, "sqlite store " + db_->path + ": " + report);
  }
  return {};
}

Result<std::unique_ptr<StateStore>> makeSqliteStore(const ExtensionContext& context) {
  if (context.dataDir.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "store.sqlite needs a data directory (--data)");
  }
  auto store = SqliteStateStore::open(context.dataDir + "/ramp.db");
  if (!store) return std::unexpected(store.error());
  return std::unique_ptr<StateStore>(std::move(*store));
}

}  // namespace ramp::store
