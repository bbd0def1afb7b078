#include "api/watch_hub.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/metrics_page.h"
#include "common/repack_buffer.h"
#include "spec/kinds.h"

namespace ramp::api {
namespace {

// The inbox holds at most this many changes; beyond it the hub thread is hopelessly behind and
// every stream is cut off (clients resume from the store's change log).
constexpr size_t kMaxInbox = 200'000;

}  // namespace

bool WatchFilter::matches(const store::ObjectKey& key) const {
  if (resource != nullptr && key.kind != resource->kindName) return false;
  if (!namespace_.empty() && key.namespace_ != namespace_) return false;
  if (!name.empty() && key.name != name) return false;
  return true;
}

bool WatchSubscriber::push(const WatchFrame& frame) {
  bool overflowed = false;
  {
    std::lock_guard lock(mu_);
    if (state_ != State::kOpen) return false;
    if (queue_.size() >= capacity_) {
      state_ = State::kOverflowed;
      std::deque<WatchFrame>().swap(queue_);
      overflowed = true;
    } else {
      queue_.push_back(frame);
    }
  }
  cv_.notify_one();
  return overflowed;
}

void WatchSubscriber::close(State state) {
  {
    std::lock_guard lock(mu_);
    if (state_ == State::kOpen) state_ = state;
    if (state == State::kOverflowed) queue_.clear();
  }
  cv_.notify_one();
}

WatchSubscriber::State WatchSubscriber::wait(Duration timeout, std::vector<WatchFrame>* out) {
  std::unique_lock lock(mu_);
  if (queue_.empty() && state_ == State::kOpen) {
    cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || state_ != State::kOpen; });
  }
  while (!queue_.empty()) {
    out->push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return state_;
}

WatchHub::WatchHub(store::StateStore& store, size_t bufferFrames, Duration pollInterval)
    : store_(store),
      bufferFrames_(std::max<size_t>(1, bufferFrames)),
      pollInterval_(pollInterval) {}

WatchHub::~WatchHub() { stop(); }

Status WatchHub::start() {
  listenerId_ = store_.subscribe([this](const store::Change& change) {
    {
      std::lock_guard lock(inboxMu_);
      if (inbox_.size() >= kMaxInbox) {
        inbox_.clear();
        inboxOverflow_ = true;
      } else {
        inbox_.push_back(change);
      }
    }
    inboxCv_.notify_one();
  });
  auto rev = store_.currentRevision();
  if (!rev) {
    store_.unsubscribe(listenerId_);
    return std::unexpected(rev.error());
  }
  // The newest event id: exponential then binary search with limit-1 queries.
  auto any = [&](int64_t since) -> Result<bool> {
    auto got = store_.listEvents({std::nullopt, since, 1});
    if (!got) return std::unexpected(got.error());
    return !got->empty();
  };
  int64_t newest = 0;
  auto first = any(0);
  if (!first) {
    store_.unsubscribe(listenerId_);
    return std::unexpected(first.error());
  }
  if (*first) {
    int64_t lo = 0, step = 1;
    while (true) {
      auto r = any(lo + step);
      if (!r) return std::unexpected(r.error());
      if (!*r) break;
      lo += step;
      step *= 2;
    }
    int64_t hi = lo + step;  // any(lo) true, any(hi) false
    while (hi - lo > 1) {
      int64_t mid = lo + (hi - lo) / 2;
      auto r = any(mid);
      if (!r) return std::unexpected(r.error());
      (*r ? lo : hi) = mid;
    }
    newest = hi;
  }
  {
    std::lock_guard lock(subsMu_);
    lastRevision_ = *rev;
    lastEventId_ = newest;
  }
  started_ = true;
  thread_ = std::thread([this] { run(); });
  return {};
}

