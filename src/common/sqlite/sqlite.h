#pragma once

// SQLite glue shared by the modules that keep a SQLite file (src/store/sqlite,
// src/platform/sim, src/traffic/sim): one way to open a connection, run a statement and turn
// SQLite's result codes into ramp::Error, and the RAII wrappers of a prepared statement.
//
// Threading: none of its own. A Connection is opened with SQLITE_OPEN_NOMUTEX: its owner
// serialises every use (each user holds a mutex around it).

#include <sqlite3.h>

#include <string>
#include <string_view>

#include "ramp/clock.h"
#include "ramp/error.h"

namespace ramp::sqlite {

// The ErrorCode for a SQLite result code: kUnavailable for what may pass (busy, locked, I/O,
// full, cannot open, read-only, permission), kFailedPrecondition for a file that is not a sound
// database (not a database, corrupt), kInternal for the rest (misuse, constraint, …).
ErrorCode errorCode(int rc);

// For a file one process owns from open to close (the simulated world, as one cluster runs the
// pods): it holds the file's lock throughout, so a transaction takes no file locks and WAL needs
// no shared memory (measured: ~20 % more reconciles/s in the durable bench world); commits are
// durable against a killed process (synchronous=NORMAL), and the WAL is checkpointed every 8,192
// pages. Pass to Connection::exec() right after open().
inline constexpr const char* kOneOwnerPragmas =
    "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    " PRAGMA wal_autocheckpoint=8192";

// One connection, and how its errors read: "<label>: <what>: <SQLite's message>".
class Connection {
 public:
  Connection() = default;
  // Closes with sqlite3_close_v2: the close waits until every statement is finalised, so
  // Statements may outlive the Connection.
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Opens (creating if needed) the file at `path`, read-write, with `busyTimeout` for another
  // connection's lock. `label` starts every error message ("sqlite store /var/lib/ramp.db");
  // `busyHint`, if any, is appended to the message of a busy error (who holds the file). Errors:
  // as error("open", rc).
  Status open(const std::string& path, std::string label, Duration busyTimeout,
              std::string busyHint = {});

  sqlite3* get() const { return conn_; }

  // The error of result code `rc` while doing `what`, with the connection's message if open.
  std::unexpected<Error> error(std::string_view what, int rc) const;

  // Runs `sql` (any number of statements, no rows wanted). Errors name `what`, or the SQL when
  // `what` is empty.
  Status exec(const char* sql, std::string_view what = {}) const;

 private:
  std::string message(int rc, const char* sqliteMessage) const;

  sqlite3* conn_ = nullptr;
  std::string label_;
  std::string busyHint_;
};

// A prepared statement, finalised on destruction. Bind and step it through a Use.
class Statement {
 public:
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  // Prepares `sql` once for many uses (SQLITE_PREPARE_PERSISTENT). Returns SQLite's result.
  int prepare(sqlite3* db, const char* sql) {
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// One use of a Statement: binds, steps and reads columns; resets and unbinds the statement
// when it goes out of scope. Bound text must outlive the Use (SQLITE_STATIC).
class Use {
 public:
  explicit Use(Statement& s) : s_(s.get()) {}
  explicit Use(sqlite3_stmt* s) : s_(s) {}
  ~Use() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  Use& bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Use& bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  int step() { return sqlite3_step(s_); }
  int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
  bool isNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, sqlite3_column_bytes(s_, col)) : std::string();
  }

 private:
  sqlite3_stmt* s_;
};

}  // namespace ramp::sqlite
