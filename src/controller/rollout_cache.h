#pragma once

// RolloutCache: what the controller learnt from one stored version of a Rollout, so that the
// next reconcile of that same version does not redo it — the decoded object, the JSON of
// everything but the status (the controller's writes change only the status), and the spec's
// hashes. Level-triggered reconciles read the Rollout every time; most of those reads find the
// version the controller itself wrote last, and decoding and re-serialising it was most of a
// reconcile's CPU (docs/performance.md, Controller).
//
// An entry is valid for exactly one store version: find() with any other version misses, so a
// write by anyone else (the API, another process) is always decoded afresh. The controller
// drops the entry of a rollout that has settled (nothing to do until a change), so idle
// rollouts cost no memory here; `capacity` bounds the entries of busy ones (least recently used
// go first).
//
// Thread safety: every method may be called from any thread. Entries are immutable and shared:
// a reader keeps its entry alive while another thread replaces or drops it.

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "ramp/spec/rollout.h"
#include "rollout/engine.h"

namespace ramp::controller {

class RolloutCache {
 public:
  struct Entry {
    int64_t version = 0;                        // the store version these describe
    spec::Rollout rollout;                      // decoded (spec, metadata and status)
    std::string jsonHead;                       // spec::rolloutJsonHead(rollout)
    std::optional<rollout::SpecHashes> hashes;  // from the last Plan, when known
  };

  explicit RolloutCache(size_t capacity) : capacity_(capacity) {}

  // The entry for `key` if it describes exactly `version`; nullptr otherwise (a miss also
  // drops a stale entry).
  std::shared_ptr<const Entry> find(const std::string& key, int64_t version);

  // Stores `entry` for `key`, replacing any other; evicts the least recently used entry when
  // over capacity. A capacity of 0 stores nothing.
  void put(const std::string& key, std::shared_ptr<const Entry> entry);

  // Drops the entry of `key`. Returns true when this emptied a cache that held at least
  // `burst` entries since it was last empty: a burst of busy rollouts is over, and the memory
  // their entries held can go back to the system (the controller trims the heap then).
  bool erase(const std::string& key, size_t burst = kBurst);
  size_t size() const;

  // A trim (malloc_trim: a few milliseconds) is worth it after this many busy rollouts (at
  // 1,024, a thousand Rollouts starting at once never reached it and kept their peak resident).
  static constexpr size_t kBurst = 128;

 private:
  using Order = std::list<std::string>;  // most recently used first
  struct Slot {
    std::shared_ptr<const Entry> entry;
    Order::iterator position;
  };

  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Slot> slots_;
  Order order_;
  size_t highWater_ = 0;  // most entries held since the cache was last empty
};

}  // namespace ramp::controller
