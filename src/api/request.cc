#include "api/request.h"

#include <cctype>

#include <vector>

namespace ramp::api {
namespace {

std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    parts.push_back(path.substr(i, j - i));
    i = j;
  }
  return parts;
}

Error notFound(std::string_view path) {
  std::string shown(path.substr(0, 200));
  return Error{ErrorCode::kNotFound,
               "no endpoint " + shown +
                   " (see docs/api.md: /api/v1/namespaces/NS/{rollouts,analysistemplates,"
                   "analysisruns}[/NAME[/ACTION]], /api/v1/clusteranalysistemplates[/NAME], "
                   "/api/v1/apply, /api/v1/watch, /api/v1/events, /api/v1/whoami, /metrics, "
                   "/healthz, /readyz)"};
}

Error wrongMethod(std::string_view method, std::string_view path, std::string_view allowed) {
  return Error{ErrorCode::kUnsupported, std::string(method.substr(0, 16)) + " is not allowed on " +
                                            std::string(path.substr(0, 200)) +
                                            " (allowed: " + std::string(allowed) + ")"};
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decodeComponent(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hexValue(s[i + 1]) >= 0 &&
               hexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(s[i + 1]) * 16 + hexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Resource route: parts after "api", "v1".
Result<Route> objectRoute(std::string_view method, std::string_view path,
                          const std::vector<std::string_view>& p) {
  Route r;
  size_t i = 2;  // after api/v1
  bool namespaced = false;
  if (p.size() > i && p[i] == "namespaces") {
    if (p.size() < i + 3) return std::unexpected(notFound(path));
    r.namespace_ = std::string(p[i + 1]);
    if (auto s = checkNamespace(r.namespace_); !s) return std::unexpected(s.error());
    namespaced = true;
    i += 2;
  }
  if (p.size() <= i) return std::unexpected(notFound(path));
  r.resource = resourceByPlural(p[i]);
  if (r.resource == nullptr) return std::unexpected(notFound(path));
  if (namespaced && r.resource->clusterScoped) {
    return makeError(ErrorCode::kNotFound, std::string(r.resource->kindName) +
                                               " is cluster-scoped: use /api/v1/" +
                                               r.resource->plural);
  }
  ++i;
  size_t rest = p.size() - i;
  if (rest == 0) {
    if (method != "GET") return std::unexpected(wrongMethod(method, path, "GET"));
    r.endpoint = Endpoint::kList;
    return r;
  }
  if (!namespaced && !r.resource->clusterScoped) {
    // /api/v1/rollouts/NAME: namespaced objects are addressed under their namespace.
    return makeError(ErrorCode::kNotFound, std::string(r.resource->kindName) +
                                               " is namespaced: use /api/v1/namespaces/NS/" +
                                               r.resource->plural + "/NAME");
  }
  r.name = std::string(p[i]);
  if (auto s = checkName(r.name, "name"); !s) return std::unexpected(s.error());
  if (rest == 1) {
    if (method == "GET") {
      r.endpoint = Endpoint::kGet;
    } else if (method == "PUT") {
      r.endpoint = Endpoint::kPut;
    } else if (method == "DELETE") {
      r.endpoint = Endpoint::kDelete;
    } else {
      return std::unexpected(wrongMethod(method, path, "GET, PUT, DELETE"));
    }
    return r;
  }
  if (rest != 2) return std::unexpected(notFound(path));
  std::string_view sub = p[i + 1];
  if ((sub == "revisions" || sub == "replicas" || sub == "logs") &&
      r.resource->kind == spec::Kind::kRollout) {
    if (method != "GET") return std::unexpected(wrongMethod(method, path, "GET"));
    r.endpoint = sub == "revisions"  ? Endpoint::kRevisions
                 : sub == "replicas" ? Endpoint::kReplicas
                                     : Endpoint::kLogs;
    return r;
  }
  auto action = parseAction(sub);
  if (!action) return std::unexpected(notFound(path));
  bool isRunAction = *action == Action::kTerminate;
  const bool isAppAction =
      *action == Action::kSync || *action == Action::kRefresh || *action == Action::kRollback;
  if (isAppAction != (r.resource->kind == spec::Kind::kApplication)) {
    return makeError(ErrorCode::kInvalidArgument,
                     std::string("action ") + actionName(*action) + " does not apply to " +
                         r.resource->kindName +
                         " (sync, refresh and rollback are for Applications)");
  }
  if (!isAppAction && (isRunAction != (r.resource->kind == spec::Kind::kAnalysisRun) ||
                       (!isRunAction && r.resource->kind != spec::Kind::kRollout))) {
    return makeError(ErrorCode::kInvalidArgument,
                     std::string("action ") + actionName(*action) + " does not apply to " +
                         r.resource->kindName +
                         (isRunAction ? " (terminate is for AnalysisRuns)"
                                      : " (rollout actions are for Rollouts)"));
  }
  if (method != "POST") return std::unexpected(wrongMethod(method, path, "POST"));
  r.endpoint = Endpoint::kAction;
  r.action = *action;
  return r;
}

std::optional<std::string> single(const QueryParams& params, const char* key) {
  auto it = params.find(key);
  if (it == params.end()) return std::nullopt;
  return it->second;
}

Result<int64_t> intParam(const QueryParams& params, const char* key, int64_t def, int64_t min,
                         int64_t max) {
  auto v = single(params, key);
  if (!v) return def;
  auto n = parseNonNegative(*v);
  if (!n || *n < min || *n > max) {
    return makeError(ErrorCode::kInvalidArgument,
                     std::string("query parameter ") + key + " must be an integer in [" +
                         std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return *n;
}

}  // namespace

Result<Route> parseRoute(std::string_view method, std::string_view path) {
  if (path == "/metrics" || path == "/healthz" || path == "/readyz") {
    if (method != "GET" && method != "HEAD")
      return std::unexpected(wrongMethod(method, path, "GET"));
    Route r;
    r.endpoint = path == "/metrics"   ? Endpoint::kMetrics
                 : path == "/healthz" ? Endpoint::kHealthz
                                      : Endpoint::kReadyz;
    return r;
  }
  std::vector<std::string_view> p = splitPath(path);
  if (p.empty() || p[0] != "api") {
    if (method != "GET" && method != "HEAD") {
      return std::unexpected(wrongMethod(method, path, "GET"));
    }
    Route r;
    r.endpoint = Endpoint::kAsset;
    r.path = std::string(path);
    return r;
  }
  if (p.size() < 3 || p[1] != "v1") return std::unexpected(notFound(path));
  if (p.size() == 3) {
    Route r;
    if (p[2] == "apply") {
      if (method != "POST") return std::unexpected(wrongMethod(method, path, "POST"));
      r.endpoint = Endpoint::kApply;
      return r;
    }
    if (p[2] == "watch" || p[2] == "events" || p[2] == "whoami") {
      if (method != "GET") return std::unexpected(wrongMethod(method, path, "GET"));
      r.endpoint = p[2] == "watch"    ? Endpoint::kWatch
                   : p[2] == "events" ? Endpoint::kEvents
                                      : Endpoint::kWhoami;
      return r;
    }
  }
  if (p.size() == 4 && p[2] == "audit") {
    if (p[3] != "records" && p[3] != "checkpoints" && p[3] != "key") {
      return std::unexpected(notFound(path));
    }
    if (method != "GET") return std::unexpected(wrongMethod(method, path, "GET"));
    Route r;
    r.endpoint = Endpoint::kAudit;
    r.name = std::string(p[3]);
    return r;
  }
  if (p.size() == 4 && p[2] == "gitops" && p[3] == "webhook") {
    if (method != "POST") return std::unexpected(wrongMethod(method, path, "POST"));
    Route r;
    r.endpoint = Endpoint::kWebhook;
    return r;
  }
  return objectRoute(method, path, p);
}

std::optional<Role> requiredRole(const Route& route) {
  switch (route.endpoint) {
    case Endpoint::kHealthz:
    case Endpoint::kReadyz:
    case Endpoint::kWebhook:  // the Git server signs it (gitops_service.h)
    case Endpoint::kAsset: return std::nullopt;
    case Endpoint::kList:
    case Endpoint::kGet:
    case Endpoint::kRevisions:
    case Endpoint::kReplicas:
    case Endpoint::kLogs:
    case Endpoint::kEvents:
    case Endpoint::kWatch:
    case Endpoint::kWhoami:
    case Endpoint::kMetrics: return Role::kViewer;
    case Endpoint::kAudit: return Role::kAuditor;
    case Endpoint::kAction: return Role::kOperator;
    case Endpoint::kApply:
    case Endpoint::kPut:
    case Endpoint::kDelete: return Role::kAdmin;
  }
  return Role::kAdmin;
}

QueryParams parseQueryString(std::string_view query) {
  QueryParams params;
  size_t i = 0;
  while (i <= query.size()) {
    size_t amp = query.find('&', i);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view piece = query.substr(i, amp - i);
    if (!piece.empty()) {
      size_t eq = piece.find('=');
      std::string key = decodeComponent(piece.substr(0, eq));
      std::string value =
          eq == std::string_view::npos ? std::string() : decodeComponent(piece.substr(eq + 1));
      params.emplace(std::move(key), std::move(value));
    }
    i = amp + 1;
  }
  return params;
}

Result<AuditRecordsQuery> parseAuditRecordsQuery(const QueryParams& params) {
  AuditRecordsQuery q;
  for (const auto& [key, value] : params) {
    if (key != "from" && key != "limit" && key != "kind" && key != "namespace" && key != "name") {
      return makeError(ErrorCode::kInvalidArgument,
                       "unknown query parameter \"" + key.substr(0, 64) +
                           "\" for /api/v1/audit/records (known: from, limit, kind, namespace, "
                           "name)");
    }
  }
  auto from = intParam(params, "from", 0, 0, INT64_MAX);
  if (!from) return std::unexpected(from.error());
  q.from = *from;
  auto limit = intParam(params, "limit", 1000, 1, 1000);
  if (!limit) return std::unexpected(limit.error());
  q.limit = *limit;
  if (auto name = single(params, "name"); name && !name->empty()) {
    const Resource* r = resourceByUserName(single(params, "kind").value_or("rollout"));
    if (r == nullptr) {
      return makeError(ErrorCode::kInvalidArgument, "query parameter kind: unknown kind");
    }
    std::string ns = single(params, "namespace").value_or("");
    if (ns.empty() && !r->clusterScoped) ns = std::string(kDefaultNamespace);
    q.object = store::ObjectKey{r->kindName, r->clusterScoped ? "" : ns, *name};
  }
  return q;
}

Result<EventsQuery> parseEventsQuery(const QueryParams& params) {
  EventsQuery q;
  for (const auto& [key, value] : params) {
    if (key != "kind" && key != "namespace" && key != "name" && key != "sinceId" &&
        key != "limit" && key != "tail") {
      return makeError(ErrorCode::kInvalidArgument,
                       "unknown query parameter \"" + key.substr(0, 64) +
                           "\" for /api/v1/events (known: kind, namespace, name, sinceId, limit, "
                           "tail)");
    }
  }
  if (auto v = single(params, "kind")) {
    const Resource* r = resourceByUserName(*v);
    if (r == nullptr) {
      return makeError(ErrorCode::kInvalidArgument, "query parameter kind: unknown kind");
    }
    q.kind = r->kindName;
  }
  if (auto v = single(params, "namespace"); v && !v->empty()) {
    if (auto s = checkNamespace(*v); !s) return std::unexpected(s.error());
    q.namespace_ = *v;
  }
  if (auto v = single(params, "name"); v && !v->empty()) {
    if (auto s = checkName(*v, "name"); !s) return std::unexpected(s.error());
    q.name = *v;
  }
  if (!q.name.empty() && q.kind.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "query parameter name needs kind");
  }
  auto since = intParam(params, "sinceId", 0, 0, INT64_MAX);
  if (!since) return std::unexpected(since.error());
  q.sinceId = *since;
  auto limit = intParam(params, "limit", 100, 1, 1000);
  if (!limit) return std::unexpected(limit.error());
  q.limit = *limit;
  auto tail = intParam(params, "tail", 0, 0, 1000);
  if (!tail) return std::unexpected(tail.error());
  q.tail = *tail;
  return q;
}

Result<LogsQuery> parseLogsQuery(const QueryParams& params) {
  LogsQuery q;
  for (const auto& [key, value] : params) {
    if (key != "replica" && key != "offset" && key != "limit") {
      return makeError(ErrorCode::kInvalidArgument,
                       "unknown query parameter \"" + key.substr(0, 64) +
                           "\" for logs (known: replica, offset, limit)");
    }
  }
  auto replica = single(params, "replica");
  if (!replica || replica->empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "query parameter replica is required (the names are at …/replicas)");
  }
  q.replica = *replica;
  if (auto v = single(params, "offset")) {
    std::string_view text = *v;
    bool fromEnd = !text.empty() && text.front() == '-';
    auto n = parseNonNegative(fromEnd ? text.substr(1) : text);
    if (!n) {
      return makeError(ErrorCode::kInvalidArgument,
                       "query parameter offset must be an integer (negative: from the end)");
    }
    q.offset = fromEnd ? -*n : *n;
  }
  auto limit = intParam(params, "limit", q.limit, 1, kMaxLogLimit);
  if (!limit) return std::unexpected(limit.error());
  q.limit = *limit;
  return q;
}

std::string encodeLogsQuery(const LogsQuery& q) {
  std::string replica;
  for (unsigned char c : q.replica) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      replica += static_cast<char>(c);
    } else {
      constexpr char kHex[] = "0123456789ABCDEF";
      replica += '%';
      replica += kHex[c >> 4];
      replica += kHex[c & 15];
    }
  }
  return "replica=" + replica + "&offset=" + std::to_string(q.offset) +
         "&limit=" + std::to_string(q.limit);
}

