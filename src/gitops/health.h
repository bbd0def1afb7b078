#pragma once

// Health as Argo CD reports it (gitops-engine pkg/health): each object's status is one of
// Healthy < Suspended < Progressing < Missing < Degraded < Unknown (best to worst), and an
// Application's health is the worst of its objects'. A Rollout is read as Argo CD's
// resource_customizations/argoproj.io/Rollout/health.lua does: a spec the controller has not yet
// observed is Progressing; otherwise status.phase with status.message, Paused read as Suspended.
// An AnalysisRun maps its phase (Successful Healthy, Failed/Error Degraded, Inconclusive
// Suspended, others Progressing); templates and Applications have no health of their own.
//
// Pure functions; thread-safe.

#include <optional>
#include <string_view>
#include <vector>

#include "ramp/spec/gitops.h"
#include "spec/codec.h"

namespace ramp::gitops {

// The rank of a health status, 0 = Healthy … 5 = Unknown (an unrecognised name ranks Unknown).
int healthRank(std::string_view status);

// The health of one stored object; nullopt for kinds without health.
std::optional<spec::ApplicationHealth> objectHealth(const spec::Object& object);

// The worst of `healths` (Healthy when empty), with the message of the first worst one.
spec::ApplicationHealth worstHealth(const std::vector<spec::ApplicationHealth>& healths);

}  // namespace ramp::gitops
