#include "common/redact.h"

namespace ramp {

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
  if (secret.size() < kMinSecretLength) return;
  std::lock_guard lock(mu_);
  secrets_.insert(std::move(secret));
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
