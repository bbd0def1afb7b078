#include "api/api_server.h"

#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/auth.h"
#include "api/gitops_service.h"
#include "api/metrics.h"
#include "api/object_service.h"
#include "api/request.h"
#include "api/static_assets.h"
#include "api/watch_hub.h"
#include "spec/codec.h"

namespace ramp::api {
namespace {

// httplib's default pool has a fixed number of threads, and a watch stream holds its
// connection's thread for as long as it lasts; this queue grows a thread per concurrently open
// connection up to `max` (idle threads are reused).
class ElasticTaskQueue final : public httplib::TaskQueue {
 public:
  explicit ElasticTaskQueue(size_t max) : max_(std::max<size_t>(1, max)) {}

  void enqueue(std::function<void()> fn) override {
    std::lock_guard lock(mu_);
    if (shutdown_) return;
    jobs_.push_back(std::move(fn));
    if (jobs_.size() > idle_ && threads_.size() < max_) {
      threads_.emplace_back([this] { work(); });
    } else {
      cv_.notify_one();
    }
  }

  void shutdown() override {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      shutdown_ = true;
      threads.swap(threads_);
    }
    cv_.notify_all();
    for (std::thread& t : threads) t.join();
  }

 private:
  void work() {
    while (true) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu_);
        ++idle_;
        cv_.wait(lock, [&] { return shutdown_ || !jobs_.empty(); });
        --idle_;
        if (jobs_.empty()) return;
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      fn();
    }
  }

  const size_t max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool shutdown_ = false;
};

struct ListenAddress {
  std::string host;
  int port = 0;
  bool loopback = false;
};

// Why `a` cannot be bound, in words (e.g. "address already in use"): httplib reports only that
// binding failed, so the bind is tried once more on a plain socket to learn errno.
std::string bindFailure(const ListenAddress& a) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string port = std::to_string(a.port);
  if (int rc = ::getaddrinfo(a.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return std::string("cannot resolve the host: ") + ::gai_strerror(rc);
  }
  int err = 0;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    int rc = ::bind(fd, ai->ai_addr, ai->ai_addrlen);
    err = rc == 0 ? 0 : errno;
    ::close(fd);
    if (rc != 0) break;
  }
  ::freeaddrinfo(found);
  if (err == EADDRINUSE) return "address already in use (is another ramp serve running?)";
  if (err == EADDRNOTAVAIL) return "address not available on this host";
  if (err != 0) return std::strerror(err);
  return "the address could not be bound";
}

Result<ListenAddress> parseListen(const std::string& listen) {
  ListenAddress a;
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 >= listen.size()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "--listen " + listen + ": expected HOST:PORT, e.g. 127.0.0.1:8080");
  }
  a.host = listen.substr(0, colon);
  if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']') {
    a.host = a.host.substr(1, a.host.size() - 2);
  }
  auto port = parseNonNegative(listen.substr(colon + 1));
  if (!port || *port > 65535 || a.host.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "--listen " + listen + ": expected HOST:PORT with a port in 0..65535");
  }
  a.port = static_cast<int>(*port);
  a.loopback = a.host == "localhost" || a.host.rfind("127.", 0) == 0 || a.host == "::1";
  return a;
}

void sendReply(httplib::Response& res, const ApiReply& reply) {
  res.status = reply.status;
  res.set_content(reply.body, "application/json");
}

// One unlabelled sample with its HELP and TYPE lines.
std::string endpointWhat(const Route& route) {
  switch (route.endpoint) {
    case Endpoint::kApply: return "apply";
    case Endpoint::kPut: return "apply";
    case Endpoint::kDelete: return "delete";
    case Endpoint::kAction: return std::string(actionName(route.action));
    case Endpoint::kWatch: return "watch";
    case Endpoint::kMetrics: return "/metrics";
    case Endpoint::kWhoami: return "whoami";
    case Endpoint::kAudit: return "reading the audit log";
    default: return "reading objects";
  }
}

}  // namespace

