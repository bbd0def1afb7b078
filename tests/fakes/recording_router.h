#pragma once

// RecordingRouter: a TrafficRouter that records what the controller asked of the proxy in a
// RouterLog the test owns, and reads weights back exactly. A test makes the proxy lose its state
// (current = kLost, as HAProxy's restart drops runtime servers) or go down (every call fails with
// kUnavailable).
//
// Not thread-safe: the RouterLog is read and written by the controller's reconcile, which the
// tests using it step on one thread.

#include <string>
#include <vector>

#include "ramp/traffic/traffic_router.h"

namespace ramp::testing {

struct RouterLog {
  static constexpr int32_t kLost = -1;
  std::vector<int32_t> weights;  // every distinct weight set, in order
  std::string stableHash, canaryHash;
  std::vector<std::string> drainingHashes;  // of the last syncEndpoints
  int32_t current = 0;
  bool down = false;     // every call fails with kUnavailable
  bool removed = false;  // removeAll() was called
  int verifyCalls = 0;
};

class RecordingRouter final : public traffic::TrafficRouter {
 public:
  explicit RecordingRouter(RouterLog& log) : log_(log) {}
  Status syncEndpoints(const traffic::RevisionEndpoints& stable,
                       const traffic::RevisionEndpoints& canary,
                       std::span<const traffic::RevisionEndpoints> draining) override {
    if (log_.down) return makeError(ErrorCode::kUnavailable, "proxy down");
    log_.stableHash = stable.podTemplateHash;
    log_.canaryHash = canary.podTemplateHash;
    log_.drainingHashes.clear();
    for (const auto& d : draining) log_.drainingHashes.push_back(d.podTemplateHash);
    return {};
  }
  Status setWeight(int32_t w, std::span<const traffic::WeightDestination>) override {
    if (log_.down) return makeError(ErrorCode::kUnavailable, "proxy down");
    if (log_.weights.empty() || log_.weights.back() != w) log_.weights.push_back(w);
    log_.current = w;
    return {};
  }
  Result<traffic::WeightCheck> verifyWeight(int32_t w,
                                            std::span<const traffic::WeightDestination>) override {
    ++log_.verifyCalls;
    if (log_.down) return makeError(ErrorCode::kUnavailable, "proxy down");
    return log_.current == w ? traffic::WeightCheck::kVerified : traffic::WeightCheck::kNotYet;
  }
  Status setHeaderRoute(const traffic::HeaderRoute&) override { return {}; }
  Status setMirrorRoute(const traffic::MirrorRoute&) override { return {}; }
  Status removeManagedRoutes() override { return {}; }
  Status removeAll() override {
    if (log_.down) return makeError(ErrorCode::kUnavailable, "proxy down");
    log_.stableHash.clear();
    log_.canaryHash.clear();
    log_.removed = true;
    return {};
  }
  std::string type() const override { return "ramp/recording"; }

 private:
  RouterLog& log_;
};

}  // namespace ramp::testing
