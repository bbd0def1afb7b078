#pragma once

// What the API does for the GitOps agent (docs/gitops.md), without HTTP:
// - its writes go through the API's own apply (ObjectService::applyRevision): a revision's
//   objects get exactly the checks, events and one-transaction write of `ramp apply`, and prunes
//   ride in the same transaction. This is the ApplyFn the daemon gives gitops::Agent;
// - POST /api/v1/gitops/webhook: a push from GitHub, Gitea or GitLab refreshes the Applications
//   reading the pushed repository.
//
// Thread safety: as ObjectService (any thread).

#include "api/object_service.h"
#include "gitops/agent.h"

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace ramp::api {

// An ApplyFn writing through `service` as the user named by the agent (role operator): the
// documents are sent as JSON, one per YAML document. A refusal becomes kInvalidArgument (or the
// reply's code) with the API's message and its diagnostics, one per line.
gitops::ApplyFn gitopsApplyFn(ObjectService& service);

// Refreshes the Applications reading a repository ("" = all); returns how many.
using RefreshFn = std::function<int(const std::string& repoURL)>;

// POST /api/v1/gitops/webhook with `headers` (names in lower case). With a `secret`, the push
// must be signed with it (401 otherwise); without one every push is accepted, as Argo CD does
// when no webhook secret is set. 200 {"refreshed": N, "repository": URL} for a push (N may be
// 0), 202 for another event (ignored), 400 for a body that is not a push payload, 501 without an
// agent.
ApiReply gitopsWebhook(const std::map<std::string, std::string>& headers, std::string_view body,
                       const std::string& secret, const RefreshFn& refresh);

}  // namespace ramp::api