struct ApiServer::Impl {
  store::StateStore& store;
  Clock& clock;
  ApiOptions options;
  std::unique_ptr<TokensFile> tokens;  // nullptr: authentication off
  std::unique_ptr<ObjectService> service;
  std::unique_ptr<WatchHub> hub;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  ListenAddress listen;
  int port = 0;
  bool tls = false;
  std::atomic<bool> stopped{false};
  std::atomic<uint64_t> requests[6] = {};  // by status class 1xx..5xx (index 1..5)
  std::atomic<uint64_t> watchStarted{0};
  // The listening socket, as httplib's socket-options hook last saw it (to raise its backlog).
  int listenFd = -1;

  Impl(store::StateStore& s, Clock& c, ApiOptions o) : store(s), clock(c), options(std::move(o)) {}

  Result<Identity> authenticate(std::string_view authorization) {
    if (!tokens) return Authenticator::disabled().authenticate(authorization);
    return tokens->authenticate(authorization);
  }
  // Answers what can be answered before the body is read: a caller that may not use the route
  // (so no body is read for it), a form-encoded body, a POST/PUT/PATCH without a body. Returns
  // true when it answered.
  bool preRoute(const httplib::Request& req, httplib::Response& res);
  void handle(const httplib::Request& req, httplib::Response& res);
  void handleWatch(const httplib::Request& req, httplib::Response& res);
  void handleMetrics(httplib::Response& res);
  void handleAsset(const httplib::Request& req, httplib::Response& res, const Route& route);
  void handleWhoami(const Identity& caller, httplib::Response& res);
  ApiReply handleAudit(const Route& route, const QueryParams& params);
};

// The audit log's rows as stored; the client verifies them (docs/audit.md).
ApiReply ApiServer::Impl::handleAudit(const Route& route, const QueryParams& params) {
  auto storeFailed = [](const Error& e) {
    return ObjectService::error(
        Error{e.code == ErrorCode::kUnsupported ? e.code : ErrorCode::kUnavailable,
              "state store: " + e.message});
  };
  if (route.name == "key") return ApiReply{200, encodeAuditKey({options.auditPublicKey})};
  if (route.name == "checkpoints") {
    auto cps = store.listAuditCheckpoints();
    if (!cps) return storeFailed(cps.error());
    return ApiReply{200, encodeAuditCheckpoints(*cps)};
  }
  auto q = parseAuditRecordsQuery(params);
  if (!q) return ObjectService::error(q.error());
  store::AuditQuery query;
  query.object = q->object;
  query.fromIndex = q->from;
  query.limit = q->limit;
  AuditRecordsView view;
  auto size = store.auditSize();
  if (!size) return storeFailed(size.error());
  view.size = *size;
  auto records = store.listAuditRecords(query);
  if (!records) return storeFailed(records.error());
  view.records = std::move(*records);
  return ApiReply{200, encodeAuditRecords(view)};
}

void ApiServer::Impl::handleAsset(const httplib::Request& req, httplib::Response& res,
                                  const Route& route) {
  const StaticAsset* asset = findStaticAsset(route.path);
  if (asset == nullptr) {
    sendReply(res, ObjectService::error(
                       404, ErrorCode::kNotFound,
                       "no file " + route.path.substr(0, 200) +
                           " in the dashboard (open / for the dashboard; the API is under "
                           "/api/v1, see docs/api.md)"));
    return;
  }
  res.set_header("Content-Security-Policy", std::string(kContentSecurityPolicy));
  res.set_header("Cache-Control", std::string(kAssetCacheControl));
  res.set_header("ETag", asset->etag);
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("X-Frame-Options", "DENY");
  if (req.has_header("If-None-Match") &&
      etagMatches(req.get_header_value("If-None-Match"), asset->etag)) {
    res.status = 304;
    return;
  }
  res.set_content(asset->body.data(), asset->body.size(), asset->contentType);
}

void ApiServer::Impl::handleWhoami(const Identity& caller, httplib::Response& res) {
  nlohmann::json j{{"name", caller.name},
                   {"role", roleName(caller.role)},
                   {"authentication", tokens != nullptr}};
  res.set_header("Cache-Control", "no-store");
  res.set_content(j.dump(), "application/json");
}

