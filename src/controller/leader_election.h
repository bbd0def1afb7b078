#pragma once

// Leader election: of several `ramp serve` daemons sharing one store (two replicas on one
// Kubernetes cluster, or on one etcd), one runs the controller (Argo's --leader-elect, client-go's
// leaderelection over a Lease). The decision is pure: decideLeadership(state, now, timings) says
// what to do next — try to take the lease, renew it, or step down because renewals have failed
// for too long — and when to look again, from the elector's state and `now` alone (no clock, no
// store). The shell, LeaderElector, does what the decision says with the store's
// acquireLease/renewLease (whose own rules are store_rules.h's decideAcquire/decideRenew) and
// tells its owner when leadership starts and ends. The controller never knows it is leader: the
// daemon starts it when leadership starts, and stops (and exits, as Argo does) when it ends.
//
// Timings are Argo's defaults: a 15 s lease, renewed every 2 s, given up when no renewal has
// succeeded for 10 s, so a leader that stops acting steps down (10 s) before another can take
// the lease (15 s).
//
// Threading: decideLeadership is pure. A LeaderElector is stepped by one thread (step(), or the
// thread of start()); leading() may be read from any thread. The callbacks run on that thread.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "ramp/clock.h"
#include "ramp/store/state_store.h"

namespace ramp::controller {

struct LeaderTimings {
  Duration leaseDuration = std::chrono::seconds(15);  // --leader-election-lease-duration
  Duration renewDeadline = std::chrono::seconds(10);  // --leader-election-renew-deadline
  Duration retryPeriod = std::chrono::seconds(2);     // --leader-election-retry-period
};

struct LeaderState {
  bool leading = false;
  std::optional<Time> lastRenewed;  // the last successful acquire or renew while leading
};

enum class LeaderAction {
  kAcquire,   // not leading: try to take the lease
  kRenew,     // leading: extend the lease
  kStepDown,  // leading, but no renewal succeeded within renewDeadline: stop acting as leader
};

struct LeaderDecision {
  LeaderAction action = LeaderAction::kAcquire;
  Time nextCheck;  // when to decide again
  bool operator==(const LeaderDecision&) const = default;
};

LeaderDecision decideLeadership(const LeaderState& state, Time now, const LeaderTimings& timings);

class LeaderElector {
 public:
  // `store` and `clock` must outlive the elector. `identity` names this daemon in the lease
  // (Argo: host name + "_" + a UUID per process).
  LeaderElector(store::StateStore& store, Clock& clock, std::string leaseName, std::string identity,
                LeaderTimings timings, std::function<void()> onStartedLeading,
                std::function<void()> onStoppedLeading);
  ~LeaderElector();  // stop()

  // Decides at clock.now() and acts once: acquires (onStartedLeading on success), renews (a
  // lease another holder took, or one that expired, ends leadership: onStoppedLeading), or
  // steps down (onStoppedLeading). A failed request (the store unavailable) changes nothing:
  // the renew deadline decides. Returns when to step again.
  Time step();

  // Steps on a thread of its own, sleeping on the clock between steps, until stop().
  void start();
  void stop();

  bool leading() const { return leading_.load(); }
  const std::string& identity() const { return identity_; }

 private:
  void lose();

  store::StateStore& store_;
  Clock& clock_;
  const std::string leaseName_;
  const std::string identity_;
  const LeaderTimings timings_;
  const std::function<void()> onStarted_;
  const std::function<void()> onStopped_;
  LeaderState state_;  // the stepping thread's
  std::atomic<bool> leading_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ramp::controller