Result<WatchQuery> parseWatchQuery(const QueryParams& params, std::string_view lastEventId) {
  WatchQuery q;
  for (const auto& [key, value] : params) {
    if (key != "kind" && key != "namespace" && key != "name" && key != "resourceVersion" &&
        key != "events") {
      return makeError(ErrorCode::kInvalidArgument,
                       "unknown query parameter \"" + key.substr(0, 64) +
                           "\" for /api/v1/watch (known: kind, namespace, name, resourceVersion, "
                           "events)");
    }
  }
  if (auto v = single(params, "kind"); v && !v->empty()) {
    q.resource = resourceByUserName(*v);
    if (q.resource == nullptr) {
      return makeError(ErrorCode::kInvalidArgument, "query parameter kind: unknown kind");
    }
  }
  if (auto v = single(params, "namespace"); v && !v->empty()) {
    if (auto s = checkNamespace(*v); !s) return std::unexpected(s.error());
    q.namespace_ = *v;
  }
  if (auto v = single(params, "name"); v && !v->empty()) {
    if (auto s = checkName(*v, "name"); !s) return std::unexpected(s.error());
    if (q.resource == nullptr) {
      return makeError(ErrorCode::kInvalidArgument, "query parameter name needs kind");
    }
    q.name = *v;
  }
  if (auto v = single(params, "events")) {
    if (*v != "true" && *v != "false") {
      return makeError(ErrorCode::kInvalidArgument, "query parameter events must be true or false");
    }
    q.events = *v == "true";
  }
  if (!lastEventId.empty()) {
    auto c = parseCursor(lastEventId);
    if (!c) {
      return makeError(ErrorCode::kInvalidArgument, "Last-Event-ID: " + c.error().message);
    }
    q.from = *c;
  } else if (auto v = single(params, "resourceVersion"); v && !v->empty()) {
    auto c = parseCursor(*v);
    if (!c) {
      return makeError(ErrorCode::kInvalidArgument, "resourceVersion: " + c.error().message);
    }
    q.from = *c;
  }
  return q;
}

}  // namespace ramp::api
