#pragma once

// What a revision is created with and which ephemeral pod metadata each role carries, as Argo
// Rollouts decides them (rollout/sync.go, rollout/ephemeralmetadata.go): a canary's
// canaryMetadata and stableMetadata, a blue-green's previewMetadata and activeMetadata. A new
// revision is created with the canary's (preview's) metadata when another revision is stable,
// else with the stable's (active's): it is the first, and becomes stable. The shell hands
// revisionSpec() to WorkloadDriver::ensureRevision and roleMetadata() to setRoles, with which
// platform.kubernetes moves the metadata as revisions change roles.
//
// Thread safety: pure functions.

#include <optional>
#include <string>

#include "ramp/platform/workload_driver.h"
#include "ramp/spec/rollout.h"
#include "rollout/engine.h"

namespace ramp::rollout {

// The metadata of each role `rollout` configures ("canary", "stable", "preview", "active").
platform::RoleMetadata roleMetadata(const spec::Rollout& rollout);

// The metadata revision `hash` is created with when `stableHash` is the stable revision ("" =
// none yet); nullopt when the rollout configures none for that role.
std::optional<spec::PodTemplateMetadata> creationMetadata(const spec::Rollout& rollout,
                                                          const std::string& stableHash,
                                                          const std::string& hash);

// The revision `ensure` asks for, with what the platform records from the rollout: its
// spec.replicas (default 1), its annotations, the creation metadata, and its antiAffinity toward
// `stableHash` when that is another revision (Argo: rollout/sync.go, GenerateReplicaSetAffinity).
platform::RevisionSpec revisionSpec(const spec::Rollout& rollout, const std::string& stableHash,
                                    const EnsureRevision& ensure);

}  // namespace ramp::rollout
