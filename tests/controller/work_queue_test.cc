#include "controller/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>

#include "fakes/simulated_clock.h"

namespace ramp::controller {
namespace {

using ramp::testing::SimulatedClock;
using std::chrono::milliseconds;

class WorkQueueTest : public ::testing::Test {
 protected:
  std::optional<std::string> next() { return q_.tryGet(clock_.now()); }

  SimulatedClock clock_;
  WorkQueue q_{clock_};
};

TEST_F(WorkQueueTest, DedupesKeysQueuedBeforeProcessing) {
  q_.add("a");
  q_.add("b");
  q_.add("a");
  EXPECT_EQ(q_.len(), 2u);
  EXPECT_EQ(next(), "a");
  EXPECT_EQ(next(), "b");
  EXPECT_EQ(next(), std::nullopt);
}

TEST_F(WorkQueueTest, KeyBeingProcessedIsNotHandedOutAgain) {
  q_.add("a");
  ASSERT_EQ(next(), "a");
  q_.add("a");  // arrives while processing: dirty, not queued
  EXPECT_EQ(q_.len(), 0u);
  EXPECT_EQ(next(), std::nullopt);
  q_.done("a");
  EXPECT_EQ(next(), "a");  // processed again after done
}

TEST_F(WorkQueueTest, DoneWithoutReAddDoesNotRequeue) {
  q_.add("a");
  ASSERT_EQ(next(), "a");
  q_.done("a");
  EXPECT_EQ(next(), std::nullopt);
}

TEST_F(WorkQueueTest, DirtyReAddsCollapseToOne) {
  q_.add("a");
  ASSERT_EQ(next(), "a");
  q_.add("a");
  q_.add("a");
  q_.done("a");
  EXPECT_EQ(q_.len(), 1u);
  EXPECT_EQ(next(), "a");
  q_.done("a");
  EXPECT_EQ(next(), std::nullopt);
}

TEST_F(WorkQueueTest, AddAfterWaitsForTheClock) {
  q_.addAfter("a", milliseconds(100));
  EXPECT_EQ(next(), std::nullopt);
  EXPECT_EQ(q_.nextDueTime(), clock_.now() + milliseconds(100));
  clock_.advance(milliseconds(99));
  EXPECT_EQ(next(), std::nullopt);
  clock_.advance(milliseconds(1));
  EXPECT_EQ(next(), "a");
  EXPECT_EQ(q_.nextDueTime(), std::nullopt);
}

TEST_F(WorkQueueTest, DelayedKeysComeOutInDueOrder) {
  q_.addAfter("late", milliseconds(30));
  q_.addAfter("early", milliseconds(10));
  q_.addAfter("middle", milliseconds(20));
  clock_.advance(milliseconds(30));
  EXPECT_EQ(next(), "early");
  EXPECT_EQ(next(), "middle");
  EXPECT_EQ(next(), "late");
}

TEST_F(WorkQueueTest, EarlierDueTimeWinsForAWaitingKey) {
  q_.addAfter("a", milliseconds(50));
  q_.addAfter("a", milliseconds(10));
  q_.addAfter("a", milliseconds(40));  // later: ignored
  EXPECT_EQ(q_.waiting(), 1u);
  clock_.advance(milliseconds(10));
  EXPECT_EQ(next(), "a");
  q_.done("a");
  clock_.advance(milliseconds(100));
  EXPECT_EQ(next(), std::nullopt);  // only one entry existed
}

TEST_F(WorkQueueTest, ZeroDelayAddsNow) {
  q_.addAfter("a", milliseconds(0));
  EXPECT_EQ(next(), "a");
}

TEST_F(WorkQueueTest, DueKeyWhileProcessingRunsAfterDone) {
  q_.add("a");
  ASSERT_EQ(next(), "a");
  q_.addAfter("a", milliseconds(5));
  clock_.advance(milliseconds(5));
  EXPECT_EQ(next(), std::nullopt);  // still processing
  q_.done("a");
  EXPECT_EQ(next(), "a");
}

TEST_F(WorkQueueTest, BackoffDoublesFromOneMillisecondAndCapsAtTenSeconds) {
  std::vector<int64_t> delays;
  for (int i = 0; i < 16; ++i) {
    delays.push_back(q_.nextBackoff("a").count());
    q_.addRateLimited("a");
    // The key becomes ready exactly after the delay, not before.
    Time due = *q_.nextDueTime();
    EXPECT_EQ(due - clock_.now(), milliseconds(delays.back()));
    clock_.set(due - milliseconds(1));
    EXPECT_EQ(next(), std::nullopt);
    clock_.set(due);
    ASSERT_EQ(next(), "a");
    q_.done("a");
  }
  std::vector<int64_t> want = {1,   2,   4,    8,    16,   32,   64,    128,
                               256, 512, 1024, 2048, 4096, 8192, 10000, 10000};
  EXPECT_EQ(delays, want);
  EXPECT_EQ(q_.numRequeues("a"), 16);
}

TEST_F(WorkQueueTest, BackoffIsPerKey) {
  for (int i = 0; i < 5; ++i) q_.addRateLimited("a");
  EXPECT_EQ(q_.nextBackoff("a"), milliseconds(32));
  EXPECT_EQ(q_.nextBackoff("b"), milliseconds(1));
}

TEST_F(WorkQueueTest, ForgetResetsBackoff) {
  for (int i = 0; i < 5; ++i) q_.addRateLimited("a");
  q_.forget("a");
  EXPECT_EQ(q_.numRequeues("a"), 0);
  EXPECT_EQ(q_.nextBackoff("a"), milliseconds(1));
}

TEST_F(WorkQueueTest, ShutdownDrainsQueuedKeysAndDropsTimers) {
  q_.add("a");
  q_.add("b");
  q_.addAfter("c", milliseconds(10));
  ASSERT_EQ(next(), "a");
  q_.shutDown();
  EXPECT_TRUE(q_.shuttingDown());
  q_.add("d");  // ignored
  q_.add("a");  // ignored: no re-queue after shutdown
  q_.done("a");
  clock_.advance(milliseconds(10));
  EXPECT_EQ(next(), "b");  // already queued: still handed out
  EXPECT_EQ(next(), std::nullopt);
  EXPECT_EQ(q_.get(), std::nullopt);  // blocking form returns at once when shut down and empty
}

TEST_F(WorkQueueTest, CustomBackoffOptions) {
  WorkQueue q(clock_, WorkQueueOptions{milliseconds(5), milliseconds(12)});
  EXPECT_EQ(q.nextBackoff("x"), milliseconds(5));
  q.addRateLimited("x");
  EXPECT_EQ(q.nextBackoff("x"), milliseconds(10));
  q.addRateLimited("x");
  EXPECT_EQ(q.nextBackoff("x"), milliseconds(12));
}

// --- one worker iteration (reconcileOnce), stepped on the simulated clock ---

TEST_F(WorkQueueTest, FailedReconcileIsRetriedWithBackoffAndReported) {
  std::vector<std::string> errors;
  auto observer = [&](const std::string& key, const Error& e) {
    errors.push_back(key + ": " + e.message);
  };
  int calls = 0;
  ReconcileHandler failTwice = [&](const std::string&) -> Result<ReconcileOutcome> {
    if (++calls <= 2) return makeError(ErrorCode::kUnavailable, "store busy");
    return ReconcileOutcome{};
  };
  q_.add("a");
  reconcileOnce(q_, *next(), failTwice, observer);
  EXPECT_EQ(next(), std::nullopt);  // waiting 1 ms
  clock_.advance(milliseconds(1));
  reconcileOnce(q_, *next(), failTwice, observer);
  clock_.advance(milliseconds(1));
  EXPECT_EQ(next(), std::nullopt);  // second failure: 2 ms
  clock_.advance(milliseconds(1));
  reconcileOnce(q_, *next(), failTwice, observer);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(errors, (std::vector<std::string>{"a: store busy", "a: store busy"}));
  EXPECT_EQ(q_.numRequeues("a"), 0);  // success forgot the failures
  EXPECT_EQ(q_.waiting(), 0u);
  EXPECT_EQ(q_.processing(), 0u);
}

TEST_F(WorkQueueTest, ExceptionFromHandlerCountsAsFailure) {
  std::string seen;
  q_.add("a");
  reconcileOnce(
      q_, *next(),
      [](const std::string&) -> Result<ReconcileOutcome> { throw std::runtime_error("boom"); },
      [&](const std::string&, const Error& e) { seen = e.message; });
  EXPECT_EQ(seen, "reconcile threw: boom");
  EXPECT_EQ(q_.numRequeues("a"), 1);
  EXPECT_EQ(q_.waiting(), 1u);
}

TEST_F(WorkQueueTest, RequeueAfterSchedulesTheNextReconcile) {
  q_.add("a");
  reconcileOnce(
      q_, *next(),
      [](const std::string&) -> Result<ReconcileOutcome> {
        return ReconcileOutcome{milliseconds(30'000)};
      },
      nullptr);
  EXPECT_EQ(q_.nextDueTime(), clock_.now() + milliseconds(30'000));
  clock_.advance(milliseconds(29'999));
  EXPECT_EQ(next(), std::nullopt);
  clock_.advance(milliseconds(1));
  EXPECT_EQ(next(), "a");
}

TEST_F(WorkQueueTest, ResyncPattern) {
  // A reserved key whose handler re-adds every object and schedules itself again.
  const Duration period = milliseconds(900'000);
  std::vector<std::string> objects = {"Rollout/default/a", "Rollout/default/b"};
  ReconcileHandler handler = [&](const std::string& key) -> Result<ReconcileOutcome> {
    if (key == "resync") {
      for (const auto& k : objects) q_.add(k);
      return ReconcileOutcome{period};
    }
    return ReconcileOutcome{};
  };
  q_.addAfter("resync", period);
  q_.add("Rollout/default/a");  // an ordinary change, handled before the resync is due
  clock_.advance(period);
  std::vector<std::string> order;
  while (auto k = next()) {
    order.push_back(*k);
    reconcileOnce(q_, *k, handler, nullptr);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"Rollout/default/a", "resync", "Rollout/default/a",
                                             "Rollout/default/b"}));
  EXPECT_EQ(q_.nextDueTime(), clock_.now() + period);
}

// Real threads, real clock: a slow key does not hold up others; failures are retried with
// backoff; requeueAfter re-runs a key; stop() lets the in-flight item finish.
TEST(WorkerPoolTest, SlowKeyDoesNotBlockOthersAndErrorsRetry) {
  WorkQueue q(realClock());
  std::mutex mu;
  std::condition_variable cv;
  bool releaseSlow = false;
  bool slowStarted = false;
  std::set<std::string> finished;
  std::atomic<int> flakyCalls{0};
  std::atomic<int> periodicCalls{0};
  std::atomic<int> concurrentSlow{0};
  std::atomic<bool> overlap{false};
  int slowRuns = 0;

  WorkerPool pool(
      q,
      [&](const std::string& key) -> Result<ReconcileOutcome> {
        if (key == "slow") {
          if (concurrentSlow.fetch_add(1) > 0) overlap = true;
          std::unique_lock lock(mu);
          slowStarted = true;
          cv.notify_all();
          cv.wait(lock, [&] { return releaseSlow; });
          finished.insert(key);
          ++slowRuns;
          concurrentSlow.fetch_sub(1);
          cv.notify_all();
          return ReconcileOutcome{};
        }
        if (key == "flaky" && flakyCalls.fetch_add(1) < 3) {
          return makeError(ErrorCode::kUnavailable, "try again");
        }
        if (key == "periodic" && periodicCalls.fetch_add(1) < 2) {
          return ReconcileOutcome{milliseconds(1)};
        }
        std::lock_guard lock(mu);
        finished.insert(key);
        cv.notify_all();
        return ReconcileOutcome{};
      },
      3);
  pool.start();
  q.add("slow");
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return slowStarted; });
  }
  q.add("slow");  // dirty while processing: must run again, never concurrently
  for (const char* k : {"a", "b", "flaky", "periodic"}) q.add(k);
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] {
      return finished.contains("a") && finished.contains("b") && finished.contains("flaky") &&
             finished.contains("periodic");
    }));
    EXPECT_FALSE(finished.contains("slow"));  // still held, yet everything else finished
    releaseSlow = true;
    cv.notify_all();
  }
  EXPECT_EQ(flakyCalls.load(), 4);
  EXPECT_EQ(periodicCalls.load(), 3);
  {
    // The add() that arrived while "slow" was processing runs it a second time.
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return slowRuns == 2; }));
  }
  pool.stop();
  EXPECT_FALSE(overlap.load());
  EXPECT_TRUE(finished.contains("slow"));
}

