#pragma once

// EventSender: writes the Kubernetes store's Events to the API server in the background, one at
// a time and in the order they were sent, as client-go's event broadcaster does for Argo
// Rollouts. A controller worker that records a decision's Events does not wait for them: at the
// client's rate limit a worker that wrote its Events itself held the next Rollout's ReplicaSet
// create behind them (the canary ReplicaSet's p95 was four times Argo's, docs/performance.md).
//
// An Event is a report, not state: the decision it reports is already in the Rollout's status
// and in the audit log when the Event is sent. So a write that fails is retried a few times
// (an unavailable server, a timeout, a 5xx, a 429), then given up and reported through `written`
// and the daemon's log; it never fails the decision.
//
// Threading: send() and flush() may be called from any thread. `written` runs on the sender's
// thread, never under the sender's lock; it may call back into the store but not into send()
// of this sender while the destructor runs.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "kube/client.h"
#include "ramp/clock.h"
#include "ramp/error.h"

namespace ramp::store::kubernetes {

// One Event write: a create of the Event object `name`, or, when `patch` is set, a merge patch
// of it that folds a repeat into it (eventSeriesPatch). A patch of an Event the server no longer
// has (it expired, or its create was given up) creates it from `body` instead.
struct EventWrite {
  std::string namespace_;
  std::string name;
  std::string body;   // the whole Event object (eventBody)
  std::string patch;  // "" = create
  int64_t count = 1;  // the Event's series count after this write
  std::string about;  // for messages: "Rollout default/web RolloutCompleted"
};

struct EventSenderOptions {
  int maxTries = 5;                       // per write, the first included
  Duration firstBackoff = Duration(500);  // doubled after each failed try
  Duration maxBackoff = Duration(8'000);
  // At most this many writes wait; send() refuses more (client-go's broadcaster drops beyond
  // 1,000; more here, so that the first sync of thousands of Rollouts keeps its Events, which
  // wait behind the client's rate limit): memory stays bounded while the server is slow or away.
  size_t maxQueued = 10'000;
  // How long the destructor keeps writing what is queued (within a Pod's default 30 s grace).
  Duration drainTimeout = Duration(10'000);
};

class EventSender {
 public:
  // Called once per write when it is done: the server's reply (the Event object) on success,
  // else the last error.
  using Written = std::function<void(const EventWrite&, const Result<std::string>&)>;

  // Starts the sender's thread. `client` and `clock` must outlive the sender.
  EventSender(kube::Client& client, Clock& clock, Written written, EventSenderOptions options = {});
  // Writes what is queued, each tried once more at most, for at most options.drainTimeout: when
  // a write fails while stopping, or the time is up, the ones after it are given up (reported
  // as kCancelled) rather than hold up the daemon's exit (a backlog at the client's rate limit,
  // a server that is not answering). Then joins the thread.
  ~EventSender();

  EventSender(const EventSender&) = delete;
  EventSender& operator=(const EventSender&) = delete;

  // Begins stopping, as the destructor does first: from now on each write is tried once, and
  // the drain's time runs (see the destructor). Returns at once; send() still queues.
  void stop();

  // Queues `write` behind those sent before it. false (and nothing queued, nothing reported)
  // when options.maxQueued writes are waiting already.
  bool send(EventWrite write);
  // Waits until every write sent before the call is done (written or given up), at most
  // `timeout`. Returns false when some are still under way at the deadline.
  bool flush(Duration timeout);

 private:
  void run();
  // One write with its retries. Returns its outcome.
  Result<std::string> attempt(const EventWrite& write);
  Result<std::string> once(const EventWrite& write, int tryNumber);

  kube::Client& client_;
  Clock& clock_;
  const Written written_;
  const EventSenderOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;  // a write was queued, one is done, or stopping_
  std::deque<EventWrite> queue_;
  uint64_t sent_ = 0;  // writes queued so far
  uint64_t done_ = 0;  // of those, done
  bool stopping_ = false;
  std::thread thread_;  // last: started when the rest is ready
};

}  // namespace ramp::store::kubernetes
