#pragma once

// Redactor: hides secret values (passwords, tokens, secretKeyRef arguments) in any text that may
// be shown to a user or written to a log: measurement messages, errors, events.
//
// A Redactor holds a set of known secret values and replaces every occurrence of any of them
// with "*****" (Argo's spelling). Longer secrets are replaced first, so a secret that contains
// another is hidden whole. As in Argo, every non-empty value is a secret, however short: a
// message garbled by masking a one-letter secret is better than a secret shown.
//
// isSecretName() is the one rule for which header and field names carry a credential; every
// provider asks it before showing a header's value. ramp has no other redactor.
//
// Thread safety: add() and redact() may be called concurrently from any threads.

#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ramp {

class Redactor {
 public:
  static constexpr std::string_view kMask = "*****";

  Redactor() = default;
  explicit Redactor(const std::vector<std::string>& secrets);
  Redactor(const Redactor& other);
  Redactor& operator=(const Redactor& other);

  // Registers `secret`; later redact() calls hide it. The empty string is ignored.
  void add(std::string secret);

  // Registers `value` when isSecretName(name), e.g. for an HTTP header.
  void addIfSecret(std::string_view name, std::string value);

  // Returns `text` with every registered secret replaced by kMask.
  std::string redact(std::string_view text) const;

  // Returns the number of registered secrets.
  size_t size() const;

 private:
  struct LongestFirst {
    bool operator()(const std::string& a, const std::string& b) const {
      return a.size() != b.size() ? a.size() > b.size() : a < b;
    }
  };
  mutable std::mutex mu_;
  std::set<std::string, LongestFirst> secrets_;
};

// True when a header or field called `name` carries a credential, ignoring case: its value is
// masked wherever it could be printed. The names: Authorization, Proxy-Authorization, Cookie,
// Set-Cookie, and any name containing "auth", "token", "key", "secret", "passw", "cookie",
// "session" or "credential" (X-Api-Key, X-Auth-Token, clientSecret, password, …).
bool isSecretName(std::string_view name);

}  // namespace ramp
