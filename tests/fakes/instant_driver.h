#pragma once

// InstantDriver: a WorkloadDriver whose replicas are available the moment they are scaled (unless
// their revision is marked broken), kept in memory. For tests of the controller and the parts
// around it, where the platform is not what is tested; the durable simulated world
// (platform.sim) and the real platforms are tested on their own.
//
// Each replica's endpoint is 127.0.0.1 at 1000 + its index, unless the test gives `ports`, which
// returns the ports of a revision scaled to n (e.g. real HTTP backends the test starts).
// Templates whose first image is in `refusedImages` are refused with kInvalidArgument, as a host
// without their program would refuse them.
//
// Thread-safe: every method and the public hooks' callers hold one mutex (the hooks must not call
// back into the driver). The public fields are set before the controller runs, or under the
// test's own synchronization.

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "ramp/clock.h"
#include "ramp/platform/workload_driver.h"

namespace ramp::testing {

class InstantDriver final : public platform::WorkloadDriver {
 public:
  using PortsFn = std::function<std::vector<int>(
      const std::string& hash, const spec::PodTemplateSpec& tmpl, int32_t replicas)>;

  Result<platform::ObservedWorkload> observe(const std::string& rolloutKey) override {
    if (onObserve) onObserve(rolloutKey);
    std::lock_guard lock(mu_);
    if (failObserve) return makeError(ErrorCode::kUnavailable, "platform down");
    return workloads_[rolloutKey];
  }

  Status ensureRevision(const std::string& rolloutKey,
                        const platform::RevisionSpec& wanted) override {
    const std::string& hash = wanted.hash;
    const int64_t revision = wanted.revision;
    const spec::PodTemplateSpec& tmpl = wanted.template_;
    std::lock_guard lock(mu_);
    if (takenHashes.count(hash) != 0) {
      return makeError(ErrorCode::kAlreadyExists,
                       "platform.instant: the name of revision " + hash + " is taken");
    }
    if (refusedImages.count(tmpl.spec.containers.at(0).image) != 0) {
      return makeError(ErrorCode::kInvalidArgument,
                       "spec.template.spec.containers[0].command[0]: \"app\" is not found in "
                       "PATH");
    }
    auto& w = workloads_[rolloutKey];
    for (auto& r : w.revisions) {
      if (r.podTemplateHash == hash) {
        r.revision = revision;
        return {};
      }
    }
    platform::ObservedRevision r;
    r.podTemplateHash = hash;
    r.revision = revision;
    r.template_ = tmpl;
    w.revisions.push_back(r);
    return {};
  }

  Status scale(const std::string& rolloutKey, const std::string& hash, int32_t n,
               int32_t /*rolloutReplicas*/) override {
    std::lock_guard lock(mu_);
    ++scaleCalls;
    for (auto& r : workloads_[rolloutKey].revisions) {
      if (r.podTemplateHash != hash) continue;
      const bool ok = broken.count(hash) == 0;
      const std::vector<int> given = ports ? ports(hash, r.template_, n) : std::vector<int>{};
      r.desiredReplicas = r.currentReplicas = n;
      r.readyReplicas = r.availableReplicas = ok ? n : 0;
      r.replicaStartedAt.resize(static_cast<size_t>(n), clock != nullptr ? clock->now() : Time{});
      r.endpoints.clear();
      for (int i = 0; i < n; ++i) {
        const auto index = static_cast<size_t>(i);
        const int port = index < given.size() ? given[index] : 1000 + i;
        r.endpoints.push_back({hash + "-" + std::to_string(i), "127.0.0.1", port, ok});
      }
      return {};
    }
    return makeError(ErrorCode::kNotFound, "no revision " + hash);
  }

  Status setScaleDownDeadline(const std::string& rolloutKey, const std::string& hash,
                              std::optional<Time> deadline) override {
    std::lock_guard lock(mu_);
    for (auto& r : workloads_[rolloutKey].revisions) {
      if (r.podTemplateHash == hash) r.scaleDownDeadline = deadline;
    }
    return {};
  }

  Status retire(const std::string& rolloutKey, const std::string& hash) override {
    std::lock_guard lock(mu_);
    std::erase_if(workloads_[rolloutKey].revisions,
                  [&](const auto& r) { return r.podTemplateHash == hash; });
    return {};
  }

