// SQLite-only behaviour: persistence across reopen, schema migrations, refusing files it must
// not touch, and recovery after the writing process is killed with SIGKILL.

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <random>

#include "store/sqlite/sqlite_state_store.h"
#include "store/store_test_support.h"

namespace ramp::store::testing {
namespace {

using std::chrono::milliseconds;

const ObjectKey kA{"Rollout", "default", "a"};

Time at(int64_t ms) { return Time(Duration(1'767'225'600'000 + ms)); }

// Runs SQL on the file with a raw connection (to inspect or tamper with it). Returns the first
// column of the first row as text ("" if none).
std::string rawSql(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  std::string out;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
  EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errmsg(db) << " in " << sql;
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0)) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::filesystem::path file() const { return dir_.path() / "ramp.db"; }

  std::unique_ptr<SqliteStateStore> open(SqliteStoreOptions o = {}) {
    auto s = SqliteStateStore::open(file().string(), o);
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }

  TempDir dir_;
};

TEST_F(SqliteStoreTest, ReopenKeepsObjectsRevisionsEventsAndLeases) {
  int64_t v;
  {
    auto s = open();
    ASSERT_TRUE(s);
    v = *s->put(kA, R"({"n":1})", 0);
    ASSERT_TRUE(s->put({"Rollout", "default", "b"}, "{}", 0));
    Event e;
    e.time = at(1);
    e.object = kA;
    e.reason = "Created";
    ASSERT_TRUE(s->appendEvent(e));
    ASSERT_TRUE(s->acquireLease("leader", "p1", milliseconds(1000), at(0)));
  }
  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->get(kA)->json, R"({"n":1})");
  EXPECT_EQ(s->get(kA)->version, v);
  EXPECT_EQ(*s->currentRevision(), v + 1);
  EXPECT_EQ(s->changesSince(0, 10)->size(), 2u);
  EXPECT_EQ(s->listEvents({})->size(), 1u);
  EXPECT_EQ(s->acquireLease("leader", "p2", milliseconds(1000), at(500)).error().code,
            ErrorCode::kConflict);
  // Revisions continue where they stopped.
  EXPECT_EQ(*s->put(kA, R"({"n":2})", v), v + 2);
  EXPECT_TRUE(s->checkIntegrity());
}

TEST_F(SqliteStoreTest, ReopenKeepsTheRevisionAndCompactionPoint) {
  SqliteStoreOptions o;
  o.changeLogRetention = 8;
  {
    auto s = open(o);
    ASSERT_TRUE(s);
    int64_t v = *s->put(kA, "0", 0);
    for (int i = 1; i < 100; ++i) v = *s->put(kA, std::to_string(i), v);
  }
  auto s = open(o);
  ASSERT_TRUE(s);
  EXPECT_EQ(*s->currentRevision(), 100);
  EXPECT_EQ(s->changesSince(0, 10).error().code, ErrorCode::kFailedPrecondition);
  auto recent = s->changesSince(92, 100);
  ASSERT_TRUE(recent) << recent.error().message;
  EXPECT_EQ(recent->size(), 8u);
  EXPECT_EQ(*s->put(kA, "100", 100), 101);
}

TEST_F(SqliteStoreTest, MigratesAnEmptyFileAndUsesWal) {
  { std::ofstream(file()).flush(); }  // an existing, empty file
  ASSERT_EQ(std::filesystem::file_size(file()), 0u);
  {
    auto s = open();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->put(kA, "{}", 0));
  }
  EXPECT_EQ(rawSql(file(), "SELECT version FROM schema_version"),
            std::to_string(kSqliteSchemaVersion));
  EXPECT_EQ(rawSql(file(), "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(rawSql(file(), "PRAGMA application_id"), std::to_string(0x52414D50));
  EXPECT_EQ(rawSql(file(), "SELECT count(*) FROM objects"), "1");
}

// A file at schema version 1 (events without counts, no audit log: made here by dropping version
// 2's columns and version 3's tables) is migrated on open; its events read as counted once, a
// repeat folds into them, and the audit log is there.
TEST_F(SqliteStoreTest, MigratesVersionOneEventsToCountedEvents) {
  Event e;
  e.time = Time(Duration(5000));
  e.object = kA;
  e.reason = "ScalingReplicaSet";
  e.message = "Scaled up to 3";
  e.actor = "controller";
  {
    auto s = open();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->appendEvent(e));
  }
  for (const char* column : {"count", "first_time_ms", "replaces"}) {
    rawSql(file(), std::string("ALTER TABLE events DROP COLUMN ") + column);
  }
  rawSql(file(), "DROP TABLE audit_records");
  rawSql(file(), "DROP TABLE audit_checkpoints");
  rawSql(file(), "UPDATE schema_version SET version = 1");
  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_EQ(rawSql(file(), "SELECT version FROM schema_version"), "3");
  EXPECT_EQ(*s->auditSize(), 0);
  EXPECT_TRUE(s->listAuditCheckpoints()->empty());
  auto before = s->listEvents({});
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ(before->front().count, 1);
  EXPECT_EQ(before->front().firstTime, e.time);
  e.time = Time(Duration(9000));
  ASSERT_TRUE(s->appendEvent(e));
  auto after = s->listEvents({});
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ(after->front().count, 2);
  EXPECT_EQ(after->front().firstTime, Time(Duration(5000)));
  EXPECT_EQ(after->front().replaces, before->front().id);
}