void WatchHub::stop() {
  {
    std::lock_guard lock(inboxMu_);
    if (stopping_) return;
    stopping_ = true;
  }
  inboxCv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (started_) store_.unsubscribe(listenerId_);
  std::lock_guard lock(subsMu_);
  for (auto& s : subscribers_) s->close(WatchSubscriber::State::kClosed);
  subscribers_.clear();
}

std::shared_ptr<WatchSubscriber> WatchHub::subscribe(WatchFilter filter, WatchCursor* at) {
  auto sub = std::make_shared<WatchSubscriber>(std::move(filter), bufferFrames_);
  std::lock_guard lock(subsMu_);
  at->revision = lastRevision_;
  at->eventId = lastEventId_;
  bool stopped = false;
  {
    std::lock_guard inbox(inboxMu_);
    stopped = stopping_;
  }
  if (stopped) {
    sub->close(WatchSubscriber::State::kClosed);
  } else {
    subscribers_.push_back(sub);
  }
  return sub;
}

void WatchHub::unsubscribe(const std::shared_ptr<WatchSubscriber>& subscriber) {
  std::lock_guard lock(subsMu_);
  subscribers_.erase(std::remove(subscribers_.begin(), subscribers_.end(), subscriber),
                     subscribers_.end());
}

size_t WatchHub::streams() const {
  std::lock_guard lock(subsMu_);
  return subscribers_.size();
}

std::string WatchHub::changeFrameText(const store::Change& change) {
  const char* type = change.type == store::ChangeType::kPut ? "PUT" : "DELETE";
  std::string out = "event: ";
  out += type;
  out += "\ndata: {\"type\":\"";
  out += type;
  out += "\",\"revision\":" + std::to_string(change.revision) +
         ",\"kind\":" + nlohmann::json(change.key.kind).dump() +
         ",\"namespace\":" + nlohmann::json(change.key.namespace_).dump() +
         ",\"name\":" + nlohmann::json(change.key.name).dump() + ",\"object\":";
  out += withResourceVersion(change.json, change.revision);
  out += "}\n\n";
  return out;
}

std::string WatchHub::eventFrameText(const store::Event& event) {
  return "event: EVENT\ndata: " + encodeEvent(event) + "\n\n";
}

void WatchHub::run() {
  while (true) {
    std::deque<store::Change> batch;
    bool overflow = false;
    {
      std::unique_lock lock(inboxMu_);
      inboxCv_.wait_for(lock, pollInterval_, [&] { return stopping_ || !inbox_.empty(); });
      if (stopping_) return;
      batch.swap(inbox_);
      overflow = inboxOverflow_;
      inboxOverflow_ = false;
    }
    if (overflow) {
      std::lock_guard lock(subsMu_);
      for (auto& s : subscribers_) {
        s->close(WatchSubscriber::State::kOverflowed);
        cutoffs_.fetch_add(1);
      }
      subscribers_.clear();
    }
    fanOutChanges(batch);
    if (const int64_t counted = pollEvents(); counted > 0) {
      countedSinceRepack_ += counted;
      quietPolls_ = 0;
    } else if (++quietPolls_ >= kRepackQuietPolls && countedSinceRepack_ >= kRepackAfterEvents) {
      repackMemory();
      countedSinceRepack_ = 0;
    }
  }
}

void WatchHub::repackMemory() {
  std::lock_guard lock(countsMu_);
  size_t bytes = 0;
  for (const auto& [rollout, counts] : eventCounts_) {
    bytes += RepackBuffer::sizeOf(rollout.first) + RepackBuffer::sizeOf(rollout.second) +
             (1 + 2 * counts.size()) * sizeof(uint64_t);
  }
  RepackBuffer buffer(bytes);
  for (const auto& [rollout, counts] : eventCounts_) {
    buffer.put(rollout.first);
    buffer.put(rollout.second);
    buffer.putNumber(counts.size());
    for (const KindCount& c : counts) {
      buffer.putNumber(c.kind);
      buffer.putNumber(c.count);
    }
  }
  const size_t rollouts = eventCounts_.size();
  eventCounts_.clear();  // everything freed before anything is made again
  for (size_t i = 0; i < rollouts; ++i) {
    std::pair<std::string, std::string> rollout{buffer.take(), buffer.take()};
    std::vector<KindCount> counts(buffer.takeNumber());
    for (KindCount& c : counts) {
      c.kind = static_cast<uint32_t>(buffer.takeNumber());
      c.count = buffer.takeNumber();
    }
    eventCounts_.emplace_hint(eventCounts_.end(), std::move(rollout), std::move(counts));
  }
}

