#pragma once

// WatchHub: fans store changes and events out to watch streams (GET /api/v1/watch) without ever
// making a store writer wait.
//
// The store's change listener only appends the change to the hub's inbox (O(1), on the writer's
// thread). The hub's own thread formats each change once, and copies a pointer to the formatted
// frame into the bounded queue of every matching subscriber; it also polls the event log (after
// every batch of changes and at least every `pollInterval`) and fans events out the same way. A
// subscriber whose queue is full is marked overflowed and its queue dropped: its stream ends with
// an error and the client resumes from the last position it received. So a slow client costs at
// most `bufferFrames` pointers and never slows the controller or other clients.
//
// Ordering: the hub thread is the only producer, so each subscriber sees changes in revision
// order and events in id order, and the cursor (revision, eventId) carried by its frames never
// goes backwards.
//
// Thread safety: all methods may be called from any thread. Subscribers are shared_ptrs: the
// stream that owns one calls wait() from its connection thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "api/request.h"
#include "api/types.h"
#include "ramp/clock.h"
#include "ramp/store/state_store.h"

namespace ramp {
class MetricsPage;
}  // namespace ramp

namespace ramp::api {

// One SSE frame without its "id:" line: "event: …\ndata: …\n\n". The cursor is what the client's
// position is once it has this frame.
struct WatchFrame {
  bool isEvent = false;
  int64_t revision = 0;  // change: its revision; event: the hub's revision at the time
  int64_t eventId = 0;   // event: its id; change: the hub's last event id at the time
  store::ObjectKey key;
  std::shared_ptr<const std::string> text;
};

// Which objects a stream wants.
struct WatchFilter {
  const Resource* resource = nullptr;  // nullptr = every kind
  std::string namespace_;              // "" = every namespace
  std::string name;                    // "" = every object
  bool events = true;

  bool matches(const store::ObjectKey& key) const;
};

class WatchSubscriber {
 public:
  enum class State { kOpen, kOverflowed, kClosed };

  explicit WatchSubscriber(WatchFilter filter, size_t capacity)
      : filter_(std::move(filter)), capacity_(capacity) {}

  // Moves every queued frame into `out` (waiting up to `timeout` for the first one) and returns
  // the subscriber's state: kOverflowed once its queue overflowed (the frames are gone), kClosed
  // once the hub stopped.
  State wait(Duration timeout, std::vector<WatchFrame>* out);

  const WatchFilter& filter() const { return filter_; }

 private:
  friend class WatchHub;
  // Queues `frame`; returns true when this push overflowed the queue (the stream is cut off).
  bool push(const WatchFrame& frame);
  void close(State state);

  const WatchFilter filter_;
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WatchFrame> queue_;
  State state_ = State::kOpen;
};

class WatchHub {
 public:
  // `bufferFrames` (> 0) bounds each subscriber's queue.
  WatchHub(store::StateStore& store, size_t bufferFrames, Duration pollInterval);
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // Subscribes to the store, finds the current revision and the newest event id, and starts the
  // hub thread. Errors: the store's, when it cannot be read.
  Status start();
  // Stops the thread and closes every subscriber (their streams end). Idempotent.
  void stop();

  // Registers a stream. Every matching change after `at->revision` and event after `at->eventId`
  // (the hub's position, returned) will be queued for it.
  std::shared_ptr<WatchSubscriber> subscribe(WatchFilter filter, WatchCursor* at);
  void unsubscribe(const std::shared_ptr<WatchSubscriber>& subscriber);

  size_t streams() const;
  // Streams cut off because their client read too slowly.
  uint64_t cutoffs() const { return cutoffs_.load(); }

  // Declares rollout_events_total (events about Rollouts seen since start, by namespace, name,
  // type and reason) on `page`. The hub owns that name: nothing else writes it.
  void appendEventCounts(MetricsPage& page) const;

  // Makes rollout_events_total's counts again, allocated in a row (common/repack_buffer.h): a
  // start-up sync or a burst of releases grows each rollout's counts one reason at a time, and
  // leaves them scattered over allocator pages the burst's garbage half emptied. The hub's
  // thread calls it itself once at least kRepackAfterEvents events were counted since the last
  // time and none came for kRepackQuietPolls polls in a row. The counts are the same after it.
  void repackMemory();
  static constexpr int64_t kRepackAfterEvents = 1000;
  static constexpr int kRepackQuietPolls = 20;

  // Frame texts, also used by streams for their catch-up.
  static std::string changeFrameText(const store::Change& change);
  static std::string eventFrameText(const store::Event& event);

 private:
  void run();
  void fanOutChanges(std::deque<store::Change>& changes);
  int64_t pollEvents();                        // returns how many events about Rollouts it counted
  void countEvent(const store::Event& event);  // a Rollout's, into eventCounts_

  store::StateStore& store_;
  const size_t bufferFrames_;
  const Duration pollInterval_;
  int64_t listenerId_ = -1;

  // Inbox: filled by the store listener.
  std::mutex inboxMu_;
  std::condition_variable inboxCv_;
  std::deque<store::Change> inbox_;
  bool inboxOverflow_ = false;
  bool stopping_ = false;

  // Subscribers and the hub's position.
  mutable std::mutex subsMu_;
  std::vector<std::shared_ptr<WatchSubscriber>> subscribers_;
  int64_t lastRevision_ = 0;
  int64_t lastEventId_ = 0;

  // rollout_events_total, under countsMu_: per rollout (namespace, name), a count per (type,
  // reason) named by its index in eventKinds_, where each pair is kept once — a few bytes per
  // rollout and reason rather than four strings.
  struct KindCount {
    uint32_t kind;
    uint64_t count;
  };
  mutable std::mutex countsMu_;
  int64_t countedSinceRepack_ = 0;  // hub thread only
  int quietPolls_ = 0;              // hub thread only: polls in a row that counted none
  std::vector<std::pair<std::string, std::string>> eventKinds_;  // (type, reason)
  std::map<std::pair<std::string, std::string>, std::vector<KindCount>> eventCounts_;

  std::atomic<uint64_t> cutoffs_{0};
  std::thread thread_;
  bool started_ = false;
};

}  // namespace ramp::api
