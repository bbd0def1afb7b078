#pragma once

// Which Service selects which revision, as Argo switches Service selectors (rollout/service.go):
// the blue-green activeService and previewService follow the selectors the core recorded in the
// status (activeSelector, previewSelector), which it moves only when Argo would (the preview as
// soon as the new revision exists, the active one at promotion); the canary stableService and
// canaryService follow the stable and canary revisions of a SyncEndpoints action, switched only
// once that revision has an available replica (Argo's ensureSVCTargets). The shell hands the
// result to WorkloadDriver::selectServices; platforms with Services (platform.kubernetes) patch
// their selectors.
//
// Thread safety: a pure function.

#include <vector>

#include "ramp/platform/workload_driver.h"
#include "ramp/spec/rollout.h"
#include "rollout/engine.h"

namespace ramp::rollout {

// The Services of `rollout` and the revision each must select after the reconcile that left
// `next` as the status and planned `sync`. Services the spec does not name, and roles with no
// revision yet (an empty selector or hash), are left out. Ping-pong Services are not switched
// here (platform.kubernetes does not carry ping-pong yet).
std::vector<platform::ServiceSelection> serviceSelections(const spec::Rollout& rollout,
                                                          const spec::RolloutStatus& next,
                                                          const SyncEndpoints& sync);

// The canary's share of the traffic when one Service selects every ready replica alike (a basic
// canary routed through canary.serviceRouting, SyncEndpoints::byReplicas): readyCanary out of
// readyStable + readyCanary, as a weight out of maxWeight rounded to the nearest integer, but at
// least 1 while a canary replica is ready and at most maxWeight - 1 while a stable one is (a
// ready replica always gets some traffic, as behind a Service). 0 when nothing is ready.
int32_t replicaShareWeight(int readyStable, int readyCanary, int32_t maxWeight);

}  // namespace ramp::rollout
