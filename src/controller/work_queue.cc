#include "controller/work_queue.h"

#include <algorithm>
#include <exception>

namespace ramp::controller {

WorkQueue::WorkQueue(Clock& clock, WorkQueueOptions options) : clock_(clock), options_(options) {}

void WorkQueue::add(const std::string& key) {
  {
    std::lock_guard lock(mu_);
    addLocked(key);
  }
  cv_.notify_one();
}

void WorkQueue::addLocked(const std::string& key) {
  if (shuttingDown_) return;
  if (!dirty_.insert(key).second) return;  // already queued (or already marked dirty)
  if (processing_.contains(key)) return;   // re-queued by done()
  queue_.push_back(key);
}

void WorkQueue::addAfter(const std::string& key, Duration delay) {
  if (delay.count() <= 0) {
    add(key);
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (shuttingDown_) return;
    addAfterLocked(key, clock_.now() + delay);
  }
  // A sleeping get() may need to wake earlier than it planned.
  cv_.notify_all();
}

void WorkQueue::addAfterLocked(const std::string& key, Time due) {
  auto it = waitingByKey_.find(key);
  if (it != waitingByKey_.end()) {
    if (it->second.first <= due) return;  // the earlier due time wins
    waitingByTime_.erase({it->second.first, it->second.second, key});
    waitingByKey_.erase(it);
  }
  uint64_t seq = seq_++;
  waitingByKey_.emplace(key, std::pair{due, seq});
  waitingByTime_.emplace(due, seq, key);
}

Duration WorkQueue::backoffFor(int failures) const {
  // base * 2^failures, capped; the exponent is bounded before shifting so it cannot overflow.
  const int64_t base = options_.baseBackoff.count();
  const int64_t cap = options_.maxBackoff.count();
  int64_t d = base;
  for (int i = 0; i < failures && d < cap; ++i) d *= 2;
  return Duration(std::min(d, cap));
}

void WorkQueue::addRateLimited(const std::string& key) {
  Duration delay;
  {
    std::lock_guard lock(mu_);
    int& f = failures_[key];
    delay = backoffFor(f);
    ++f;
  }
  addAfter(key, delay);
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int WorkQueue::numRequeues(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

Duration WorkQueue::nextBackoff(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return backoffFor(it == failures_.end() ? 0 : it->second);
}

void WorkQueue::promoteDueLocked(Time now) {
  while (!waitingByTime_.empty()) {
    auto it = waitingByTime_.begin();
    const auto& [due, seq, key] = *it;
    if (due > now) break;
    std::string k = key;
    waitingByKey_.erase(k);
    waitingByTime_.erase(it);
    addLocked(k);
  }
}

std::optional<std::string> WorkQueue::popLocked() {
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  return key;
}

std::optional<std::string> WorkQueue::tryGet(Time now) {
  std::lock_guard lock(mu_);
  promoteDueLocked(now);
  return popLocked();
}

std::optional<std::string> WorkQueue::tryGetQueued() {
  std::lock_guard lock(mu_);
  return popLocked();
}

std::optional<Time> WorkQueue::nextDueTime() const {
  std::lock_guard lock(mu_);
  if (waitingByTime_.empty()) return std::nullopt;
  return std::get<0>(*waitingByTime_.begin());
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!shuttingDown_) promoteDueLocked(clock_.now());
    if (auto key = popLocked()) {
      // Several keys may have become ready at once: let another worker look too.
      if (!queue_.empty()) cv_.notify_one();
      return key;
    }
    if (shuttingDown_) return std::nullopt;
    if (waitingByTime_.empty()) {
      cv_.wait(lock);
    } else {
      Duration wait = std::get<0>(*waitingByTime_.begin()) - clock_.now();
      if (wait.count() > 0) cv_.wait_for(lock, wait);
    }
  }
}

void WorkQueue::done(const std::string& key) {
  bool requeued = false;
  {
    std::lock_guard lock(mu_);
    processing_.erase(key);
    if (dirty_.contains(key)) {
      queue_.push_back(key);
      requeued = true;
    }
  }
  if (requeued) cv_.notify_one();
}

void WorkQueue::shutDown() {
  {
    std::lock_guard lock(mu_);
    shuttingDown_ = true;
    waitingByKey_.clear();
    waitingByTime_.clear();
  }
  cv_.notify_all();
}

bool WorkQueue::shuttingDown() const {
  std::lock_guard lock(mu_);
  return shuttingDown_;
}

size_t WorkQueue::len() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

size_t WorkQueue::processing() const {
  std::lock_guard lock(mu_);
  return processing_.size();
}

size_t WorkQueue::waiting() const {
  std::lock_guard lock(mu_);
  return waitingByTime_.size();
}

WorkerPool::WorkerPool(WorkQueue& queue, ReconcileHandler handler, int workers,
                       ReconcileErrorObserver onError)
    : queue_(queue),
      handler_(std::move(handler)),
      onError_(std::move(onError)),
      workers_(workers < 1 ? 1 : workers) {}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::start() {
  for (int i = 0; i < workers_; ++i) threads_.emplace_back([this] { run(); });
}

void WorkerPool::stop() {
  queue_.shutDown();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void reconcileOnce(WorkQueue& queue, const std::string& key, const ReconcileHandler& handler,
                   const ReconcileErrorObserver& onError) {
  applyOutcome(queue, key, guardReconcile([&] { return handler(key); }), onError);
}

void applyOutcome(WorkQueue& queue, const std::string& key, const Result<ReconcileOutcome>& outcome,
                  const ReconcileErrorObserver& onError) {
  if (!outcome) {
    if (onError) onError(key, outcome.error());
    queue.addRateLimited(key);
  } else {
    queue.forget(key);
    if (outcome->requeueAfter) queue.addAfter(key, *outcome->requeueAfter);
  }
  queue.done(key);
}

void WorkerPool::setBatchHandler(BatchHandler handler, size_t maxBatch) {
  batchHandler_ = std::move(handler);
  maxBatch_ = maxBatch < 1 ? 1 : maxBatch;
}

void WorkerPool::run() {
  while (auto key = queue_.get()) {
    if (!batchHandler_ || maxBatch_ <= 1) {
      reconcileOnce(queue_, *key, handler_, onError_);
      continue;
    }
    std::vector<std::string> batch{std::move(*key)};
    const size_t share = queue_.len() / static_cast<size_t>(workers_);
    const size_t want = std::min(maxBatch_, 1 + share);
    while (batch.size() < want) {
      auto more = queue_.tryGetQueued();
      if (!more) break;
      batch.push_back(std::move(*more));
    }
    batchHandler_(batch);
  }
}

}  // namespace ramp::controller