bool ApiServer::Impl::preRoute(const httplib::Request& req, httplib::Response& res) {
  auto route = parseRoute(req.method, req.path);
  if (!route) return false;  // handle() answers it, without reading a body it does not need
  if (auto role = requiredRole(*route)) {
    auto who = authenticate(req.get_header_value("Authorization"));
    if (!who) {
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_header("WWW-Authenticate", "Bearer realm=\"ramp\"");
      sendReply(res, ObjectService::error(who.error()));
      return true;
    }
    if (auto ok = authorize(*who, *role, endpointWhat(*route)); !ok) {
      res.set_header("X-Content-Type-Options", "nosniff");
      sendReply(res, ObjectService::error(ok.error()));
      return true;
    }
  }
  bool hasBodyMethod = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
  if (!hasBodyMethod || route->endpoint == Endpoint::kWebhook) return false;
  std::string type = req.get_header_value("Content-Type");
  std::string length = req.get_header_value("Content-Length");
  bool empty = !req.has_header("Transfer-Encoding") && (length.empty() || length == "0");
  // An empty body is empty whatever its type (libcurl labels an empty POST as a form).
  if (!empty && (type.starts_with("application/x-www-form-urlencoded") ||
                 type.starts_with("multipart/form-data"))) {
    res.set_header("X-Content-Type-Options", "nosniff");
    sendReply(res, ObjectService::error(
                       415, ErrorCode::kInvalidArgument,
                       "request body: Content-Type " + type.substr(0, type.find(';')) +
                           " is not accepted: send application/yaml or application/json (curl: "
                           "-H 'Content-Type: application/yaml' --data-binary @FILE)"));
    return true;
  }
  // No Content-Length and not chunked: the body is empty (httplib would wait for the connection
  // to close, then answer 400).
  if (!req.has_header("Content-Length") && req.get_header_value("Transfer-Encoding").empty()) {
    handle(req, res);
    return true;
  }
  return false;
}

void ApiServer::Impl::handle(const httplib::Request& req, httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  auto route = parseRoute(req.method, req.path);
  if (!route) {
    if (route.error().code == ErrorCode::kUnsupported) {
      sendReply(res, ObjectService::error(405, ErrorCode::kUnsupported, route.error().message));
    } else {
      sendReply(res, ObjectService::error(route.error()));
    }
    return;
  }
  Identity caller{"local", Role::kAdmin};
  if (auto role = requiredRole(*route)) {
    auto who = authenticate(req.get_header_value("Authorization"));
    if (!who) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"ramp\"");
      sendReply(res, ObjectService::error(who.error()));
      return;
    }
    if (auto ok = authorize(*who, *role, endpointWhat(*route)); !ok) {
      sendReply(res, ObjectService::error(ok.error()));
      return;
    }
    caller = *who;
  }
  switch (route->endpoint) {
    case Endpoint::kAsset: handleAsset(req, res, *route); return;
    case Endpoint::kWhoami: handleWhoami(caller, res); return;
    case Endpoint::kHealthz: res.set_content("ok\n", "text/plain"); return;
    case Endpoint::kReadyz: {
      bool ready = !stopped.load() && (!options.ready || options.ready());
      res.status = ready ? 200 : 503;
      res.set_content(ready ? "ok\n" : "not ready\n", "text/plain");
      return;
    }
    case Endpoint::kMetrics: handleMetrics(res); return;
    case Endpoint::kWatch: handleWatch(req, res); return;
    case Endpoint::kApply: {
      bool dryRun = false;
      for (const auto& [k, v] : req.params) {
        if (k == "dryRun" && v == "All") {
          dryRun = true;
          continue;
        }
        sendReply(res, ObjectService::error(400, ErrorCode::kInvalidArgument,
                                            k == "dryRun"
                                                ? "dryRun must be \"All\" (as Kubernetes' dryRun)"
                                                : "unknown query parameter \"" + k.substr(0, 64) +
                                                      "\" for apply (dryRun=All is the only one)"));
        return;
      }
      sendReply(res, service->apply(caller, req.body, dryRun));
      return;
    }
    case Endpoint::kPut: sendReply(res, service->put(caller, *route, req.body)); return;
    case Endpoint::kGet: sendReply(res, service->get(*route)); return;
    case Endpoint::kList: {
      for (const auto& [k, v] : req.params) {
        (void)v;
        sendReply(res, ObjectService::error(
                           400, ErrorCode::kInvalidArgument,
                           "unknown query parameter \"" + k.substr(0, 64) + "\" for a list"));
        return;
      }
      sendReply(res, service->list(*route));
      return;
    }
    case Endpoint::kDelete: {
      std::optional<int64_t> rv;
      if (req.has_param("resourceVersion")) {
        rv = parseNonNegative(req.get_param_value("resourceVersion"));
        if (!rv) {
          sendReply(res, ObjectService::error(400, ErrorCode::kInvalidArgument,
                                              "resourceVersion must be a non-negative integer"));
          return;
        }
      }
      sendReply(res, service->remove(caller, *route, rv));
      return;
    }
    case Endpoint::kAction: sendReply(res, service->action(caller, *route, req.body)); return;
    case Endpoint::kRevisions: sendReply(res, service->revisions(*route)); return;
    case Endpoint::kReplicas: sendReply(res, service->replicas(*route)); return;
    case Endpoint::kLogs: {
      auto q = parseLogsQuery(req.params);
      if (!q) {
        sendReply(res, ObjectService::error(q.error()));
        return;
      }
      res.set_header("Cache-Control", "no-store");
      sendReply(res, service->logs(*route, *q));
      return;
    }
    case Endpoint::kAudit: sendReply(res, handleAudit(*route, req.params)); return;
    case Endpoint::kWebhook: {
      std::map<std::string, std::string> headers;
      for (const auto& [name, value] : req.headers) {
        std::string lower = name;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        headers.emplace(std::move(lower), value);
      }
      // GitHub's default content type is a form with the JSON in `payload`.
      const bool form =
          req.get_header_value("Content-Type").starts_with("application/x-www-form-urlencoded");
      const std::string body = form ? req.get_param_value("payload") : req.body;
      sendReply(res,
                gitopsWebhook(headers, body, options.gitopsWebhookSecret, options.gitopsRefresh));
      return;
    }
    case Endpoint::kEvents: {
      auto q = parseEventsQuery(req.params);
      if (!q) {
        sendReply(res, ObjectService::error(q.error()));
        return;
      }
      sendReply(res, service->events(*q));
      return;
    }
  }
}

