#pragma once

// SqliteStateStore: the StateStore on one SQLite file — ramp's embedded, durable default.
//
// Durability: the database runs in WAL mode with synchronous=NORMAL by default. A committed
// write survives the ramp process being killed at any instant (kill -9): the WAL frames are in
// the OS page cache when commit returns, and the next open replays them. What NORMAL gives up
// against FULL is only power loss / OS crash: the last transactions before the crash may be
// rolled back (never half-applied; the file stays consistent). `fullSync = true` selects
// synchronous=FULL (an fsync per commit) for deployments that need power-loss durability, at
// a large cost in write throughput (see docs/performance.md).
//
// Schema: versioned (table schema_version) with an ordered list of migrations in the .cc,
// applied in one transaction on open. A file written by a newer ramp (higher schema version) is
// refused, never modified. The schema is documented in docs/store.md.
//
// Threading: thread-safe. The store owns one connection, guarded by a mutex, so calls are
// serialised (SQLite serialises writers anyway; reads are short indexed lookups). Listeners run
// after the mutex is released. Several processes may open the same file (busy timeout applies),
// but subscribe() only sees this process's writes.

#include <memory>
#include <mutex>
#include <string>

#include "ramp/registry.h"
#include "ramp/store/state_store.h"
#include "store/common/batch_state_store.h"

namespace ramp::store {

class ChangeNotifier;

struct SqliteStoreOptions {
  int64_t changeLogRetention = kDefaultChangeLogRetention;  // must be > 0
  int64_t eventRetention = kDefaultEventRetention;          // must be > 0
  Duration busyTimeout = Duration(5000);  // how long a write waits for another process's lock
  bool fullSync = false;                  // synchronous=FULL instead of NORMAL
};

// The schema version this build writes (docs/store.md lists what each version added).
inline constexpr int kSqliteSchemaVersion = 3;

class SqliteStateStore final : public BatchStateStore {
 public:
  // Opens (creating if needed) the database at `path` and migrates it to kSqliteSchemaVersion.
  // Errors: kFailedPrecondition if the file is not a SQLite database, is another program's
  // database, or has a newer schema than this build knows (the message says which version);
  // kUnavailable if it cannot be opened or locked; kInvalidArgument for bad options.
  static Result<std::unique_ptr<SqliteStateStore>> open(const std::string& path,
                                                        SqliteStoreOptions options = {});

  ~SqliteStateStore() override;
  SqliteStateStore(const SqliteStateStore&) = delete;
  SqliteStateStore& operator=(const SqliteStateStore&) = delete;

  Result<StoredObject> get(const ObjectKey& key) override;
  Result<ObjectList> list(const std::string& kind, const std::string& namespace_) override;
  Result<int64_t> currentRevision() override;
  Result<std::vector<Change>> changesSince(int64_t revision, int64_t limit) override;
  int64_t subscribe(ChangeListener listener) override;
  void unsubscribe(int64_t id) override;
  Result<int64_t> appendEvent(const Event& event) override;
  Result<std::vector<Event>> listEvents(const EventQuery& query) override;
  Result<Lease> acquireLease(const std::string& name, const std::string& holder, Duration ttl,
                             Time now) override;
  Result<Lease> renewLease(const std::string& name, const std::string& holder, Duration ttl,
                           Time now) override;
  Status releaseLease(const std::string& name, const std::string& holder, Time now) override;
  Result<std::vector<AuditRecord>> listAuditRecords(const AuditQuery& query) override;
  Result<int64_t> auditSize() override;
  Status appendAuditCheckpoint(const AuditCheckpoint& checkpoint) override;
  Result<std::vector<AuditCheckpoint>> listAuditCheckpoints() override;

  // Runs SQLite's integrity check. Ok if the file is sound; kInternal with SQLite's report
  // otherwise. Used by the crash tests and by `ramp` diagnostics.
  Status checkIntegrity();

 private:
  struct Db;  // the connection and its prepared statements (sqlite3 stays out of this header)

  SqliteStateStore(std::unique_ptr<Db> db, SqliteStoreOptions options);
  Result<WriteResult> apply(std::span<const WriteOp> ops, std::span<const Event> events,
                            bool batch) override;
  enum class LeaseOp { kAcquire, kRenew, kRelease };
  Result<Lease> leaseOp(LeaseOp op, const std::string& name, const std::string& holder,
                        Duration ttl, Time now);

  const SqliteStoreOptions options_;
  std::unique_ptr<ChangeNotifier> notifier_;
  std::mutex mu_;  // guards db_
  std::unique_ptr<Db> db_;
};

// store.sqlite's registry factory: opens <context.dataDir>/ramp.db. kInvalidArgument without a
// data directory; open()'s errors.
Result<std::unique_ptr<StateStore>> makeSqliteStore(const ExtensionContext& context);

}  // namespace ramp::store
