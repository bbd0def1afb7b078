#include "controller/claim_index.h"

#include <algorithm>

namespace ramp::controller {

void ClaimIndex::reset(const std::vector<ClaimHolder>& claims) {
  std::lock_guard lock(mu_);
  byResource_.clear();
  byRollout_.clear();
  for (const ClaimHolder& c : claims) {
    byResource_[c.claim.resource].push_back(c);
    byRollout_[c.rolloutKey].push_back(c.claim.resource);
  }
}

std::vector<spec::Diagnostic> ClaimIndex::update(const std::string& rolloutKey,
                                                 const std::vector<ClaimHolder>& claims,
                                                 std::vector<std::string>& displaced) {
  std::lock_guard lock(mu_);
  eraseLocked(rolloutKey);
  std::vector<ClaimHolder> others;
  for (const ClaimHolder& c : claims) {
    auto it = byResource_.find(c.claim.resource);
    if (it != byResource_.end()) others.insert(others.end(), it->second.begin(), it->second.end());
  }
  for (const ClaimHolder& c : claims) {
    byResource_[c.claim.resource].push_back(c);
    byRollout_[rolloutKey].push_back(c.claim.resource);
  }
  std::vector<spec::Diagnostic> lost = claimConflicts(claims, others);
  for (const ClaimHolder& o : others) {
    // A claimant that loses to one of `claims` is displaced (it may have been acting alone).
    if (!claimConflicts({o}, claims).empty() &&
        std::find(displaced.begin(), displaced.end(), o.rolloutKey) == displaced.end()) {
      displaced.push_back(o.rolloutKey);
    }
  }
  return lost;
}

std::vector<std::string> ClaimIndex::erase(const std::string& rolloutKey) {
  std::lock_guard lock(mu_);
  std::vector<std::string> heirs;
  if (auto it = byRollout_.find(rolloutKey); it != byRollout_.end()) {
    for (const std::string& resource : it->second) {
      auto r = byResource_.find(resource);
      if (r == byResource_.end()) continue;
      for (const ClaimHolder& c : r->second) {
        if (c.rolloutKey != rolloutKey &&
            std::find(heirs.begin(), heirs.end(), c.rolloutKey) == heirs.end()) {
          heirs.push_back(c.rolloutKey);
        }
      }
    }
  }
  eraseLocked(rolloutKey);
  return heirs;
}

void ClaimIndex::eraseLocked(const std::string& rolloutKey) {
  auto it = byRollout_.find(rolloutKey);
  if (it == byRollout_.end()) return;
  for (const std::string& resource : it->second) {
    auto r = byResource_.find(resource);
    if (r == byResource_.end()) continue;
    std::erase_if(r->second, [&](const ClaimHolder& c) { return c.rolloutKey == rolloutKey; });
    if (r->second.empty()) byResource_.erase(r);
  }
  byRollout_.erase(it);
}

}  // namespace ramp::controller
