// Tampering with a real SQLite audit log, as someone with the database file could: the rows are
// edited with the sqlite3 library (after dropping the append-only triggers, which only guard
// against mistakes), and verification names the first bad record.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "audit/audited_store.h"
#include "audit/verify.h"
#include "harness/harness.h"
#include "store/sqlite/sqlite_state_store.h"

namespace ramp::audit {
namespace {

using store::Event;
using store::ObjectKey;
using store::WriteOp;

const ObjectKey kWeb{"Rollout", "shop", "web"};

// Runs SQL on the file; returns SQLite's error message ("" on success).
std::string sql(const std::string& file, const std::string& statements) {
  sqlite3* db = nullptr;
  sqlite3_open(file.c_str(), &db);
  char* err = nullptr;
  sqlite3_exec(db, statements.c_str(), nullptr, nullptr, &err);
  std::string out = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  return out;
}

constexpr const char* kDropGuards =
    "DROP TRIGGER audit_records_append_only_update; "
    "DROP TRIGGER audit_records_append_only_delete; ";

class TamperTest : public ::testing::Test {
 protected:
  // Writes 8 records (4 decisions of 2 events) and a checkpoint, then 2 more records.
  void SetUp() override {
    auto store = store::SqliteStateStore::open(file());
    ASSERT_TRUE(store) << store.error().message;
    auto log = *AuditedStateStore::wrap(**store, key_, "controller");
    int64_t version = 0;
    for (int i = 0; i < 5; ++i) {
      std::vector<WriteOp> ops = {
          {WriteOp::Type::kPut, kWeb, R"({"step":)" + std::to_string(i) + "}", version}};
      Event e;
      e.time = Time(Duration(1'767'225'600'000 + i));
      e.object = kWeb;
      e.reason = i == 3 ? "RolloutPromoted" : "RolloutStepCompleted";
      e.actor = i == 3 ? "alice" : "controller";
      std::vector<Event> events = {e, e};
      auto w = log->writeWithEvents(ops, events);
      ASSERT_TRUE(w) << w.error().message;
      version = w->versions[0];
      if (i == 3) {
        ASSERT_EQ(*log->checkpoint(e.time), 8);
      }
    }
  }

  VerifyReport verify() {
    auto store = store::SqliteStateStore::open(file());
    EXPECT_TRUE(store) << store.error().message;
    auto log = readLog(**store);
    EXPECT_TRUE(log) << log.error().message;
    return verifyLog(log->records, log->checkpoints, &key_.publicKey());
  }

  std::string file() const { return dir_.file("ramp.db"); }

  ramp::testing::TempDir dir_{"ramp-audit-tamper"};
  SigningKey key_ = *SigningKey::generate();
};

TEST_F(TamperTest, AnUntouchedLogVerifies) {
  VerifyReport r = verify();
  EXPECT_TRUE(r.ok()) << r.problem;
  EXPECT_EQ(r.records, 10);
  EXPECT_EQ(r.covered, 8);
}

TEST_F(TamperTest, TheRowsRefuseChangesUnlessTheGuardsAreDropped) {
  EXPECT_NE(sql(file(), "DELETE FROM audit_records WHERE leaf_index = 3").find("append-only"),
            std::string::npos);
  EXPECT_NE(sql(file(), "UPDATE audit_checkpoints SET note = 'x'").find("append-only"),
            std::string::npos);
  EXPECT_TRUE(verify().ok());
}

TEST_F(TamperTest, OneChangedByteIsFound) {
  ASSERT_EQ(sql(file(), std::string(kDropGuards) +
                            "UPDATE audit_records SET envelope = substr(envelope, 1, 60) || "
                            "char(unicode(substr(envelope, 61, 1)) + 1) || substr(envelope, 62) "
                            "WHERE leaf_index = 5"),
            "");
  VerifyReport r = verify();
  EXPECT_EQ(r.badIndex, 5) << r.problem;
  EXPECT_NE(r.problem.find("record 5 was altered"), std::string::npos) << r.problem;
}

TEST_F(TamperTest, ADeletedRowIsFound) {
  ASSERT_EQ(
      sql(file(), std::string(kDropGuards) + "DELETE FROM audit_records WHERE leaf_index = 3"), "");
  VerifyReport r = verify();
  EXPECT_EQ(r.badIndex, 3) << r.problem;
  EXPECT_NE(r.problem.find("record 3 is missing"), std::string::npos) << r.problem;
}

TEST_F(TamperTest, ADeletedTailUnderACheckpointIsFound) {
  ASSERT_EQ(
      sql(file(), std::string(kDropGuards) + "DELETE FROM audit_records WHERE leaf_index >= 6"),
      "");
  VerifyReport r = verify();
  EXPECT_EQ(r.badIndex, 6) << r.problem;
}

TEST_F(TamperTest, TwoSwappedRowsAreFound) {
  ASSERT_EQ(sql(file(), std::string(kDropGuards) +
                            "UPDATE audit_records SET leaf_index = -1 WHERE leaf_index = 2; "
                            "UPDATE audit_records SET leaf_index = 2 WHERE leaf_index = 6; "
                            "UPDATE audit_records SET leaf_index = 6 WHERE leaf_index = -1;"),
            "");
  VerifyReport r = verify();
  EXPECT_EQ(r.badIndex, 2) << r.problem;
  EXPECT_NE(r.problem.find("its statement says it is record 6"), std::string::npos) << r.problem;
}

}  // namespace
}  // namespace ramp::audit
