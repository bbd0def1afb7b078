#pragma once

// Request decoding for the HTTP API, independent of the HTTP library so it can be fuzzed and
// unit-tested: which endpoint a method and path name, which role it needs, and the query
// parameters of list, events and watch requests.
//
// Thread safety: pure functions.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "api/types.h"
#include "ramp/error.h"

namespace ramp::api {

enum class Endpoint {
  kApply,      // POST /api/v1/apply
  kList,       // GET  collection
  kGet,        // GET  object
  kPut,        // PUT  object (apply of one object, JSON)
  kDelete,     // DELETE object
  kAction,     // POST …/rollouts/NAME/ACTION, …/analysisruns/NAME/terminate
  kRevisions,  // GET  …/rollouts/NAME/revisions
  kReplicas,   // GET  …/rollouts/NAME/replicas
  kLogs,       // GET  …/rollouts/NAME/logs
  kEvents,     // GET  /api/v1/events
  kWhoami,     // GET  /api/v1/whoami
  kAudit,      // GET  /api/v1/audit/records|checkpoints|key (Route::name says which)
  kWatch,      // GET  /api/v1/watch
  kMetrics,    // GET  /metrics
  kHealthz,    // GET  /healthz
  kReadyz,     // GET  /readyz
  kAsset,      // GET  any other path outside /api/: the dashboard's files (static_assets.h)
  kWebhook,    // POST /api/v1/gitops/webhook (signed by the Git server, no token)
};

struct Route {
  Endpoint endpoint = Endpoint::kHealthz;
  const Resource* resource = nullptr;  // kList … kLogs
  std::string namespace_;              // "" = every namespace (kList) or cluster-scoped
  std::string name;
  Action action = Action::kPromote;  // kAction
  std::string path;                  // kAsset: the path as requested
};

// Decodes an (already percent-decoded) path. A GET or HEAD of a path outside /api/ (other than
// /metrics, /healthz, /readyz) is kAsset, whether or not such a file exists. Errors: kNotFound for
// a path under /api/ that no endpoint has (the message says what exists), kUnsupported for a
// known path with the wrong method (405), kInvalidArgument for a bad name or namespace, or an
// action on a kind that has none.
Result<Route> parseRoute(std::string_view method, std::string_view path);

// The least role an endpoint needs; std::nullopt for /healthz, /readyz and the dashboard's files
// (no authentication: the data they show needs a token).
std::optional<Role> requiredRole(const Route& route);

using QueryParams = std::multimap<std::string, std::string>;

// Splits "a=1&b=x%20y" into parameters (percent- and '+'-decoded). Never fails: malformed pieces
// are kept as written.
QueryParams parseQueryString(std::string_view query);

// GET /api/v1/events ? kind= & namespace= & name= & sinceId= & limit= (1..1000, default 100)
// & tail=N (the newest N matching events instead of the oldest after sinceId).
struct EventsQuery {
  std::string kind;  // the kind name ("Rollout", …) or "" for every kind
  std::string namespace_;
  std::string name;
  int64_t sinceId = 0;
  int64_t limit = 100;
  int64_t tail = 0;  // 0 = off
};
Result<EventsQuery> parseEventsQuery(const QueryParams& params);

// GET /api/v1/audit/records ? from=N (the first index, default 0) & limit=N (1..1000, default
// 1000) & kind= & namespace= & name= (only one object's records; namespace defaults to
// "default" when a name is given).
struct AuditRecordsQuery {
  int64_t from = 0;
  int64_t limit = 1000;
  std::optional<store::ObjectKey> object;
};
// kInvalidArgument naming the parameter for an unknown one or a bad number.
Result<AuditRecordsQuery> parseAuditRecordsQuery(const QueryParams& params);

// GET …/rollouts/NAME/logs ? replica=NAME (required) & offset=N (bytes from the start; -N: the
// last N bytes; default 0) & limit=B (1..1048576, default 65536).
struct LogsQuery {
  std::string replica;
  int64_t offset = 0;
  int64_t limit = 65536;
  bool operator==(const LogsQuery&) const = default;
};
inline constexpr int64_t kMaxLogLimit = 1 << 20;
// kInvalidArgument naming the parameter for an unknown one, a missing replica or a bad number.
Result<LogsQuery> parseLogsQuery(const QueryParams& params);
// The query string a client sends for `query` ("replica=R&offset=N&limit=B", the replica name
// percent-encoded); parseLogsQuery(parseQueryString(...)) gives `query` back.
std::string encodeLogsQuery(const LogsQuery& query);

// GET /api/v1/watch ? kind= & namespace= & name= & resourceVersion= & events=true|false, or the
// Last-Event-ID header (which wins). Without a position the stream starts with the current
// objects, then their changes.
struct WatchQuery {
  const Resource* resource = nullptr;  // nullptr = every kind
  std::string namespace_;              // "" = every namespace
  std::string name;                    // "" = every object
  std::optional<WatchCursor> from;
  bool events = true;  // also stream events about the matching objects
};
Result<WatchQuery> parseWatchQuery(const QueryParams& params, std::string_view lastEventId);

}  // namespace ramp::api
