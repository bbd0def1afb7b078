#pragma once

// Authentication and authorisation of API requests: bearer tokens from a tokens file, each with a
// name and a role (viewer < operator < admin).
//
// Tokens file: one token per line, "TOKEN,NAME,ROLE" (as Kubernetes' static token file: token
// first), '#' starts a comment, blank lines are ignored. Tokens are kept only as SHA-256 digests
// and are never printed; errors name the file and line, never the token.
//
// Thread safety: Authenticator is immutable after construction; authenticate() may be called
// from any thread. TokensFile (below) is safe to use from any thread.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "api/types.h"
#include "ramp/clock.h"
#include "ramp/error.h"

namespace ramp::api {

class Authenticator {
 public:
  // Authentication off: every request is {"local", admin}. The server then listens on loopback
  // only.
  static Authenticator disabled();

  // Reads a tokens file. Errors: kNotFound / kUnavailable when it cannot be read;
  // kInvalidArgument naming file:line for every malformed line (one line of the message each:
  // not three fields, an unknown role, a token shorter than 16 characters, a repeated token),
  // or a file with no tokens.
  static Result<Authenticator> fromFile(const std::string& path);

  // Parses tokens-file text (`file` only names it in errors). Errors as fromFile().
  static Result<Authenticator> fromText(std::string_view text, std::string_view file);

  bool enabled() const { return enabled_; }
  size_t size() const { return byDigest_.size(); }

  // Returns who presented `authorization` (the Authorization header value, "Bearer TOKEN").
  // Errors: kUnauthenticated when the header is missing, not a bearer token, or the token is
  // unknown (the message does not echo the token).
  Result<Identity> authenticate(std::string_view authorization) const;

 private:
  bool enabled_ = true;
  std::map<std::string, Identity> byDigest_;  // SHA-256 of the token (raw bytes) -> identity
};

// A warning for a tokens file whose permission bits (`mode`, as stat's st_mode) let its group or
// other users read or write it, naming the file and the fix; "" when only its owner can.
std::string tokensFileModeWarning(std::string_view path, unsigned mode);

// The tokens file of a running server, re-read when it changes, so a token can be revoked or its
// role changed without a restart. authenticate() looks at the file's modification time, size and
// inode at most once per `checkEvery` (on the given clock); when any of them changed it reads the
// file again. A new file that cannot be read or is malformed leaves the previous tokens in force;
// its error (file:line, never a token) goes to `log` once per change and stays in lastError()
// until a good file is read.
class TokensFile {
 public:
  using Log = std::function<void(const std::string&)>;

  // Reads `path`. Errors as Authenticator::fromFile (a server must not start on a bad file).
  static Result<std::unique_ptr<TokensFile>> open(std::string path, Clock& clock,
                                                  Duration checkEvery, Log log);

  // As Authenticator::authenticate, with the tokens in force after a possible re-read.
  Result<Identity> authenticate(std::string_view authorization);

  // Tokens in force.
  size_t size() const;
  // Successful re-reads since open(), and re-reads that failed (previous tokens kept).
  uint64_t reloads() const;
  uint64_t reloadErrors() const;
  // The error of the newest file version when it could not be used; "" when the tokens in force
  // are the file's current content.
  std::string lastError() const;

 private:
  struct FileStamp {
    int64_t mtimeNs = -1;
    int64_t size = -1;
    uint64_t inode = 0;
    bool operator==(const FileStamp&) const = default;
  };
  TokensFile(std::string path, Clock& clock, Duration checkEvery, Log log);
  static FileStamp stamp(const std::string& path);
  // Re-reads the file when due and changed. Called with mu_ held.
  void maybeReload();

  const std::string path_;
  Clock& clock_;
  const Duration checkEvery_;
  const Log log_;
  mutable std::mutex mu_;
  std::shared_ptr<const Authenticator> current_;
  FileStamp stamp_;
  Time lastCheck_{};
  uint64_t reloads_ = 0;
  uint64_t reloadErrors_ = 0;
  std::string lastError_;
};

// Ok when `identity` has at least `required`; kPermissionDenied naming both roles otherwise.
Status authorize(const Identity& identity, Role required, std::string_view what);

}  // namespace ramp::api
