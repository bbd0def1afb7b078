#include "store/kubernetes/event_sender.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "kube/resources.h"

namespace ramp::store::kubernetes {

namespace {

// Errors another try may not get: the server or the way to it, not the request.
bool transient(const Error& e) {
  return e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kDeadlineExceeded ||
         e.code == ErrorCode::kInternal;
}

}  // namespace

EventSender::EventSender(kube::Client& client, Clock& clock, Written written,
                         EventSenderOptions options)
    : client_(client),
      clock_(clock),
      written_(std::move(written)),
      options_(options),
      thread_([this] { run(); }) {}

EventSender::~EventSender() {
  stop();
  thread_.join();
}

void EventSender::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
}

bool EventSender::send(EventWrite write) {
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= options_.maxQueued) return false;
    queue_.push_back(std::move(write));
    ++sent_;
  }
  cv_.notify_all();
  return true;
}

bool EventSender::flush(Duration timeout) {
  std::unique_lock lock(mu_);
  const uint64_t target = sent_;
  return cv_.wait_for(lock, timeout, [&] { return done_ >= target; });
}

void EventSender::run() {
  // Stopping, and a write failed or the drain's time is up: the rest are not tried.
  bool givingUp = false;
  std::optional<Time> drainEnd;  // set when stopping is first seen
  while (true) {
    EventWrite write;
    bool stopping = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, nothing left
      write = std::move(queue_.front());
      queue_.pop_front();
      stopping = stopping_;
    }
    if (stopping && !drainEnd) drainEnd = clock_.now() + options_.drainTimeout;
    if (stopping && clock_.now() >= *drainEnd) givingUp = true;
    Result<std::string> outcome =
        givingUp   ? makeError(ErrorCode::kCancelled,
                               "the store stopped before it was written (the API server did not "
                                 "answer, or the queue took longer than the drain timeout)")
        : stopping ? once(write, 1)
                   : attempt(write);
    if (!outcome && stopping) givingUp = true;
    if (written_) written_(write, outcome);
    {
      std::lock_guard lock(mu_);
      ++done_;
    }
    cv_.notify_all();
  }
}

Result<std::string> EventSender::attempt(const EventWrite& write) {
  Duration backoff = options_.firstBackoff;
  Result<std::string> last = makeError(ErrorCode::kInternal, "no try");
  for (int n = 1; n <= std::max(1, options_.maxTries); ++n) {
    if (n > 1) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) break;  // the destructor's one try was this write's last
      }
      clock_.sleepFor(backoff);
      backoff = std::min(backoff * 2, options_.maxBackoff);
    }
    last = once(write, n);
    if (last || !transient(last.error())) return last;
  }
  return last;
}

Result<std::string> EventSender::once(const EventWrite& write, int tryNumber) {
  const kube::ResourceType& events = kube::events();
  if (!write.patch.empty()) {
    auto patched =
        client_.patch(events, write.namespace_, write.name, kube::PatchType::kMerge, write.patch);
    // Gone (expired after the server's --event-ttl, or its create was given up): the repeat
    // makes the Event again, with its series.
    if (patched || patched.error().code != ErrorCode::kNotFound) return patched;
  }
  auto created = client_.create(events, write.namespace_, write.body);
  // A create that timed out may have been made: a later try finds it by its name.
  if (!created && created.error().code == ErrorCode::kAlreadyExists && tryNumber > 1) {
    return client_.get(events, write.namespace_, write.name);
  }
  return created;
}

}  // namespace ramp::store::kubernetes
