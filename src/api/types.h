#pragma once

// The HTTP API's vocabulary, shared by the server (src/api) and the CLI (src/cli): resources and
// their URL paths, user actions, roles, and the request and response bodies with their JSON
// encoding. One definition of each, so the CLI and the API cannot drift apart.
//
// Object bodies themselves are the spec model's JSON (spec::toJson); the types here are the
// envelopes around them. Decoders never throw: a malformed body is kInvalidArgument with a message
// naming the field.
//
// Thread safety: pure functions and plain values.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/spec/diagnostic.h"
#include "ramp/spec/meta.h"
#include "ramp/store/state_store.h"

namespace ramp::api {

inline constexpr std::string_view kApiPrefix = "/api/v1";
inline constexpr std::string_view kDefaultNamespace = "default";

// --- roles ---------------------------------------------------------------------------------------

// viewer: read and watch; auditor: + the audit log (GET /api/v1/audit/…), and no action;
// operator: + actions (promote, abort, …); admin: + apply and delete.
enum class Role { kViewer = 0, kAuditor = 1, kOperator = 2, kAdmin = 3 };
const char* roleName(Role role);
std::optional<Role> parseRole(std::string_view name);

// Who made a request (the token's name; "local" when authentication is off).
struct Identity {
  std::string name;
  Role role = Role::kViewer;
  // Where the request came from, for the audit records of its decisions (store::Event::origin):
  // "api" for a caller of the HTTP API (the CLI, the dashboard), "gitops" for the GitOps agent's
  // applies, with `change`, the Git change they carry out (gitops/change.h).
  std::string origin = "api";
  std::string change;
};

// --- resources -----------------------------------------------------------------------------------

struct Resource {
  spec::Kind kind;
  const char* kindName;  // the store's kind and the manifest's kind: "Rollout", …
  const char* plural;    // the URL segment: "rollouts", …
  bool clusterScoped;
};

// The four resources, in a fixed order.
const std::vector<Resource>& resources();
const Resource& resourceOf(spec::Kind kind);
// "rollouts" -> Rollout; nullptr when unknown.
const Resource* resourceByPlural(std::string_view plural);
// What a user may type on the command line: kind, plural or short name, any case ("rollout",
// "rollouts", "ro", "analysisrun", "ar", "analysistemplate", "at", "clusteranalysistemplate",
// "cat"); nullptr when unknown.
const Resource* resourceByUserName(std::string_view name);

// "/api/v1/namespaces/NS/PLURAL" or "/api/v1/PLURAL" (cluster-scoped, or every namespace when
// `namespace_` is empty).
std::string collectionPath(const Resource& resource, std::string_view namespace_);
// "/api/v1/namespaces/NS/PLURAL/NAME" or "/api/v1/PLURAL/NAME" for cluster-scoped kinds.
std::string objectPath(const Resource& resource, std::string_view namespace_,
                       std::string_view name);

// Kubernetes name rules: a DNS-1123 subdomain (<= 253 characters, lower-case alphanumerics, '-'
// and '.', starting and ending alphanumeric) for names; a DNS-1123 label (<= 63, no '.') for
// namespaces. Ok or kInvalidArgument saying what is wrong (naming `what`).
Status checkName(std::string_view name, std::string_view what);
Status checkNamespace(std::string_view namespace_);

// --- actions -------------------------------------------------------------------------------------

enum class Action {
  kPromote,
  kAbort,
  kRetry,
  kUndo,
  kPause,
  kResume,
  kRestart,
  kSetImage,
  kTerminate,  // AnalysisRun only
  kSync,       // Application only: request a sync (writes `operation`, as argocd app sync)
  kRefresh,    // Application only: read the repository now (Argo CD's refresh annotation)
  kRollback,   // Application only: back to a history entry, by a revert commit or --no-git
};
// The URL segment: "promote", "abort", "retry", "undo", "pause", "resume", "restart",
// "set-image", "terminate", "sync", "refresh", "rollback".
const char* actionName(Action action);
std::optional<Action> parseAction(std::string_view name);
// The CamelCase reason of the event an action records, e.g. "RolloutPromoted".
const char* actionEventReason(Action action);

// POST …/rollouts/NAME/ACTION body (may be empty for actions without arguments).
struct ActionRequest {
  bool full = false;                  // promote --full
  std::optional<int64_t> toRevision;  // undo --to-revision
  std::string container;              // set-image: container name or "*"
  std::string image;                  // set-image
  std::string revision;               // sync: "" = the Application's targetRevision
  bool prune = false;                 // sync --prune, rollback --prune
  std::optional<int64_t> id;          // rollback: a history id; nullopt = the previous entry
  bool noGit = false;                 // rollback --no-git
  std::string reason;                 // rollback: the caller's words (commit message, record)
  bool operator==(const ActionRequest&) const = default;
};
std::string encodeActionRequest(const ActionRequest& request);
// Empty body = all defaults. kInvalidArgument for malformed JSON, unknown fields or wrong types.
Result<ActionRequest> decodeActionRequest(std::string_view body);

struct ActionResponse {
  std::string kind;
  std::string namespace_;
  std::string name;
  std::string action;
  int64_t resourceVersion = 0;
  std::string message;
};
std::string encodeActionResponse(const ActionResponse& response);
Result<ActionResponse> decodeActionResponse(std::string_view body);

// --- apply ---------------------------------------------------------------------------------------

// POST /api/v1/apply: the body is a manifest (YAML or JSON, one or more documents); every object
// is validated first and all are written in one transaction, or none.
struct AppliedObject {
  std::string kind;
  std::string namespace_;
  std::string name;
  std::string result;  // "created", "configured" or "unchanged"
  int64_t resourceVersion = 0;
  int64_t generation = 0;
};
struct ApplyResponse {
  std::vector<AppliedObject> objects;
  // What was applied with a remark, one formatted diagnostic each ("request body:3:1: note:
  // Service \"web\" is not a kind ramp manages: skipped", warnings of the platform's checks).
  std::vector<std::string> warnings;
};
std::string encodeApplyResponse(const ApplyResponse& response);
Result<ApplyResponse> decodeApplyResponse(std::string_view body);

struct DeleteResponse {
  std::string kind;
  std::string namespace_;
  std::string name;
  int64_t resourceVersion = 0;  // the revision of the delete
};
std::string encodeDeleteResponse(const DeleteResponse& response);
Result<DeleteResponse> decodeDeleteResponse(std::string_view body);

// --- reads ---------------------------------------------------------------------------------------

// GET of a collection: {"kind":"RolloutList","resourceVersion":"N","items":[…objects…]}.
struct ObjectListResponse {
  std::string kind;                // "RolloutList", …
  int64_t resourceVersion = 0;     // the store revision the list is consistent with
  std::vector<std::string> items;  // each object's JSON text (metadata.resourceVersion set)
};
std::string encodeObjectList(const ObjectListResponse& list);
Result<ObjectListResponse> decodeObjectList(std::string_view body);

// Returns `json` (one stored object) with metadata.resourceVersion set to `version`. The text is
// returned unchanged when it is not a JSON object.
std::string withResourceVersion(std::string_view json, int64_t version);

// An event as the API shows it.
std::string encodeEvent(const store::Event& event);
std::string encodeEvents(const std::vector<store::Event>& events);
Result<store::Event> decodeEvent(std::string_view json);
Result<std::vector<store::Event>> decodeEvents(std::string_view body);

// The audit log (GET /api/v1/audit/records and …/checkpoints, docs/audit.md): the rows as the
// store keeps them, so a client verifies them itself (audit/verify.h).
struct AuditRecordsView {
  int64_t size = 0;  // records in the log
  std::vector<store::AuditRecord> records;
};
std::string encodeAuditRecords(const AuditRecordsView& view);
Result<AuditRecordsView> decodeAuditRecords(std::string_view body);
std::string encodeAuditCheckpoints(const std::vector<store::AuditCheckpoint>& checkpoints);
Result<std::vector<store::AuditCheckpoint>> decodeAuditCheckpoints(std::string_view body);
// GET /api/v1/audit/key: the daemon's public key ("" when its records are unsigned).
struct AuditKeyView {
  std::string publicKey;  // PEM
  bool operator==(const AuditKeyView&) const = default;
};
std::string encodeAuditKey(const AuditKeyView& view);
Result<AuditKeyView> decodeAuditKey(std::string_view body);

// Revisions of a rollout as the platform runs them (GET …/rollouts/NAME/revisions).
struct RevisionView {
  int64_t revision = 0;
  std::string podTemplateHash;
  std::vector<std::string> images;
  int32_t desiredReplicas = 0;
  int32_t readyReplicas = 0;
  int32_t availableReplicas = 0;
};
std::string encodeRevisions(const std::vector<RevisionView>& revisions);
Result<std::vector<RevisionView>> decodeRevisions(std::string_view body);

// Replicas of a rollout as the platform runs them (GET …/rollouts/NAME/replicas): the fields of
// platform::ObservedReplica, ordered by pod template hash and index.
struct ReplicaView {
  std::string name;
  std::string podTemplateHash;
  int32_t index = 0;
  std::string state;  // Running, Starting, CrashLoopBackOff, Waiting, Terminating
  bool ready = false;
  int32_t restarts = 0;
  std::string lastExit;  // "exit 1", "signal 9", "exited", "" if it never stopped
  std::string message;   // why it is not ready, "" when nothing is wrong
  std::optional<Time> startedAt;
  bool operator==(const ReplicaView&) const = default;
};
// {"kind":"ReplicaList","items":[{name, podTemplateHash, index, state, ready, restarts,
// lastExit, message, startedAt (RFC 3339, absent while not running)}]}
std::string encodeReplicas(const std::vector<ReplicaView>& replicas);
// kInvalidArgument for a body that is not a list of replicas (the field named).
Result<std::vector<ReplicaView>> decodeReplicas(std::string_view body);

// A piece of one replica's log (GET …/rollouts/NAME/logs?replica=R&offset=N&limit=B): bytes
// [offset, nextOffset) of the log; read on from nextOffset to follow it.
struct LogChunkView {
  std::string replica;
  std::string text;  // whole UTF-8 characters only (see completeUtf8Prefix)
  int64_t offset = 0;
  int64_t nextOffset = 0;
  bool operator==(const LogChunkView&) const = default;
};
std::string encodeLogChunk(const LogChunkView& chunk);
Result<LogChunkView> decodeLogChunk(std::string_view body);

// The length of the longest prefix of `text` that does not end inside a UTF-8 sequence: a read
// cut at a byte limit ends at a character boundary, and the rest comes with the next read. Bytes
// that are not UTF-8 at all are kept (JSON encoding replaces them).
size_t completeUtf8Prefix(std::string_view text);

// --- errors --------------------------------------------------------------------------------------

// Every error response: {"status":409,"reason":"conflict","message":"…","diagnostics":[…]}.
// `diagnostics` holds the lint errors of an invalid manifest (400).
struct ApiErrorBody {
  int status = 500;
  std::string reason;  // errorCodeName() of the cause, e.g. "conflict"
  std::string message;
  std::vector<spec::Diagnostic> diagnostics;
};
std::string encodeError(const ApiErrorBody& error);
Result<ApiErrorBody> decodeError(std::string_view body);

// The HTTP status for an error code: kInvalidArgument/kParse 400, kUnauthenticated 401,
// kPermissionDenied 403, kNotFound 404, kAlreadyExists/kConflict 409, kFailedPrecondition 422,
// kUnsupported 501, kUnavailable 503, kDeadlineExceeded 504, others 500.
int httpStatusFor(ErrorCode code);

// --- watch ---------------------------------------------------------------------------------------

// A position in the watch stream: the last object revision and the last event id seen. Sent as
// the SSE `id:` "REVISION.EVENTID" and given back in Last-Event-ID to resume.
struct WatchCursor {
  int64_t revision = 0;
  int64_t eventId = 0;  // -1: no event position given (events from now on)
  bool operator==(const WatchCursor&) const = default;
};
std::string formatCursor(const WatchCursor& cursor);
// Accepts "R" (eventId -1) or "R.E" (non-negative integers). kInvalidArgument otherwise.
Result<WatchCursor> parseCursor(std::string_view text);

// Strict non-negative decimal integer (no sign, no spaces, fits int64).
std::optional<int64_t> parseNonNegative(std::string_view text);

}  // namespace ramp::api