void ApiServer::Impl::handleMetrics(httplib::Response& res) {
  MetricsPage page;
  if (auto s = appendObjectMetrics(store, page); !s) {
    sendReply(res, ObjectService::error(503, ErrorCode::kUnavailable,
                                        "state store: " + s.error().message));
    return;
  }
  hub->appendEventCounts(page);
  auto& requestsTotal = page.family("ramp_api_requests_total", MetricType::kCounter,
                                    "API requests answered, by status class.", {"code"});
  for (int c = 1; c <= 5; ++c) {
    requestsTotal.add({std::to_string(c) + "xx"}, requests[c].load());
  }
  page.family("ramp_api_watch_streams", MetricType::kGauge, "Open watch streams.")
      .add({}, static_cast<int64_t>(hub->streams()));
  page.family("ramp_api_watch_cutoffs_total", MetricType::kCounter,
              "Watch streams cut off because the client was too slow.")
      .add({}, hub->cutoffs());
  if (tokens) {
    page.family("ramp_api_tokens_reloads_total", MetricType::kCounter,
                "Times the changed tokens file was re-read.")
        .add({}, tokens->reloads());
    page.family("ramp_api_tokens_reload_errors_total", MetricType::kCounter,
                "Times a changed tokens file could not be used (the previous tokens stayed in "
                "force).")
        .add({}, tokens->reloadErrors());
    page.family("ramp_api_tokens_file_valid", MetricType::kGauge,
                "1 when the tokens in force are the tokens file's current content, 0 when its "
                "newest version could not be used.")
        .add({}, tokens->lastError().empty() ? 1 : 0);
  }
  appendProcessMetrics(page);
  if (options.appendMetrics) options.appendMetrics(page);
  std::string out = page.text();
  // A page the writer found fault with (a name declared twice, …) still serves what is sound;
  // the faults are named in comments, which a scrape ignores and tests look for.
  for (const std::string& e : page.errors()) out += "# ramp: metrics page error: " + e + "\n";
  res.set_content(out, "text/plain; version=0.0.4; charset=utf-8");
}

