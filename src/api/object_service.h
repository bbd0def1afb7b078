#pragma once

// ObjectService: what the API does to the store, without HTTP. Apply, get, list, delete, the
// user actions (each a recorded intent: rollout::operations writes it into the Rollout and the
// controller carries it out), revisions and events. The HTTP layer (api_server.cc) only routes,
// authenticates and copies ApiReply into a response; tests drive this class directly too.
//
// Every mutation is one store transaction (writeWithEvents) of the object writes and one event
// per object naming the caller, so nothing is half-applied and every change says who made it.
// A write that loses a compare-and-swap to a concurrent writer (the controller updating status)
// is retried from a fresh read; a caller-supplied resourceVersion that does not match is a 409.
//
// Thread safety: every method may be called from any number of threads at once (the store
// serialises writes).

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/request.h"
#include "api/types.h"
#include "ramp/clock.h"
#include "ramp/platform/workload_driver.h"
#include "ramp/registry.h"
#include "ramp/store/state_store.h"
#include "spec/validation.h"

namespace ramp::api {

// A response: status code and JSON body (an encodeError body when status >= 400).
struct ApiReply {
  int status = 200;
  std::string body;
};

// Returns the revisions the platform runs for a rollout ("namespace/name"); used by undo and
// GET …/revisions. Absent = those endpoints answer 501.
using RevisionsFn =
    std::function<Result<std::vector<platform::ObservedRevision>>(const std::string& rolloutKey)>;

// The daemon's extensions, so apply refuses what the daemon could not run: every Rollout is
// checked with Registry::checkRollout for `platform` (the one `ramp serve --platform` runs), and
// its routers' claims against every other stored Rollout's (claimConflicts). registry null = only
// the spec's own rules (tests of other parts).
struct RunChecks {
  const Registry* registry = nullptr;
  std::string platform;
};

// Returns the replicas the platform runs for a rollout (WorkloadDriver::observeReplicas), and
// reads a replica's log (WorkloadDriver::readLog: rollout key, replica name, offset, max bytes).
// Absent = GET …/replicas and …/logs answer 501.
using ReplicasFn =
    std::function<Result<std::vector<platform::ObservedReplica>>(const std::string& rolloutKey)>;
using ReadLogFn = std::function<Result<platform::LogChunk>(
    const std::string& rolloutKey, const std::string& replica, int64_t offset, int64_t maxBytes)>;

class ObjectService {
 public:
  ObjectService(store::StateStore& store, Clock& clock, RevisionsFn revisions = nullptr,
                RunChecks checks = {}, ReplicasFn replicas = nullptr, ReadLogFn readLog = nullptr);

  // POST /api/v1/apply: validates every object of the manifest (400 with the lint diagnostics when
  // any is invalid), checks every Rollout against the platform and its routers and their claims
  // against the stored Rollouts (400 with diagnostics naming the field, e.g. "backend be_app is
  // managed by rollout default/web"), then creates or updates them all in one transaction.
  // Skipped documents (kinds ramp does not manage) and warnings are listed in the reply. An update
  // replaces spec, labels and annotations, keeps status, uid and creationTimestamp, and increments
  // metadata.generation when the spec changed; an identical object is "unchanged" and not
  // written. A metadata.resourceVersion in the manifest must match the stored one (409).
  // dryRun (Kubernetes' ?dryRun=All): every check and the same answer, but nothing is written
  // (resourceVersion 0 for what would be created or configured).
  ApiReply apply(const Identity& caller, std::string_view body, bool dryRun = false);

  // The GitOps agent's sync of one revision (src/gitops/agent.h): apply() of `body` (the
  // revision's objects) and the deletion of every `prune` object still stored (an "ObjectDeleted"
  // event each, "pruned by CALLER"), all in one transaction: every object or none. A body with
  // no object is allowed when something is pruned.
  ApiReply applyRevision(const Identity& caller, std::string_view body,
                         const std::vector<store::ObjectKey>& prune);

  // PUT of one object at its path: as apply(), and the body's kind, namespace and name must match
  // the path (400).
  ApiReply put(const Identity& caller, const Route& route, std::string_view body);

  ApiReply get(const Route& route);
  ApiReply list(const Route& route);

  // DELETE: removes the object (409 when expectedVersion is given and differs; 404 if absent).
  ApiReply remove(const Identity& caller, const Route& route,
                  std::optional<int64_t> expectedVersion);

  // POST …/ACTION: applies the action's intent (422 when it does not apply to the object's
  // current state, with rollout::operations' message).
  ApiReply action(const Identity& caller, const Route& route, std::string_view body);

  ApiReply revisions(const Route& route);
  // GET …/replicas: the platform's replicas of the rollout (404 for an unknown rollout, 501
  // without a platform or from one that cannot list replicas).
  ApiReply replicas(const Route& route);
  // GET …/logs: a piece of one replica's log, cut at a UTF-8 character boundary (404 for an
  // unknown rollout or a replica it does not have, 501 as replicas()).
  ApiReply logs(const Route& route, const LogsQuery& query);
  ApiReply events(const EventsQuery& query);

  // An error reply with a JSON body a person can act on.
  static ApiReply error(int status, ErrorCode code, std::string message,
                        std::vector<spec::Diagnostic> diagnostics = {});
  static ApiReply error(const Error& e);

 private:
  ApiReply applyText(const Identity& caller, std::string_view body, const Route* route, bool dryRun,
                     const std::vector<store::ObjectKey>& prune = {});
  // The run checks of the lint's documents: Registry::checkRollout of each Rollout, and its
  // claims against the stored Rollouts and the ones before it in the body. Placed in the body.
  Result<std::vector<spec::Diagnostic>> checkRun(const spec::LintResult& lint, Time now);
  // 404 when the route's rollout is not stored (or the store's error); nullopt when it is.
  std::optional<ApiReply> missingRollout(const Route& route);

  store::StateStore& store_;
  Clock& clock_;
  RevisionsFn revisions_;
  RunChecks checks_;
  ReplicasFn replicas_;
  ReadLogFn readLog_;
};

}  // namespace ramp::api
