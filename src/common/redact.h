#pragma once

// Redactor: hides secret values (passwords, tokens, secretKeyRef arguments) in any text that may
// be shown to a user or written to a log: measurement messages, errors, events.
//
// A Redactor holds a set of known secret values and replaces every occurrence of any of them
// with "*****" (Argo's spelling). Longer secrets are replaced first, so a secret that contains
// another is hidden whole. Values shorter than kMinSecretLength are ignored: replacing "a" or ""
// everywhere would destroy the message without protecting anything.
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
  static constexpr size_t kMinSecretLength = 3;

  Redactor() = default;
  explicit Redactor(const std::vector<std::string>& secrets);
  Redactor(const Redactor& other);
  Redactor& operator=(const Redactor& other);

  // Registers `secret`; later redact() calls hide it. Short values are ignored (see above).
  void add(std::string secret);

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

}  // namespace ramp