TEST(WorkerPoolTest, StopWaitsForTheCurrentItem) {
  WorkQueue q(realClock());
  std::mutex mu;
  std::condition_variable cv;
  bool inHandler = false;
  bool release = false;
  bool sawShutdownBeforeReturning = false;
  bool completed = false;
  WorkerPool pool(
      q,
      [&](const std::string&) -> Result<ReconcileOutcome> {
        std::unique_lock lock(mu);
        inHandler = true;
        cv.notify_all();
        cv.wait(lock, [&] { return release; });
        sawShutdownBeforeReturning = q.shuttingDown();
        completed = true;
        return ReconcileOutcome{};
      },
      1);
  pool.start();
  q.add("k");
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return inHandler; });
  }
  std::thread stopper([&] { pool.stop(); });
  while (!q.shuttingDown()) std::this_thread::yield();
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  stopper.join();  // returns only after the in-flight item finished
  std::lock_guard lock(mu);
  EXPECT_TRUE(completed);
  EXPECT_TRUE(sawShutdownBeforeReturning);
}

TEST(WorkerPoolTest, ABacklogIsTakenInBatchesOfTheWorkersShare) {
  WorkQueue q(realClock());
  for (int i = 0; i < 10; ++i) q.add("k" + std::to_string(i));
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::vector<std::string>> batches;
  size_t ended = 0;
  WorkerPool pool(
      q,
      [](const std::string&) -> Result<ReconcileOutcome> {
        return makeError(ErrorCode::kInternal, "per-key handler used");
      },
      1);
  pool.setBatchHandler(
      [&](const std::vector<std::string>& keys) {
        for (const auto& key : keys) {
          applyOutcome(q, key, ReconcileOutcome{}, nullptr);
        }
        std::lock_guard lock(mu);
        batches.push_back(keys);
        ended += keys.size();
        cv.notify_all();
      },
      4);
  pool.start();
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return ended == 10; });
  }
  pool.stop();
  // One worker, a backlog of 10: its share is all of it, up to 4 at a time, in queue order.
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0], (std::vector<std::string>{"k0", "k1", "k2", "k3"}));
  EXPECT_EQ(batches[1], (std::vector<std::string>{"k4", "k5", "k6", "k7"}));
  EXPECT_EQ(batches[2], (std::vector<std::string>{"k8", "k9"}));
  EXPECT_EQ(q.processing(), 0u);
}

TEST_F(WorkQueueTest, TryGetQueuedTakesOnlyWhatIsAlreadyQueued) {
  q_.addAfter("later", milliseconds(5));
  EXPECT_EQ(q_.tryGetQueued(), std::nullopt);
  clock_.advance(milliseconds(5));
  EXPECT_EQ(q_.tryGetQueued(), std::nullopt) << "due, but no timer is promoted";
  q_.add("now");
  EXPECT_EQ(q_.tryGetQueued(), std::optional<std::string>("now"));
  EXPECT_EQ(q_.processing(), 1u);
  EXPECT_EQ(next(), std::optional<std::string>("later"));
}

}  // namespace
}  // namespace ramp::controller
