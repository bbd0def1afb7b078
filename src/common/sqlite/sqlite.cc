#include "common/sqlite/sqlite.h"

#include <utility>

namespace ramp::sqlite {

ErrorCode errorCode(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM: return ErrorCode::kUnavailable;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return ErrorCode::kFailedPrecondition;
    default: return ErrorCode::kInternal;
  }
}

Connection::~Connection() {
  if (conn_) sqlite3_close_v2(conn_);
}

Status Connection::open(const std::string& path, std::string label, Duration busyTimeout,
                        std::string busyHint) {
  label_ = std::move(label);
  busyHint_ = std::move(busyHint);
  int rc =
      sqlite3_open_v2(path.c_str(), &conn_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return error("open", rc);
  sqlite3_busy_timeout(conn_, static_cast<int>(busyTimeout.count()));
  return {};
}

std::string Connection::message(int rc, const char* sqliteMessage) const {
  std::string out = sqliteMessage;
  if ((rc & 0xff) == SQLITE_BUSY && !busyHint_.empty()) out += " (" + busyHint_ + ")";
  return out;
}

std::unexpected<Error> Connection::error(std::string_view what, int rc) const {
  const char* msg = conn_ ? sqlite3_errmsg(conn_) : sqlite3_errstr(rc);
  return makeError(errorCode(rc), label_ + ": " + std::string(what) + ": " + message(rc, msg));
}

Status Connection::exec(const char* sql, std::string_view what) const {
  char* err = nullptr;
  int rc = sqlite3_exec(conn_, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return {};
  std::string msg = message(rc, err ? err : sqlite3_errstr(rc));
  sqlite3_free(err);
  return makeError(
      errorCode(rc),
      label_ + ": " + std::string(what.empty() ? std::string_view(sql) : what) + ": " + msg);
}

}  // namespace ramp::sqlite
