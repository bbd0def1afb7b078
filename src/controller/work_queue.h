#pragma once

// WorkQueue: the controller's queue of objects to reconcile, keyed by object key string
// (ObjectKey::toString()). Semantics follow client-go's rate-limited work queue:
//
// - Dedupe: a key queued several times before a worker takes it is processed once.
// - One at a time: a key handed to a worker is "processing" until done(key); it is never handed
//   to a second worker meanwhile. Adding it while it is processing marks it dirty, and done()
//   puts it back in the queue, so the change that arrived during processing is not lost.
// - Delays: addAfter(key, d) queues the key once the injected Clock reaches now + d; a key that
//   is already waiting keeps the earlier of its two due times.
// - Backoff: addRateLimited(key) waits 1 ms after the first failure, doubling per consecutive
//   failure, capped at 10 s (Argo Rollouts' limiter; client-go's 16 min cap caused hangs, Argo
//   issue #1193). forget(key) resets the count after a success.
// - Shutdown: shutDown() stops accepting adds and drops waiting timers; keys already queued are
//   still handed out, then get() returns nullopt so workers exit after their current item.
//
// The queue is steppable: tryGet(now) and nextDueTime() let a test drive it with a
// SimulatedClock, no threads or sleeps. get() is the blocking form for worker threads; it waits
// on a condition variable until the next due time computed from the Clock.
//
// Threading: every method is thread-safe.
//
// WorkerPool runs N threads that take keys and call a reconcile handler; see below.
//
// Periodic resync (Argo: --rollout-resync, 900 s) needs no extra machinery: queue a reserved key
// (e.g. "resync") with addAfter(period); its handler lists the objects, add()s every key and
// returns requeueAfter = period. Because add() dedupes, a resync never doubles work already
// queued. (tests/controller/work_queue_test.cc, ResyncPattern.)

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ramp/clock.h"
#include "ramp/error.h"

namespace ramp::controller {

struct WorkQueueOptions {
  Duration baseBackoff = Duration(1);      // first retry delay
  Duration maxBackoff = Duration(10'000);  // cap of the doubling
};

class WorkQueue {
 public:
  explicit WorkQueue(Clock& clock, WorkQueueOptions options = {});

  // Queues `key` now. No effect if it is already queued, or while shutting down; if it is being
  // processed, it is queued again when done(key) is called.
  void add(const std::string& key);

  // Queues `key` once the clock reaches now + delay (delay <= 0: add() now). If the key is
  // already waiting, the earlier due time wins. Ignored while shutting down.
  void addAfter(const std::string& key, Duration delay);

  // Counts a failure of `key` and queues it after backoff(key) (1 ms, 2 ms, 4 ms, … ≤ 10 s).
  void addRateLimited(const std::string& key);

  // Resets the failure count of `key` (call after a successful reconcile).
  void forget(const std::string& key);

  // Consecutive failures counted for `key` since the last forget().
  int numRequeues(const std::string& key) const;

  // The delay the next addRateLimited(key) will use.
  Duration nextBackoff(const std::string& key) const;

  // Steppable form: moves every waiting key due at or before `now` into the queue, then takes
  // the first queued key (marking it processing). nullopt if nothing is ready.
  std::optional<std::string> tryGet(Time now);

  // The earliest due time of a waiting key; nullopt if none waits.
  std::optional<Time> nextDueTime() const;

  // Takes the first key already queued (no timer is promoted, never waits); nullopt if none.
  std::optional<std::string> tryGetQueued();

  // Blocking form for worker threads: waits until a key is ready (using the Clock for due
  // times) and takes it. Returns nullopt once shut down and the queue is empty. The wait for a
  // due time is a condition-variable wait of (due - clock.now()) real time, so with a
  // SimulatedClock drive the queue with tryGet() instead.
  std::optional<std::string> get();

  // Marks `key` no longer processing; re-queues it if it was added meanwhile.
  void done(const std::string& key);

  // Stops accepting adds, drops waiting keys, wakes every blocked get().
  void shutDown();
  bool shuttingDown() const;

  // Keys queued and ready (not counting waiting or processing ones).
  size_t len() const;
  // Keys waiting for their due time.
  size_t waiting() const;
  // Keys handed to workers and not yet done().
  size_t processing() const;

