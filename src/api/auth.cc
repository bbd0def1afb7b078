#include "api/auth.h"

#include <openssl/sha.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

namespace ramp::api {
namespace {

std::string digest(std::string_view token) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), out);
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

Authenticator Authenticator::disabled() {
  Authenticator a;
  a.enabled_ = false;
  return a;
}

Result<Authenticator> Authenticator::fromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return makeError(ErrorCode::kNotFound, "tokens file " + path + ": cannot be read");
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return fromText(buf.str(), path);
}

Result<Authenticator> Authenticator::fromText(std::string_view text, std::string_view file) {
  Authenticator a;
  std::vector<std::string> problems;  // every malformed line, in order
  size_t lineNo = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++lineNo;
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    std::string where = std::string(file) + ":" + std::to_string(lineNo) + ": ";
    size_t c1 = line.find(',');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(',', c1 + 1);
    if (c2 == std::string_view::npos || line.find(',', c2 + 1) != std::string_view::npos) {
      problems.push_back(where + "expected TOKEN,NAME,ROLE (three comma-separated fields)");
      continue;
    }
    std::string_view token = trim(line.substr(0, c1));
    std::string_view name = trim(line.substr(c1 + 1, c2 - c1 - 1));
    std::string_view role = trim(line.substr(c2 + 1));
    if (token.size() < 16) {
      problems.push_back(where + "token is too short (at least 16 characters)");
      continue;
    }
    if (name.empty()) {
      problems.push_back(where + "name is empty");
      continue;
    }
    auto r = parseRole(role);
    if (!r) {
      problems.push_back(where + "unknown role \"" + std::string(role.substr(0, 32)) +
                         "\" (viewer, operator or admin)");
      continue;
    }
    if (!a.byDigest_.emplace(digest(token), Identity{std::string(name), *r}).second) {
      problems.push_back(where + "the same token appears twice (name " + std::string(name) + ")");
    }
  }
  if (a.byDigest_.empty() && problems.empty()) {
    problems.push_back(std::string(file) + ": no tokens");
  }
  if (!problems.empty()) {
    std::string message;
    for (const std::string& p : problems) message += (message.empty() ? "" : "\n") + p;
    return makeError(ErrorCode::kInvalidArgument, message);
  }
  return a;
}

Result<Identity> Authenticator::authenticate(std::string_view authorization) const {
  if (!enabled_) return Identity{"local", Role::kAdmin};
  if (authorization.empty()) {
    return makeError(ErrorCode::kUnauthenticated,
                     "authentication required: send Authorization: Bearer TOKEN");
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                  [](char x, char y) { return std::tolower(x) == std::tolower(y); })) {
    return makeError(ErrorCode::kUnauthenticated,
                     "the Authorization header must be \"Bearer TOKEN\"");
  }
  std::string_view token = trim(authorization.substr(kBearer.size()));
  auto it = byDigest_.find(digest(token));
  if (it == byDigest_.end()) {
    return makeError(ErrorCode::kUnauthenticated, "the bearer token is not valid");
  }
  return it->second;
}

std::string tokensFileModeWarning(std::string_view path, unsigned mode) {
  if ((mode & 077) == 0) return "";
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", mode & 07777);
  std::string who = (mode & 070) != 0 && (mode & 07) != 0 ? "its group and other users"
                    : (mode & 070) != 0                   ? "its group"
                                                          : "other users";
  return "warning: tokens file " + std::string(path) + " (mode " + octal + ") can be read by " +
         who + ": chmod 600 " + std::string(path);
}

TokensFile::TokensFile(std::string path, Clock& clock, Duration checkEvery, Log log)
    : path_(std::move(path)), clock_(clock), checkEvery_(checkEvery), log_(std::move(log)) {}

Result<std::unique_ptr<TokensFile>> TokensFile::open(std::string path, Clock& clock,
                                                     Duration checkEvery, Log log) {
  // The stamp is taken before reading, so a change while reading is seen at the next check.
  FileStamp stamp = TokensFile::stamp(path);
  auto auth = Authenticator::fromFile(path);
  if (!auth) return std::unexpected(auth.error());
  if (struct stat st{}; log && ::stat(path.c_str(), &st) == 0) {
    if (auto warning = tokensFileModeWarning(path, st.st_mode); !warning.empty()) log(warning);
  }
  std::unique_ptr<TokensFile> f(new TokensFile(std::move(path), clock, checkEvery, std::move(log)));
  f->current_ = std::make_shared<const Authenticator>(std::move(*auth));
  f->stamp_ = stamp;
  f->lastCheck_ = clock.now();
  return f;
}

TokensFile::FileStamp TokensFile::stamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return FileStamp{};
  return FileStamp{static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                   static_cast<int64_t>(st.st_size), static_cast<uint64_t>(st.st_ino)};
}

void TokensFile::maybeReload() {
  Time now = clock_.now();
  if (now - lastCheck_ < checkEvery_ && now >= lastCheck_) return;
  lastCheck_ = now;
  FileStamp current = stamp(path_);
  if (current == stamp_) return;
  stamp_ = current;
  auto next = current.size < 0
                  ? makeError(ErrorCode::kNotFound, "tokens file " + path_ + ": cannot be read")
                  : Authenticator::fromFile(path_);
  std::string kept = std::to_string(current_->size());
  if (!next) {
    ++reloadErrors_;
    lastError_ = next.error().message;
    if (log_) {
      log_("tokens file changed but was not loaded, keeping the " + kept +
           " tokens in force: " + lastError_);
    }
    return;
  }
  current_ = std::make_shared<const Authenticator>(std::move(*next));
  ++reloads_;
  lastError_.clear();
  if (log_) {
    log_("tokens file " + path_ + " re-read: " + std::to_string(current_->size()) +
         " tokens (were " + kept + ")");
  }
}

Result<Identity> TokensFile::authenticate(std::string_view authorization) {
  std::shared_ptr<const Authenticator> auth;
  {
    std::lock_guard lock(mu_);
    maybeReload();
    auth = current_;
  }
  return auth->authenticate(authorization);
}

size_t TokensFile::size() const {
  std::lock_guard lock(mu_);
  return current_->size();
}

uint64_t TokensFile::reloads() const {
  std::lock_guard lock(mu_);
  return reloads_;
}

uint64_t TokensFile::reloadErrors() const {
  std::lock_guard lock(mu_);
  return reloadErrors_;
}

std::string TokensFile::lastError() const {
  std::lock_guard lock(mu_);
  return lastError_;
}

Status authorize(const Identity& identity, Role required, std::string_view what) {
  if (static_cast<int>(identity.role) >= static_cast<int>(required)) return {};
  return makeError(ErrorCode::kPermissionDenied, std::string(what) + " needs role " +
                                                     roleName(required) + "; " + identity.name +
                                                     " has role " + roleName(identity.role));
}

}  // namespace ramp::api