void WatchHub::fanOutChanges(std::deque<store::Change>& changes) {
  for (store::Change& change : changes) {
    {
      std::lock_guard lock(subsMu_);
      if (change.revision <= lastRevision_) continue;
    }
    // Formatting happens outside the lock; only this thread advances lastRevision_.
    auto text = std::make_shared<const std::string>(changeFrameText(change));
    std::lock_guard lock(subsMu_);
    lastRevision_ = change.revision;
    WatchFrame frame{false, change.revision, lastEventId_, change.key, text};
    for (auto& s : subscribers_) {
      if (s->filter().matches(change.key) && s->push(frame)) cutoffs_.fetch_add(1);
    }
  }
}

int64_t WatchHub::pollEvents() {
  int64_t counted = 0;
  int64_t since = 0;
  {
    std::lock_guard lock(subsMu_);
    since = lastEventId_;
  }
  while (true) {
    auto got = store_.listEvents({std::nullopt, since, 1000});
    if (!got || got->empty()) return counted;
    for (const store::Event& e : *got) {
      since = e.id;
      if (e.object.kind == spec::kindInfo(spec::Kind::kRollout).name) {
        countEvent(e);
        ++counted;
      }
      auto text = std::make_shared<const std::string>(eventFrameText(e));
      std::lock_guard lock(subsMu_);
      lastEventId_ = e.id;
      WatchFrame frame{true, lastRevision_, e.id, e.object, text};
      for (auto& s : subscribers_) {
        if (s->filter().events && s->filter().matches(e.object) && s->push(frame)) {
          cutoffs_.fetch_add(1);
        }
      }
    }
    if (got->size() < 1000) return counted;
  }
}

void WatchHub::countEvent(const store::Event& e) {
  std::pair<std::string, std::string> kind{
      e.type == store::EventType::kWarning ? "Warning" : "Normal", e.reason};
  std::lock_guard lock(countsMu_);
  auto known = std::find(eventKinds_.begin(), eventKinds_.end(), kind);
  const auto index = static_cast<uint32_t>(known - eventKinds_.begin());
  if (known == eventKinds_.end()) eventKinds_.push_back(std::move(kind));
  auto& counts = eventCounts_[{e.object.namespace_, e.object.name}];
  auto count = std::find_if(counts.begin(), counts.end(),
                            [&](const KindCount& c) { return c.kind == index; });
  if (count != counts.end()) {
    ++count->count;
    return;
  }
  counts.push_back({index, 1});
  counts.shrink_to_fit();
}

void WatchHub::appendEventCounts(MetricsPage& page) const {
  auto& events = page.family("rollout_events_total", MetricType::kCounter,
                             "Events recorded about rollouts since the server started.",
                             {"namespace", "name", "type", "reason"});
  std::lock_guard lock(countsMu_);
  std::vector<KindCount> sorted;
  for (const auto& [rollout, counts] : eventCounts_) {
    sorted = counts;
    std::sort(sorted.begin(), sorted.end(), [&](const KindCount& a, const KindCount& b) {
      return eventKinds_[a.kind] < eventKinds_[b.kind];
    });
    for (const KindCount& c : sorted) {
      const auto& [type, reason] = eventKinds_[c.kind];
      events.add({rollout.first, rollout.second, type, reason}, c.count);
    }
  }
}

}  // namespace ramp::api
