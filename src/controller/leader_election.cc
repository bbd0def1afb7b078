#include "controller/leader_election.h"

namespace ramp::controller {

LeaderDecision decideLeadership(const LeaderState& state, Time now, const LeaderTimings& timings) {
  if (!state.leading) return {LeaderAction::kAcquire, now + timings.retryPeriod};
  if (!state.lastRenewed || now - *state.lastRenewed >= timings.renewDeadline) {
    return {LeaderAction::kStepDown, now};
  }
  return {LeaderAction::kRenew, now + timings.retryPeriod};
}

LeaderElector::LeaderElector(store::StateStore& store, Clock& clock, std::string leaseName,
                             std::string identity, LeaderTimings timings,
                             std::function<void()> onStartedLeading,
                             std::function<void()> onStoppedLeading)
    : store_(store),
      clock_(clock),
      leaseName_(std::move(leaseName)),
      identity_(std::move(identity)),
      timings_(timings),
      onStarted_(std::move(onStartedLeading)),
      onStopped_(std::move(onStoppedLeading)) {}

LeaderElector::~LeaderElector() { stop(); }

void LeaderElector::lose() {
  state_ = LeaderState{};
  leading_ = false;
  if (onStopped_) onStopped_();
}

Time LeaderElector::step() {
  const Time now = clock_.now();
  const LeaderDecision d = decideLeadership(state_, now, timings_);
  switch (d.action) {
    case LeaderAction::kAcquire: {
      auto lease = store_.acquireLease(leaseName_, identity_, timings_.leaseDuration, now);
      if (lease) {
        state_ = LeaderState{true, now};
        leading_ = true;
        if (onStarted_) onStarted_();
      }
      break;
    }
    case LeaderAction::kRenew: {
      auto lease = store_.renewLease(leaseName_, identity_, timings_.leaseDuration, now);
      if (lease) {
        state_.lastRenewed = now;
      } else if (lease.error().code == ErrorCode::kConflict ||
                 lease.error().code == ErrorCode::kFailedPrecondition ||
                 lease.error().code == ErrorCode::kNotFound) {
        lose();  // another holder has it, or ours expired or vanished
      }
      break;
    }
    case LeaderAction::kStepDown: lose(); break;
  }
  return d.nextCheck;
}

void LeaderElector::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      const Time next = step();
      lock.lock();
      // Real time between steps: the lease is shared with other processes.
      cv_.wait_for(lock, std::max(Duration(0), next - clock_.now()), [this] { return stopping_; });
    }
  });
}

void LeaderElector::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace ramp::controller