 private:
  void addLocked(const std::string& key);
  void addAfterLocked(const std::string& key, Time due);
  void promoteDueLocked(Time now);
  std::optional<std::string> popLocked();
  Duration backoffFor(int failures) const;

  Clock& clock_;
  const WorkQueueOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;       // queued or to be re-queued after processing
  std::unordered_set<std::string> processing_;  // handed to a worker, not yet done()
  std::map<std::string, std::pair<Time, uint64_t>> waitingByKey_;  // due time, sequence
  std::set<std::tuple<Time, uint64_t, std::string>> waitingByTime_;
  uint64_t seq_ = 0;  // keeps equal due times in insertion order
  std::unordered_map<std::string, int> failures_;
  bool shuttingDown_ = false;
};

// What a reconcile asks of the queue after a success.
struct ReconcileOutcome {
  std::optional<Duration> requeueAfter;  // reconcile again after this long (timers, polling)
};

// Reconciles one key. An Error result means "retry with backoff".
using ReconcileHandler = std::function<Result<ReconcileOutcome>(const std::string& key)>;

// Told about every failed reconcile (for logs and the reconcile_error metric), on the worker
// thread, before the key is re-queued. Must not block.
using ReconcileErrorObserver = std::function<void(const std::string& key, const Error& error)>;

// Runs `handler` for `key` (taken from `queue` by the caller) and applies the outcome: on success
// forget(key) and, if asked, addAfter(key, requeueAfter); on an Error, or an exception escaping
// the handler, onError (if set) then addRateLimited(key). Always ends with done(key). This is
// one worker iteration; tests call it directly to step the pool's rules on a simulated clock.
void reconcileOnce(WorkQueue& queue, const std::string& key, const ReconcileHandler& handler,
                   const ReconcileErrorObserver& onError);

// The second half of reconcileOnce: applies a finished reconcile's outcome to `key` (forget and
// addAfter, or onError and addRateLimited) and ends with done(key).
void applyOutcome(WorkQueue& queue, const std::string& key, const Result<ReconcileOutcome>& outcome,
                  const ReconcileErrorObserver& onError);

// Runs `f` (which returns a Result) and turns an exception escaping it into a kInternal error,
// so one throwing reconcile cannot take its worker down.
template <class F>
auto guardReconcile(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInternal, std::string("reconcile threw: ") + e.what());
  } catch (...) {
    return makeError(ErrorCode::kInternal, "reconcile threw a non-standard exception");
  }
}

// Several keys taken from the queue at once (WorkerPool::setBatchHandler). The handler must
// end every key as reconcileOnce would (applyOutcome), each exactly once.
using BatchHandler = std::function<void(const std::vector<std::string>& keys)>;

// WorkerPool: N threads that take keys from a WorkQueue and call the handler. On success the
// key's backoff is forgotten and, if asked, it is re-queued after requeueAfter; on an Error (or
// an exception escaping the handler) it is re-queued with addRateLimited. Because the queue
// hands a key to one worker at a time and other workers keep taking other keys, a slow handler
// for one key never blocks the others (as long as fewer keys are slow than there are workers).
//
// Threading: start() and stop() from one owning thread. The handler runs on worker threads,
// concurrently for different keys.
class WorkerPool {
 public:
  WorkerPool(WorkQueue& queue, ReconcileHandler handler, int workers,
             ReconcileErrorObserver onError = nullptr);
  ~WorkerPool();  // stop()

  // Before start(): each worker takes the key it waited for plus, while more keys are queued
  // than there are workers, up to its share of that backlog (at most maxBatch in all), and
  // hands them to `handler` together instead of calling the per-key handler for each.
  void setBatchHandler(BatchHandler handler, size_t maxBatch);

  // Starts the threads. Call once.
  void start();

  // Shuts the queue down and waits for every worker to finish its current item and exit.
  // Idempotent.
  void stop();

 private:
  void run();

  WorkQueue& queue_;
  ReconcileHandler handler_;
  ReconcileErrorObserver onError_;
  BatchHandler batchHandler_;
  size_t maxBatch_ = 1;
  const int workers_;
  std::vector<std::thread> threads_;
};

}  // namespace ramp::controller