TEST_F(SqliteStoreTest, OpeningTwiceDoesNotReapplyMigrations) {
  ASSERT_TRUE(open());
  ASSERT_TRUE(open());  // a second CREATE TABLE would fail
  EXPECT_EQ(rawSql(file(), "SELECT count(*) FROM schema_version"), "1");
}

TEST_F(SqliteStoreTest, RefusesANewerSchemaWithoutTouchingIt) {
  ASSERT_TRUE(open());
  rawSql(file(), "UPDATE schema_version SET version = 99");
  auto s = SqliteStateStore::open(file().string());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(s.error().message.find("schema version 99 is newer"), std::string::npos)
      << s.error().message;
  EXPECT_NE(s.error().message.find(file().string()), std::string::npos);
  EXPECT_EQ(rawSql(file(), "SELECT version FROM schema_version"), "99");
}

TEST_F(SqliteStoreTest, RefusesAnotherProgramsDatabase) {
  rawSql(file(), "CREATE TABLE customers (id INTEGER)");
  auto s = SqliteStateStore::open(file().string());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(s.error().message.find("not a ramp database"), std::string::npos);
  EXPECT_EQ(rawSql(file(), "SELECT count(*) FROM sqlite_master WHERE name='objects'"), "0");
}

TEST_F(SqliteStoreTest, RefusesAFileThatIsNotSqlite) {
  {
    std::ofstream out(file());
    out << std::string(4096, 'x');
  }
  auto s = SqliteStateStore::open(file().string());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kFailedPrecondition) << s.error().message;
  EXPECT_NE(s.error().message.find(file().string()), std::string::npos);
}

TEST_F(SqliteStoreTest, UnopenablePathIsUnavailable) {
  auto s = SqliteStateStore::open((dir_.path() / "missing-dir" / "ramp.db").string());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable) << s.error().message;
}

