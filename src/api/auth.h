#pragma once

// Authentication and authorisation of API requests: bearer tokens from a tokens file, each with a
// name and a role (viewer < operator < admin).
//
// Tokens file: one token per line, "TOKEN,NAME,ROLE" (as Kubernetes' static token file: token
// first), '#' starts a comment, blank lines are ignored. Tokens are kept only as SHA-256 digests
// and are never printed; errors name the file and line, never the token.
//
// Thread safety: immutable after construction; authenticate() may be called from any thread.

#include <map>
#include <string>
#include <string_view>

#include "api/types.h"
#include "ramp/error.h"

namespace ramp::api {

class Authenticator {
 public:
  // Authentication off: every request is {"local", admin}. The server then listens on loopback
  // only.
  static Authenticator disabled();

  // Reads a tokens file. Errors: kNotFound / kUnavailable when it cannot be read;
  // kInvalidArgument naming file:line for a malformed line, an unknown role, a token shorter than
  // 16 characters, a repeated token, or a file with no tokens.
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

// Ok when `identity` has at least `required`; kPermissionDenied naming both roles otherwise.
Status authorize(const Identity& identity, Role required, std::string_view what);

}  // namespace ramp::api
