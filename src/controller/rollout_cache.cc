#include "controller/rollout_cache.h"

#include <algorithm>

namespace ramp::controller {

std::shared_ptr<const RolloutCache::Entry> RolloutCache::find(const std::string& key,
                                                              int64_t version) {
  std::lock_guard lock(mu_);
  auto it = slots_.find(key);
  if (it == slots_.end()) return nullptr;
  if (it->second.entry->version != version) {
    order_.erase(it->second.position);
    slots_.erase(it);
    return nullptr;
  }
  order_.splice(order_.begin(), order_, it->second.position);
  return it->second.entry;
}

void RolloutCache::put(const std::string& key, std::shared_ptr<const Entry> entry) {
  if (capacity_ == 0) return;
  std::lock_guard lock(mu_);
  auto it = slots_.find(key);
  if (it != slots_.end()) {
    it->second.entry = std::move(entry);
    order_.splice(order_.begin(), order_, it->second.position);
    return;
  }
  order_.push_front(key);
  slots_.emplace(key, Slot{std::move(entry), order_.begin()});
  highWater_ = std::max(highWater_, slots_.size());
  while (slots_.size() > capacity_) {
    slots_.erase(order_.back());
    order_.pop_back();
  }
}

bool RolloutCache::erase(const std::string& key, size_t burst) {
  std::lock_guard lock(mu_);
  auto it = slots_.find(key);
  if (it == slots_.end()) return false;
  order_.erase(it->second.position);
  slots_.erase(it);
  if (!slots_.empty()) return false;
  const bool burstOver = highWater_ >= burst;
  highWater_ = 0;
  return burstOver;
}

size_t RolloutCache::size() const {
  std::lock_guard lock(mu_);
  return slots_.size();
}

}  // namespace ramp::controller
