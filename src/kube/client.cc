#include "kube/client.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/http_client.h"

namespace ramp::kube {
namespace {

// A rotated service-account token is re-read at most this often.
constexpr Duration kTokenReread = Duration(60000);

const char* contentTypeOf(PatchType t) {
  switch (t) {
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kJson: return "application/json-patch+json";
    case PatchType::kStrategicMerge: return "application/strategic-merge-patch+json";
    case PatchType::kApply: return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

}  // namespace

Client::Client(ClusterConfig config, Clock& clock, ClientOptions options)
    : config_(std::move(config)),
      clock_(clock),
      options_(std::move(options)),
      buckets_{TokenBucket(options_.qps, options_.burst),
               TokenBucket(options_.qps, options_.burst)} {}

int rateClass(std::string_view path) { return path.starts_with("/apis/argoproj.io/") ? 1 : 0; }

Result<std::unique_ptr<Client>> Client::create(ClusterConfig config, Clock& clock,
                                               ClientOptions options) {
  if (config.server.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "kubernetes: no API server address");
  }
  return std::unique_ptr<Client>(new Client(std::move(config), clock, std::move(options)));
}

Result<std::string> Client::bearerToken() {
  if (config_.tokenFile.empty()) return config_.token;
  std::lock_guard lock(tokenMu_);
  Time now = clock_.now();
  if (token_.empty() || now - tokenReadAt_ >= kTokenReread || now < tokenReadAt_) {
    std::ifstream in(config_.tokenFile);
    if (!in) {
      if (!token_.empty()) return token_;  // keep the last one while the file is replaced
      return makeError(ErrorCode::kUnauthenticated,
                       "kubernetes: cannot read the token file " + config_.tokenFile);
    }
    std::ostringstream s;
    s << in.rdbuf();
    token_ = s.str();
    while (!token_.empty() && (token_.back() == '\n' || token_.back() == ' ')) token_.pop_back();
    tokenReadAt_ = now;
  }
  return token_;
}

Result<std::string> Client::send(const Call& call,
                                 const std::function<bool(std::string_view)>& onBody,
                                 std::function<bool()> keepGoing) {
  TokenBucket& bucket = buckets_[rateClass(call.path)];
  if (Duration wait = bucket.reserve(clock_.now()); wait.count() > 0) clock_.sleepFor(wait);
  http::Request req;
  req.method = call.method;
  req.url = config_.server + call.path;
  req.timeout = call.timeout.count() > 0 ? call.timeout : options_.timeout;
  req.keepAlive = true;  // a pooled connection: no TLS handshake per request
  req.insecure = config_.insecureSkipTlsVerify;
  req.caPem = config_.caPem;
  req.clientCertPem = config_.clientCertPem;
  req.clientKeyPem = config_.clientKeyPem;
  req.headers.push_back({"Accept", "application/json"});
  req.headers.push_back({"User-Agent", options_.userAgent});
  if (!call.contentType.empty()) req.headers.push_back({"Content-Type", call.contentType});
  auto token = bearerToken();
  if (!token) return std::unexpected(token.error());
  if (!token->empty()) req.headers.push_back({"Authorization", "Bearer " + *token});
  req.body = call.body;
  // A streamed success goes to onBody; an error status's body comes back for the message.
  if (onBody) req.onBody = onBody;
  req.keepGoing = std::move(keepGoing);
  requests_.fetch_add(1, std::memory_order_relaxed);
  auto res = http::send(req);
  if (!res) {
    return makeError(res.error().code,
                     call.verb + " " + call.resource + ": " + res.error().message);
  }
  if (!res->ok())
    return std::unexpected(apiError(call.verb, call.resource, res->status, res->body));
  return std::move(res->body);
}

Result<std::string> Client::get(const ResourceType& type, std::string_view ns,
                                std::string_view name) {
  return send({"get", describe(type, ns, name), "GET", objectPath(type, ns, name), "", ""});
}

Result<ListResult> Client::list(const ResourceType& type, std::string_view ns,
                                ListOptions options) {
  ListResult out;
  const std::string what = describe(type, ns, "");
  bool restarted = false;
  while (true) {
    auto body = send({"list", what, "GET", collectionPath(type, ns) + listQuery(options), "", ""});
    if (!body) {
      // An expired continue token: start the list again, once.
      if (isGone(body.error()) && !options.continueToken.empty() && !restarted) {
        restarted = true;
        options.continueToken.clear();
        out = {};
        continue;
      }
      return std::unexpected(body.error());
    }
    auto page = decodeListPage(*body, what);
    if (!page) return std::unexpected(page.error());
    for (std::string& item : page->items) out.items.push_back(std::move(item));
    out.resourceVersion = page->resourceVersion;
    if (page->continueToken.empty()) return out;
    options.continueToken = page->continueToken;
  }
}

Result<std::string> Client::create(const ResourceType& type, std::string_view ns,
                                   std::string_view json) {
  return send({"create", describe(type, ns, ""), "POST", collectionPath(type, ns),
               std::string(json), "application/json"});
}

Result<std::string> Client::update(const ResourceType& type, std::string_view ns,
                                   std::string_view name, std::string_view json) {
  return send({"update", describe(type, ns, name), "PUT", objectPath(type, ns, name),
               std::string(json), "application/json"});
}

Result<std::string> Client::updateStatus(const ResourceType& type, std::string_view ns,
                                         std::string_view name, std::string_view json) {
  return send({"update status of", describe(type, ns, name), "PUT",
               objectPath(type, ns, name, "status"), std::string(json), "application/json"});
}

Result<std::string> Client::patch(const ResourceType& type, std::string_view ns,
                                  std::string_view name, PatchType patchType, std::string_view body,
                                  std::string_view subresource) {
  std::string path = objectPath(type, ns, name, subresource);
  if (patchType == PatchType::kApply) {
    path += "?fieldManager=" + http::urlEncode(options_.fieldManager) + "&force=true";
  }
  return send({"patch", describe(type, ns, name), "PATCH", path, std::string(body),
               contentTypeOf(patchType)});
}

Status Client::remove(const ResourceType& type, std::string_view ns, std::string_view name,
                      bool foreground) {
  std::string body =
      foreground ? R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground"})"
                 : "";
  auto r = send({"delete", describe(type, ns, name), "DELETE", objectPath(type, ns, name), body,
                 body.empty() ? "" : "application/json"});
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<std::string> Client::removeAt(const ResourceType& type, std::string_view ns,
                                     std::string_view name, std::string_view resourceVersion) {
  nlohmann::json options = {{"kind", "DeleteOptions"},
                            {"apiVersion", "v1"},
                            {"preconditions", {{"resourceVersion", resourceVersion}}}};
  return send({"delete", describe(type, ns, name), "DELETE", objectPath(type, ns, name),
               options.dump(), "application/json"});
}

Status Client::watch(const ResourceType& type, std::string_view ns, WatchOptions options,
                     const std::function<bool(const WatchEvent&)>& onEvent,
                     std::function<bool()> keepGoing) {
  WatchDecoder decoder;
  std::optional<Error> failure;
  const std::string what = describe(type, ns, "");
  auto onBody = [&](std::string_view piece) {
    auto events = decoder.feed(piece);
    if (!events) {
      failure = Error{events.error().code, "watch " + what + ": " + events.error().message};
      return false;
    }
    for (const WatchEvent& e : *events) {
      if (e.type == WatchEvent::Type::kError) {
        failure = apiError("watch", what, e.errorCode, e.object);
        return false;
      }
      if (!onEvent(e)) return false;
    }
    return true;
  };
  // Silent until the server's timeoutSeconds when nothing changes: not an error before then
  // (a 30 s limit restarted every idle watch twice a minute).
  const Duration silence =
      Duration(std::max<int64_t>(0, options.timeoutSeconds) * 1000) + options_.timeout;
  auto r =
      send({"watch", what, "GET", collectionPath(type, ns) + watchQuery(options), "", "", silence},
           onBody, std::move(keepGoing));
  if (failure) return std::unexpected(*failure);
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<std::string> Client::getPath(const std::string& path) {
  return send({"get", path, "GET", path, "", ""});
}

Result<std::string> retryOnConflict(int attempts,
                                    const std::function<Result<std::string>()>& attempt) {
  Result<std::string> last = makeError(ErrorCode::kInternal, "retryOnConflict: no attempt");
  for (int i = 0; i < std::max(1, attempts); ++i) {
    last = attempt();
    if (last || last.error().code != ErrorCode::kConflict) return last;
  }
  return last;
}

}  // namespace ramp::kube