TEST_F(SqliteStoreTest, RejectsBadOptions) {
  SqliteStoreOptions o;
  o.changeLogRetention = 0;
  auto s = SqliteStateStore::open(file().string(), o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, TwoStoresOnOneFileShareStateThroughCas) {
  auto s1 = open();
  auto s2 = open();
  ASSERT_TRUE(s1 && s2);
  int64_t v = *s1->put(kA, "1", 0);
  EXPECT_EQ(s2->get(kA)->version, v);
  ASSERT_TRUE(s2->put(kA, "2", v));
  EXPECT_EQ(s1->put(kA, "3", v).error().code, ErrorCode::kConflict);
  EXPECT_EQ(*s1->currentRevision(), v + 1);
}

// --- kill -9 ---

struct Ack {
  int32_t key;  // index of the object written, or -1 for a child failure
  int32_t pad;
  int64_t version;  // version acknowledged by the store
};

constexpr int kKeys = 16;

ObjectKey crashKey(int i) { return ObjectKey{"Rollout", "crash", "k" + std::to_string(i)}; }

// The child: writes forever (single puts, batches, events), reporting each acknowledged version
// through the pipe after the store returned success. Never returns.
[[noreturn]] void crashChild(const std::string& path, int fd, uint32_t seed) {
  auto fail = [fd](int64_t code) {
    Ack a{-1, 0, code};
    (void)!::write(fd, &a, sizeof a);
    _exit(1);
  };
  SqliteStoreOptions o;
  o.changeLogRetention = 64;
  o.eventRetention = 64;
  auto opened = SqliteStateStore::open(path, o);
  if (!opened) fail(1);
  SqliteStateStore& s = **opened;
  std::mt19937 rng(seed);
  std::map<int, int64_t> versions;
  for (int i = 0; i < kKeys; ++i) {
    auto cur = s.get(crashKey(i));
    versions[i] = cur ? cur->version : 0;
  }
  for (uint64_t n = 0;; ++n) {
    const std::string json =
        R"({"n":)" + std::to_string(n) + R"(,"pad":")" + std::string(rng() % 2000, 'p') + R"("})";
    if (n % 5 == 4) {
      std::vector<WriteOp> ops;
      std::vector<int> keys;
      for (int j = 0; j < 3; ++j) {
        int k = static_cast<int>((n + j * 5) % kKeys);
        keys.push_back(k);
        ops.push_back({WriteOp::Type::kPut, crashKey(k), json, versions[k]});
      }
      auto r = s.write(ops);
      if (!r) fail(2);
      for (size_t j = 0; j < keys.size(); ++j) {
        versions[keys[j]] = (*r)[j];
        Ack a{keys[j], 0, (*r)[j]};
        if (::write(fd, &a, sizeof a) != sizeof a) _exit(3);
      }
    } else {
      int k = static_cast<int>(rng() % kKeys);
      auto r = s.put(crashKey(k), json, versions[k]);
      if (!r) fail(4);
      versions[k] = *r;
      Ack a{k, 0, *r};
      if (::write(fd, &a, sizeof a) != sizeof a) _exit(3);
    }
    if (n % 7 == 0) {
      Event e;
      e.object = crashKey(0);
      e.reason = "Tick";
      e.time = Time(Duration(static_cast<int64_t>(n)));
      if (!s.appendEvent(e)) fail(5);
    }
  }
}

TEST_F(SqliteStoreTest, SurvivesSigkillAtRandomInstantsWithoutLosingAcknowledgedWrites) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::map<int, int64_t> acked;  // highest acknowledged version per key, over all rounds
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    // Kill after a random number of acknowledgements: the child keeps writing meanwhile, so the
    // kill lands at an arbitrary point of a transaction.
    const int killAfter = 20 + static_cast<int>(rng() % 400);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      crashChild(file().string(), fds[1], seed + round);
    }
    close(fds[1]);
    int received = 0;
    bool killed = false;
    Ack a;
    while (read(fds[0], &a, sizeof a) == sizeof a) {
      ASSERT_GE(a.key, 0) << "child failed with code " << a.version;
      acked[a.key] = std::max(acked[a.key], a.version);
      if (++received == killAfter && !killed) {
        kill(pid, SIGKILL);
        killed = true;
      }
    }
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;

    auto s = open(SqliteStoreOptions{.changeLogRetention = 64, .eventRetention = 64});
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->checkIntegrity());
    int64_t maxVersion = 0;
    for (auto [k, v] : acked) {
      auto got = s->get(crashKey(k));
      ASSERT_TRUE(got) << "acknowledged object k" << k << " lost in round " << round;
      // At most one write per key may have committed without its acknowledgement reaching us.
      EXPECT_GE(got->version, v) << "k" << k << " round " << round;
      maxVersion = std::max(maxVersion, got->version);
    }
    auto rev = s->currentRevision();
    ASSERT_TRUE(rev);
    EXPECT_GE(*rev, maxVersion);
    // The change log ends exactly at the current revision: no torn revision bookkeeping.
    auto tail = s->changesSince(*rev - 1, 10);
    ASSERT_TRUE(tail) << tail.error().message;
    ASSERT_EQ(tail->size(), 1u);
    EXPECT_EQ(tail->front().revision, *rev);
    // Each object row and its change-log entry were committed together: an object's stored
    // version, if still in the log, is a put of that key with the same text.
    auto listed = s->list("Rollout", "crash");
    ASSERT_TRUE(listed);
    EXPECT_EQ(listed->revision, *rev);
    int checked = 0;
    for (const StoredObject& o : listed->items) {
      auto c = s->changesSince(o.version - 1, 1);
      if (!c) continue;  // compacted away
      ASSERT_EQ(c->size(), 1u);
      EXPECT_EQ(c->front().revision, o.version);
      EXPECT_EQ(c->front().type, ChangeType::kPut);
      EXPECT_EQ(c->front().key, o.key);
      EXPECT_EQ(c->front().json, o.json);
      ++checked;
    }
    EXPECT_GT(checked, 0);
  }
}

}  // namespace
}  // namespace ramp::store::testing