namespace {

// One watch stream's state, owned by its content provider.
struct Stream {
  WatchQuery query;
  WatchFilter filter;
  std::shared_ptr<WatchSubscriber> sub;
  WatchCursor cursor;
  bool started = false;
  // Versions of the objects sent in the initial list: queued changes no newer are skipped.
  std::map<store::ObjectKey, int64_t> listed;
};

bool writeFrame(httplib::DataSink& sink, const WatchCursor& cursor, const std::string& text) {
  std::string id = "id: " + formatCursor(cursor) + "\n";
  return sink.write(id.data(), id.size()) && sink.write(text.data(), text.size());
}

bool writeError(httplib::DataSink& sink, int status, const char* reason,
                const std::string& message) {
  ApiErrorBody e{status, reason, message, {}};
  std::string text = "event: ERROR\ndata: " + encodeError(e) + "\n\n";
  return sink.write(text.data(), text.size());
}

}  // namespace

void ApiServer::Impl::handleWatch(const httplib::Request& req, httplib::Response& res) {
  auto q = parseWatchQuery(req.params, req.get_header_value("Last-Event-ID"));
  if (!q) {
    sendReply(res, ObjectService::error(q.error()));
    return;
  }
  auto stream = std::make_shared<Stream>();
  stream->query = *q;
  stream->filter = WatchFilter{q->resource, q->namespace_, q->name, q->events};
  watchStarted.fetch_add(1);
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  WatchHub* hubPtr = hub.get();
  store::StateStore* storePtr = &store;
  Duration heartbeat = options.heartbeat;
  res.set_chunked_content_provider(
      "text/event-stream",
      [stream, hubPtr, storePtr, heartbeat](size_t, httplib::DataSink& sink) -> bool {
        Stream& s = *stream;
        if (!s.started) {
          s.started = true;
          WatchCursor at;
          s.sub = hubPtr->subscribe(s.filter, &at);
          std::string hello = "retry: 1000\n\n";
          if (!sink.write(hello.data(), hello.size())) return false;
          if (s.query.from) {
            // Catch up from the client's position through the store's change log.
            s.cursor = *s.query.from;
            int64_t rev = s.cursor.revision;
            // At least one call, so a position ahead of the store is refused too.
            for (bool first = true; first || rev < at.revision; first = false) {
              auto page = storePtr->changesSince(rev, 500);
              if (!page) {
                if (page.error().code == ErrorCode::kFailedPrecondition) {
                  writeError(sink, 410, "expired",
                             "resourceVersion " + std::to_string(s.cursor.revision) +
                                 " is too old or unknown (" + page.error().message +
                                 "): list the objects again and watch from the list's "
                                 "resourceVersion");
                } else {
                  writeError(sink, 503, "unavailable", "state store: " + page.error().message);
                }
                return false;
              }
              if (page->empty()) break;
              for (const store::Change& c : *page) {
                rev = c.revision;
                s.cursor.revision = c.revision;
                if (!s.filter.matches(c.key)) continue;
                if (!writeFrame(sink, s.cursor, WatchHub::changeFrameText(c))) return false;
              }
            }
            s.cursor.revision = std::max(s.cursor.revision, rev);
            if (s.cursor.eventId < 0 || !s.filter.events) {
              s.cursor.eventId = at.eventId;
            } else {
              int64_t ev = s.cursor.eventId;
              while (ev < at.eventId) {
                auto page = storePtr->listEvents({std::nullopt, ev, 500});
                if (!page || page->empty()) break;
                for (const store::Event& e : *page) {
                  ev = e.id;
                  s.cursor.eventId = e.id;
                  if (!s.filter.matches(e.object)) continue;
                  if (!writeFrame(sink, s.cursor, WatchHub::eventFrameText(e))) return false;
                }
              }
            }
          } else {
            // No position: the current objects first, then their changes.
            s.cursor = at;
            int64_t minRev = -1;
            for (const Resource& r : resources()) {
              if (s.filter.resource != nullptr && s.filter.resource != &r) continue;
              auto list = storePtr->list(r.kindName, r.clusterScoped ? "" : s.filter.namespace_);
              if (!list) {
                writeError(sink, 503, "unavailable", "state store: " + list.error().message);
                return false;
              }
              minRev = minRev < 0 ? list->revision : std::min(minRev, list->revision);
              for (const store::StoredObject& o : list->items) {
                if (!s.filter.matches(o.key)) continue;
                s.listed[o.key] = o.version;
                store::Change c{o.version, store::ChangeType::kPut, o.key, o.json};
                WatchCursor cur{std::max(minRev, at.revision), at.eventId};
                if (!writeFrame(sink, cur, WatchHub::changeFrameText(c))) return false;
              }
            }
            s.cursor.revision = std::max(at.revision, minRev);
          }
          std::string sync = "event: SYNC\ndata: {\"resourceVersion\":\"" +
                             std::to_string(s.cursor.revision) + "\"}\n\n";
          if (!writeFrame(sink, s.cursor, sync)) return false;
          return true;
        }
        std::vector<WatchFrame> frames;
        WatchSubscriber::State state = s.sub->wait(heartbeat, &frames);
        for (const WatchFrame& f : frames) {
          if (f.isEvent) {
            if (f.eventId <= s.cursor.eventId) continue;
          } else {
            if (f.revision <= s.cursor.revision) continue;
            if (!s.listed.empty()) {
              auto it = s.listed.find(f.key);
              if (it != s.listed.end() && f.revision <= it->second) continue;
            }
          }
          s.cursor.revision = std::max(s.cursor.revision, f.revision);
          s.cursor.eventId = std::max(s.cursor.eventId, f.eventId);
          if (!writeFrame(sink, s.cursor, *f.text)) return false;
        }
        if (state == WatchSubscriber::State::kOverflowed) {
          writeError(sink, 410, "too_slow",
                     "the client read too slowly and this stream was cut off; reconnect with "
                     "Last-Event-ID " +
                         formatCursor(s.cursor) + " to resume");
          return false;
        }
        if (state == WatchSubscriber::State::kClosed) {
          writeError(sink, 503, "shutting_down", "the server is stopping; reconnect to resume");
          sink.done();
          return true;
        }
        if (frames.empty()) {
          static const std::string kBeat = ": heartbeat\n\n";
          if (!sink.write(kBeat.data(), kBeat.size())) return false;
        }
        return true;
      },
      [stream, hubPtr](bool) {
        if (stream->sub) hubPtr->unsubscribe(stream->sub);
      });
}

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ApiServer::~ApiServer() { stop(); }