  // The oldest replica started before `before` is replaced by one started now (available at once).
  Status restartReplica(const std::string& rolloutKey, const std::string& hash,
                        Time before) override {
    std::lock_guard lock(mu_);
    for (auto& r : workloads_[rolloutKey].revisions) {
      if (r.podTemplateHash != hash) continue;
      auto& starts = r.replicaStartedAt;
      auto oldest = std::min_element(starts.begin(), starts.end());
      if (oldest == starts.end() || *oldest >= before) return {};
      starts.erase(oldest);
      starts.push_back(clock != nullptr ? clock->now() : Time{});
      ++restartCalls;
      return {};
    }
    return makeError(ErrorCode::kNotFound, "no revision " + hash);
  }

  // Records the revision each Service was last told to select (services() reads it back).
  Status selectServices(const std::string& rolloutKey,
                        const std::vector<platform::ServiceSelection>& selections) override {
    std::lock_guard lock(mu_);
    for (const auto& s : selections) services_[rolloutKey][s.service] = s.podTemplateHash;
    return {};
  }

  // spec.workloadRef: `referenced` by name ("namespace/name"); kNotFound for any other.
  Result<platform::ReferencedWorkload> resolveWorkloadRef(const std::string& rolloutKey,
                                                          const spec::WorkloadRef& ref) override {
    std::lock_guard lock(mu_);
    const std::string key = rolloutKey.substr(0, rolloutKey.find('/') + 1) + ref.name;
    auto it = referenced.find(key);
    if (it == referenced.end()) {
      return makeError(ErrorCode::kNotFound,
                       "spec.workloadRef: " + ref.kind + " " + key + " not found");
    }
    return it->second;
  }
  Status scaleWorkloadRef(const std::string& rolloutKey, const spec::WorkloadRef& ref,
                          int32_t replicas) override {
    std::lock_guard lock(mu_);
    const std::string key = rolloutKey.substr(0, rolloutKey.find('/') + 1) + ref.name;
    auto it = referenced.find(key);
    if (it == referenced.end()) return makeError(ErrorCode::kNotFound, key + " not found");
    it->second.replicas = replicas;
    return {};
  }

  // Pushes workloadRef changes (true) when pushWorkloadRefs was set before the controller was
  // made; referencedChanged() then plays the platform's watch.
  bool watchWorkloadRefs(std::function<void(const std::string&)> listener) override {
    std::lock_guard lock(mu_);
    workloadRefListener_ = std::move(listener);
    return pushWorkloadRefs;
  }
  void referencedChanged(const std::string& rolloutKey) {
    std::function<void(const std::string&)> listener;
    {
      std::lock_guard lock(mu_);
      listener = workloadRefListener_;
    }
    if (pushWorkloadRefs && listener) listener(rolloutKey);
  }

  std::string type() const override { return "platform.instant"; }
  void repackMemory() override { ++repacks; }
  std::atomic<int> repacks{0};  // repackMemory() calls

  // Service -> hash, as selectServices last set them for a rollout.
  std::map<std::string, std::string> services(const std::string& rolloutKey) {
    std::lock_guard lock(mu_);
    return services_[rolloutKey];
  }

  // A copy of what the driver holds for a rollout.
  platform::ObservedWorkload workload(const std::string& key) {
    std::lock_guard lock(mu_);
    return workloads_[key];
  }

  std::set<std::string> refusedImages;
  // Hashes whose revision name another object holds: ensureRevision answers kAlreadyExists, as
  // platform.kubernetes does on a hash collision.
  std::set<std::string> takenHashes;
  // The objects spec.workloadRef may name, by "namespace/name" (a Deployment's replicas are
  // changed by scaleWorkloadRef). Guarded like the rest: set it before the controller runs.
  std::map<std::string, platform::ReferencedWorkload> referenced;
  bool pushWorkloadRefs = false;
  std::set<std::string> broken;  // hashes whose replicas never become available
  bool failObserve = false;
  std::function<void(const std::string&)> onObserve;  // called before each observe()
  PortsFn ports;
  int scaleCalls = 0;
  int restartCalls = 0;
  Clock* clock = nullptr;  // start times of replicas; null = the epoch

 private:
  std::mutex mu_;
  std::map<std::string, platform::ObservedWorkload> workloads_;
  std::map<std::string, std::map<std::string, std::string>> services_;
  std::function<void(const std::string&)> workloadRefListener_;
};

}  // namespace ramp::testing
