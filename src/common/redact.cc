#include "common/redact.h"

#include <array>
#include <cctype>

namespace ramp {

bool isSecretName(std::string_view name) {
  static constexpr std::array<std::string_view, 8> kParts = {
      "auth", "token", "key", "secret", "passw", "cookie", "session", "credential"};
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view part : kParts) {
    if (lower.find(part) != std::string::npos) return true;
  }
  return false;
}

Redactor::Redactor(const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) add(s);
}

Redactor::Redactor(const Redactor& other) {
  std::lock_guard lock(other.mu_);
  secrets_ = other.secrets_;
}

Redactor& Redactor::operator=(const Redactor& other) {
  if (this == &other) return *this;
  std::scoped_lock lock(mu_, other.mu_);
  secrets_ = other.secrets_;
  return *this;
}

void Redactor::add(std::string secret) {
  if (secret.empty()) return;
  std::lock_guard lock(mu_);
  secrets_.insert(std::move(secret));
}

void Redactor::addIfSecret(std::string_view name, std::string value) {
  if (isSecretName(name)) add(std::move(value));
}

size_t Redactor::size() const {
  std::lock_guard lock(mu_);
  return secrets_.size();
}

std::string Redactor::redact(std::string_view text) const {
  std::string out(text);
  std::lock_guard lock(mu_);
  for (const auto& secret : secrets_) {
    size_t pos = 0;
    while ((pos = out.find(secret, pos)) != std::string::npos) {
      out.replace(pos, secret.size(), kMask);
      pos += kMask.size();
    }
  }
  return out;
}

}  // namespace ramp