Result<std::unique_ptr<ApiServer>> ApiServer::start(store::StateStore& store, Clock& clock,
                                                    ApiOptions options) {
  auto listen = parseListen(options.listen);
  if (!listen) return std::unexpected(listen.error());
  auto impl = std::make_unique<Impl>(store, clock, std::move(options));
  ApiOptions& o = impl->options;
  impl->listen = *listen;
  if (o.tokensFile.empty()) {
    if (!listen->loopback) {
      return makeError(ErrorCode::kInvalidArgument,
                       "refusing to listen on " + o.listen +
                           " without authentication: give --tokens FILE, or listen on a "
                           "loopback address (127.0.0.1)");
    }
  } else {
    auto tokens = TokensFile::open(o.tokensFile, clock, o.tokensCheckInterval, o.log);
    if (!tokens) return std::unexpected(tokens.error());
    impl->tokens = std::move(*tokens);
  }
  if (o.tlsCert.empty() != o.tlsKey.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "TLS needs both a certificate and a key (--tls-cert and --tls-key)");
  }
  if (!o.tlsCert.empty()) {
    auto ssl = std::make_unique<httplib::SSLServer>(o.tlsCert.c_str(), o.tlsKey.c_str());
    if (!ssl->is_valid()) {
      return makeError(ErrorCode::kUnavailable,
                       "cannot load the TLS certificate " + o.tlsCert + " and key " + o.tlsKey);
    }
    impl->server = std::move(ssl);
    impl->tls = true;
  } else {
    impl->server = std::make_unique<httplib::Server>();
  }
  impl->service = std::make_unique<ObjectService>(store, clock, o.revisions, o.runChecks,
                                                  o.replicas, o.readLog);
  impl->hub = std::make_unique<WatchHub>(store, o.watchBufferEvents, Duration(500));
  if (auto s = impl->hub->start(); !s) return std::unexpected(s.error());

  ::signal(SIGPIPE, SIG_IGN);
  httplib::Server& srv = *impl->server;
  size_t maxConnections = o.maxConnections;
  srv.new_task_queue = [maxConnections] { return new ElasticTaskQueue(maxConnections); };
  srv.set_payload_max_length(o.maxBodyBytes);
  srv.set_keep_alive_max_count(100000);
  srv.set_keep_alive_timeout(30);
  srv.set_read_timeout(30);
  srv.set_write_timeout(10);
  srv.set_tcp_nodelay(true);
  Impl* self = impl.get();
  auto handler = [self](const httplib::Request& req, httplib::Response& res) {
    self->handle(req, res);
  };
  srv.set_pre_routing_handler([self](const httplib::Request& req, httplib::Response& res) {
    return self->preRoute(req, res) ? httplib::Server::HandlerResponse::Handled
                                    : httplib::Server::HandlerResponse::Unhandled;
  });
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a second server binds the
  // same port and takes half of the connections.
  srv.set_socket_options([self](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    self->listenFd = sock;
  });
  srv.Get(".*", handler);
  srv.Post(".*", handler);
  srv.Put(".*", handler);
  srv.Delete(".*", handler);
  srv.Patch(".*", handler);
  srv.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    ErrorCode code = res.status == 413 ? ErrorCode::kInvalidArgument : ErrorCode::kNotFound;
    std::string msg = res.status == 413 ? "request body too large"
                      : res.status == 404
                          ? "no endpoint " + req.path.substr(0, 200) + " (see docs/api.md)"
                          : "request failed";
    ApiErrorBody e{res.status, std::string(errorCodeName(code)), msg, {}};
    if (res.status == 413) e.reason = "payload_too_large";
    res.set_content(encodeError(e), "application/json");
  });
  srv.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = std::string("internal error: ") + e.what();
        } catch (...) {
        }
        ApiErrorBody e{500, "internal", what, {}};
        res.status = 500;
        res.set_content(encodeError(e), "application/json");
      });
  srv.set_logger([self](const httplib::Request&, const httplib::Response& res) {
    int c = res.status / 100;
    if (c >= 1 && c <= 5) self->requests[c].fetch_add(1, std::memory_order_relaxed);
  });

  int port = listen->port;
  if (port == 0) {
    port = srv.bind_to_any_port(listen->host);
    if (port <= 0) {
      return makeError(ErrorCode::kUnavailable,
                       "cannot listen on " + o.listen + ": " + bindFailure(*listen));
    }
  } else if (!srv.bind_to_port(listen->host, port)) {
    return makeError(ErrorCode::kUnavailable,
                     "cannot listen on " + o.listen + ": " + bindFailure(*listen));
  }
  // httplib listens with a backlog of 5, which drops connections under a burst: raise it to the
  // system's maximum (listen() again on a listening socket only changes its backlog).
  if (impl->listenFd >= 0) ::listen(impl->listenFd, SOMAXCONN);
  impl->port = port;
  impl->thread = std::thread([self] { self->server->listen_after_bind(); });
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

int ApiServer::port() const { return impl_->port; }

std::string ApiServer::address() const {
  std::string host = impl_->listen.host;
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(impl_->tls ? "https" : "http") + "://" + host + ":" +
         std::to_string(impl_->port);
}

std::string ApiServer::startupNotice() const {
  std::string s = "api listening on " + address();
  if (impl_->tokens) {
    s += " (bearer tokens: " + std::to_string(impl_->tokens->size()) + ", dashboard at /)";
  } else {
    s += " (no tokens file: authentication off, loopback only; dashboard at /)";
  }
  return s;
}

void ApiServer::stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  impl_->hub->stop();  // ends watch streams, so their threads return
  impl_->server->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace ramp::api
